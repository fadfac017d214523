import { V8_FLAGS_CHANGED } from '../code-cache.js';
import type { PipelineResult } from '../engine/pipeline.js';
import { hasChanges, hasConflicts } from '../engine/plan.js';
import { debugging, describeFailure } from './failure.js';
import { countActions, printable, printPlan, terminalPrinter } from './output.js';
import { writeStdout } from './terminal.js';

/**
 * At 200 services a run holds a thousand files in memory: V8's young generation is kept at its
 * first size instead of growing to 2 x 16 MB (peak 105 -> 88 MB, for no measurable time). Only
 * for a large stack: node:v8 costs ~1 ms to load, and a small run has nothing to save. Called as
 * soon as the answers are known, before anything large is read or rendered. (Node has no option
 * for it a bin could pass.)
 */
export function sizeHeapFor(serviceCount: number): void {
  if (serviceCount < LARGE_STACK) return;
  process.getBuiltinModule('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
  (globalThis as Record<symbol, unknown>)[V8_FLAGS_CHANGED] = true; // its code cache would not fit a small run
}
const LARGE_STACK = 20;

export interface RunReport {
  command: string;
  dir: string;
  dryRun: boolean;
  json: boolean;
  /** What happened after the files were written (git, npm install). */
  steps: string[];
  /** A step refused to finish for safety (a secret not git-ignored): exit 1. */
  failed?: boolean;
}

/** Prints the plan (or JSON) and returns the exit code: 1 when a conflict was left for the person. */
export function finishRun(result: PipelineResult, report: RunReport): number {
  const conflicts = hasConflicts(result.plan);
  // A dry run exits as the real run would.
  const exitCode = conflicts || report.failed ? 1 : 0;
  if (report.json) {
    const json = {
      command: report.command,
      dir: report.dir,
      dryRun: report.dryRun,
      changed: hasChanges(result.plan),
      summary: countActions(result.plan),
      files: result.plan.entries.map(({ path, action, reason }) => ({ path, action, ...(reason ? { reason } : {}) })),
      // Files that hold (or would hold) conflict markers.
      conflicts: result.pending,
      steps: report.steps,
      config: result.config,
      exitCode,
    };
    writeStdout(JSON.stringify(json, null, 2) + '\n');
    return exitCode;
  }
  const p = terminalPrinter();
  printPlan(p, result.plan, report.dryRun);
  for (const step of report.steps) p.out(printable(step));
  const marked = result.plan.entries.filter((e) => e.action === 'CONFLICT' && result.pending.includes(e.path)).map((e) => e.path);
  const beside = result.plan.entries.filter((e) => e.action === 'CONFLICT' && !result.pending.includes(e.path)).map((e) => e.path);
  if (marked.length > 0) {
    const will = report.dryRun ? 'would hold' : 'holds';
    p.out(
      `Conflicts: ${marked.map((path) => printable(path)).join(', ')} ${will} git-style markers (<<<<<<< yours ... ======= ... >>>>>>> create-infra-stack) where your edits and the generator's changes overlap. Keep what you want in each, delete the marker lines, then run \`npx infra-stack check\` (it fails until they are gone).`,
    );
  }
  if (beside.length > 0) {
    const goes = report.dryRun ? 'would go' : 'went';
    p.out(`Not written by create-infra-stack, so left as they are: ${beside.map((path) => printable(path)).join(', ')}. Their new version ${goes} beside them (*.infra-stack-new): merge what you want, then delete those.`);
  }
  return exitCode;
}

/** What an interrupt does while a command has a step that must not stop halfway (see handleInterrupt). */
let interruptHandler: ((exitCode: 130 | 143) => void) | undefined;

/**
 * A command that must not stop halfway (create: the repository untouched or complete) says what
 * Ctrl-C or SIGTERM does until it calls the returned function; the handler gets the exit code
 * (130, 143) and exits itself, or notes the interrupt for the next safe point.
 */
export function handleInterrupt(handler: (exitCode: 130 | 143) => void): () => void {
  interruptHandler = handler;
  return () => {
    interruptHandler = undefined;
  };
}

/**
 * Runs a command, turning errors into one line and an exit code (2 bad input, 1 environment,
 * 130 interrupted). The stack trace only with INFRA_STACK_DEBUG=1: it is for bug reports.
 */
export async function main(command: (argv: string[]) => Promise<number>): Promise<void> {
  // A handler, not the default: the signal waits for the running synchronous step (the writes)
  // to finish, and the person gets one line and 130 (143 for SIGTERM) instead of a silent death.
  // While a child runs (git, npm) execa has its own listener, which then leaves the exit to us.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (interruptHandler) return interruptHandler(code);
      process.stderr.write('\nInterrupted.\n');
      process.exit(code);
    });
  }
  try {
    process.exitCode = await command(process.argv.slice(2));
  } catch (error) {
    const failure = describeFailure(error);
    process.stderr.write(`${failure.message}\n`);
    if (debugging()) process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    process.exitCode = failure.exitCode;
  }
}
