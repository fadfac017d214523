import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { stackGenerator } from '../../generators/stack.js';
import { generate } from '../../src/engine/generate.js';
import { runPipeline } from '../../src/engine/pipeline.js';
import { BUILTIN_TEMPLATES, loadTemplates } from '../../src/engine/templates.js';
import type { Tree } from '../../src/engine/tree.js';
import { defaultAnswers } from '../../src/model/defaults.js';
import { stackFileText } from '../../src/model/stack-file.js';
import type { StackConfig } from '../../src/model/types.js';
import { validateConfig, type RawConfig } from '../../src/model/validate.js';
import type { EnvGroup } from '../../src/model/env.js';
import { InputError } from '../../src/model/errors.js';
import { shortDiff } from './validators.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CREATE_BIN = join(ROOT, 'dist', 'create-infra-stack.cjs');
export const INFRA_STACK_BIN = join(ROOT, 'dist', 'infra-stack.cjs');
export const templates = loadTemplates([BUILTIN_TEMPLATES]);

/** The 8 gateway x queue x search combinations. */
export const COMBINATIONS = (['nginx', 'kong'] as const).flatMap((gateway) =>
  (['rabbitmq', 'sqs'] as const).flatMap((queue) =>
    (['meilisearch', 'opensearch'] as const).map((search) => ({ gateway, queue, search })),
  ),
);

/** A validated config: the defaults for `name`, with `overrides` on top. */
export function configOf(overrides: RawConfig = {}, name = 'demo'): StackConfig {
  return validateConfig({ ...defaultAnswers(name), ...overrides });
}

/** Deterministic secrets, so tests can compare runs. */
export function fixedSecrets(env: EnvGroup[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of env.flatMap((g) => g.vars)) if (v.secret) out[v.key] = `Test1-${v.key.toLowerCase().replaceAll('_', '-')}-secret`;
  return out;
}

/** The generator for a config, with deterministic secrets. */
const generatorOf = (config: StackConfig) =>
  stackGenerator({ templates, secrets: fixedSecrets, ask: async () => config, stackFile: stackFileText });

/** The rendered tree for a config, in memory (no disk). */
export async function renderTree(config: StackConfig, formatAll = false): Promise<Tree> {
  const { tree } = await generate(generatorOf(config), templates, false, formatAll);
  return tree;
}

/** Writes a stack for `config` into `dir` (a fresh temp dir by default) through the real pipeline. */
export async function writeStack(config: StackConfig, dir = mkdtempSync(join(tmpdir(), 'infra-stack-test-'))): Promise<string> {
  await runPipeline(generatorOf(config), templates, { dir, dryRun: false, viaPlop: false, generatorFor: generatorOf });
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bin (create-infra-stack or infra-stack) as a person would, without a terminal. */
export function runCli(bin: string, args: string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `infra-stack <args> --dir <dir>`, through the built bin. */
export const infraStack = (dir: string, ...args: string[]): CliResult => runCli(INFRA_STACK_BIN, [...args, '--dir', dir]);

export function sh(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** path -> content of every file below `dir` (a generated repo), paths relative to it. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** Files prettier would change in the built-in output for `config`, each with a short diff: none is the rule. */
export async function prettierDiffs(config: StackConfig): Promise<string[]> {
  const [raw, formatted] = await Promise.all([renderTree(config, false), renderTree(config, true)]);
  const diffs: string[] = [];
  for (const [path, file] of raw) {
    const other = formatted.get(path)?.content;
    if (other !== file.content) diffs.push(`${path}\n${other === undefined ? '(missing)' : shortDiff(file.content, other)}`);
  }
  return diffs;
}

/** The InputError `fn` throws (bad answers), or a failure when it throws none or another error. */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, none was thrown');
}
