import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_PATH } from '../engine/manifest.js';
import { SNAPSHOT_PATH } from '../engine/snapshot.js';
import type { Action, Plan } from '../engine/plan.js';
import { SECRET_FILES } from '../model/secret-files.js';
import type { StackConfig } from '../model/types.js';
import { printable } from './output.js';

/**
 * Whether the file on disk is now exactly what the generator rendered (written, or already so).
 * `create --force` runs nothing else: a script or package.json that was there before is the
 * person's, and running it would execute code nobody reviewed.
 */
function holdsGenerated(plan: Plan, path: string): boolean {
  const action = plan.entries.find((e) => e.path === path)?.action;
  return action !== undefined && GENERATED_CONTENT.has(action);
}

const GENERATED_CONTENT = new Set<Action>(['CREATE', 'UPDATE', 'UNCHANGED']);

/** The files that now hold what the generator wrote, and its bookkeeping: what a first commit in a folder of the person's takes. */
export function writtenFiles(plan: Plan): string[] {
  return [...plan.entries.filter((e) => GENERATED_CONTENT.has(e.action)).map((e) => e.path), MANIFEST_PATH, SNAPSHOT_PATH];
}

/** `npm install` in each service whose package.json the generator wrote; a failure is reported, not fatal. */
export async function installServices(dir: string, config: StackConfig, plan: Plan): Promise<string[]> {
  const { execa } = await import('execa');
  const steps: string[] = [];
  for (const service of config.services) {
    const cwd = join(dir, 'services', service.name);
    const manifest = `services/${service.name}/package.json`;
    if (!existsSync(join(dir, manifest))) continue;
    if (!holdsGenerated(plan, manifest)) {
      steps.push(`npm install: not run in services/${service.name}: its package.json is not the generated one (review it, then run npm install yourself)`);
      continue;
    }
    const result = await execa('npm', ['install', '--no-audit', '--no-fund'], { cwd, reject: false });
    steps.push(
      result.exitCode === 0
        ? `npm install: services/${service.name}`
        : `npm install failed in services/${service.name} (run it yourself): ${result.stderr.split('\n')[0]}`,
    );
  }
  return steps;
}

export interface GitStep {
  text: string;
  /** Secrets or private keys were not git-ignored, so nothing was committed: the run fails (exit 1). */
  secretsExposed: boolean;
}

/**
 * `git init` and a first commit; a missing git or identity is reported, not fatal. The commit is
 * made only if git ignores every secret and private key in the folder: a .gitignore the person
 * kept (create --force) or skipped may lack the lines, and a first commit is forever.
 * `only`: commit just these files (create --force: the person's own files are theirs to add).
 */
export async function initGit(dir: string, only: string[] | null): Promise<GitStep> {
  const { execa } = await import('execa');
  const step = (text: string, secretsExposed = false): GitStep => ({ text, secretsExposed });
  if (existsSync(join(dir, '.git'))) return step('git: already a repository, nothing committed');
  const run = (args: string[]) => execa('git', args, { cwd: dir, reject: false });
  const init = await run(['init', '-q', '-b', 'main']);
  if (init.exitCode !== 0) return step(`git init failed: ${String(init.stderr || init.message).split('\n')[0]}`);

  // What `git add -A` would take (every file the ignore rules leave, at any depth), and which of
  // them are secrets: git matches both, by the folder's ignore rules and by ours.
  const [untracked, secret] = await Promise.all([
    run(['ls-files', '-z', '--others', '--exclude-standard']),
    run(['ls-files', '-z', '--others', '--ignored', ...SECRET_FILES.flatMap((pattern) => ['--exclude', pattern])]),
  ]);
  const failed = [untracked, secret].find((r) => r.exitCode !== 0);
  if (failed) {
    return step(`git: initialised; nothing committed: git ls-files failed (${String(failed.stderr).split('\n')[0]})`, true);
  }
  const secrets = new Set(String(secret.stdout).split('\0'));
  const exposed = String(untracked.stdout).split('\0').filter((path) => path && secrets.has(path));
  if (exposed.length > 0) {
    const list = exposed.slice(0, 3).map((p) => printable(p)).join(', ') + (exposed.length > 3 ? `, and ${exposed.length - 3} more` : '');
    return step(`git: initialised, nothing committed: ${list} would be committed (not git-ignored): add them to .gitignore, then commit`, true);
  }
  if (only === null) await run(['add', '-A']);
  // Named one by one, an ignored file would make git add refuse them all: secrets stay out anyway.
  else await run(['add', '--', ...only.filter((path) => !secrets.has(path) && existsSync(join(dir, path)))]);
  const commit = await run(['commit', '-q', '-m', 'Initial infrastructure from create-infra-stack']);
  const made = only === null ? 'git: initialised, first commit made' : 'git: initialised, first commit made of the files create wrote (yours are not added)';
  return step(
    commit.exitCode === 0 ? made : `git: initialised; the first commit failed (${String(commit.stderr).split('\n')[0]}): commit yourself`,
  );
}
