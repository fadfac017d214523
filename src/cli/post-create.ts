import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../model/types.js';

/** `npm install` in each service that has a package.json; a failure is reported, not fatal. */
export async function installServices(dir: string, config: StackConfig): Promise<string[]> {
  const { execa } = await import('execa');
  const steps: string[] = [];
  for (const service of config.services) {
    const cwd = join(dir, 'services', service.name);
    if (!existsSync(join(cwd, 'package.json'))) continue;
    const result = await execa('npm', ['install', '--no-audit', '--no-fund'], { cwd, reject: false });
    steps.push(
      result.exitCode === 0
        ? `npm install: services/${service.name}`
        : `npm install failed in services/${service.name} (run it yourself): ${result.stderr.split('\n')[0]}`,
    );
  }
  return steps;
}

/** `git init` and a first commit; a missing git or identity is reported, not fatal. */
export async function initGit(dir: string): Promise<string> {
  const { execa } = await import('execa');
  if (existsSync(join(dir, '.git'))) return 'git: already a repository, nothing committed';
  const run = (args: string[]) => execa('git', args, { cwd: dir, reject: false });
  const init = await run(['init', '-q', '-b', 'main']);
  if (init.exitCode !== 0) return `git init failed: ${String(init.stderr || init.message).split('\n')[0]}`;
  await run(['add', '-A']);
  const commit = await run(['commit', '-q', '-m', 'Initial infrastructure from create-infra-stack']);
  return commit.exitCode === 0
    ? 'git: initialised, first commit made'
    : `git: initialised; the first commit failed (${String(commit.stderr).split('\n')[0]}): commit yourself`;
}
