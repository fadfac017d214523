import type { PipelineResult } from '../engine/pipeline.js';
import { hasChanges, hasConflicts } from '../engine/plan.js';
import { InputError, InterruptedError, UsageError } from '../model/errors.js';
import { countActions, printPlan, terminalPrinter } from './output.js';

/** Questions can be asked only with a terminal on both ends. */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

export interface RunReport {
  command: string;
  dir: string;
  dryRun: boolean;
  json: boolean;
  /** What happened after the files were written (git, npm install). */
  steps: string[];
}

/** Prints the plan (or JSON) and returns the exit code: 1 when a conflict was left for the person. */
export function finishRun(result: PipelineResult, report: RunReport): number {
  const conflicts = hasConflicts(result.plan);
  const exitCode = conflicts && !report.dryRun ? 1 : 0;
  if (report.json) {
    const json = {
      command: report.command,
      dir: report.dir,
      dryRun: report.dryRun,
      changed: hasChanges(result.plan),
      summary: countActions(result.plan),
      files: result.plan.entries.map(({ path, action, reason }) => ({ path, action, ...(reason ? { reason } : {}) })),
      steps: report.steps,
      config: result.config,
      exitCode,
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return exitCode;
  }
  const p = terminalPrinter();
  printPlan(p, result.plan, report.dryRun);
  for (const step of report.steps) p.out(step);
  if (conflicts) {
    p.out('Some files you edited have a new version beside them (*.infra-stack-new): merge what you want, then delete those.');
  }
  return exitCode;
}

/** Runs a command, turning errors into messages and exit codes: 2 bad input, 130 interrupted. */
export async function main(command: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command(process.argv.slice(2));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      process.stderr.write('\nInterrupted: nothing was written.\n');
      process.exitCode = 130;
    } else if (error instanceof InterruptedError) {
      process.stderr.write(`\n${error.message}\n`);
      process.exitCode = 130;
    } else if (error instanceof InputError || error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    }
  }
}
