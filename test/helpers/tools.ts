import { execFileSync } from 'node:child_process';

/** Whether a command is on PATH. */
export function hasTool(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * For `describe.skipIf(!tool('nginx'))`: true when the tool is there. Locally a missing tool
 * skips the tests that need it (with a warning); in CI it throws, so the run fails instead.
 */
export function tool(command: string): boolean {
  if (hasTool(command)) return true;
  if (process.env.CI) throw new Error(`${command} is required in CI but is not installed (see .ci/run)`);
  console.warn(`SKIPPING tests that need ${command}: not installed (install it as .ci/run does)`);
  return false;
}

/**
 * For tests that need root (mount, chown, runuser): CI runs as root, so there a non-root run
 * fails instead of skipping; locally it skips with a warning.
 */
export function isRoot(): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.CI) throw new Error('these tests need root in CI (mount, chown, runuser); run .ci/run as root');
  console.warn('SKIPPING tests that need root (mount, chown, runuser)');
  return false;
}
