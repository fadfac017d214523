import { spawn } from 'node:child_process';
import { closeSync, cpSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The generated script that makes the development certificate (re-run it to renew). */
export const DEV_CERT_SCRIPT = 'scripts/dev-certs.sh';

export interface DevCertificate {
  /** Moves the certificate into the new repository once openssl is done; resolves with a one-line report. */
  install(dir: string): Promise<string>;
  /** Stops openssl if it still runs and removes its scratch folder (the run stops before `install`). */
  discard(): void;
}

/**
 * Starts the generated scripts/dev-certs.sh (its text, as rendered: never a script that was on
 * disk before, as with --force) while the files are still being written, so openssl is not on
 * the critical path: the script runs from a scratch folder laid out as the repository (it writes
 * to `$(dirname "$0")/../certs`), and `install` moves certs/ into place. node:child_process
 * rather than execa: this runs on every create.
 */
export function startDevCertificate(script: string | undefined): DevCertificate {
  if (script === undefined) {
    return { install: async () => `certs: ${DEV_CERT_SCRIPT} is skipped, so no certificate was made`, discard: () => {} };
  }
  const scratch = mkdtempSync(join(tmpdir(), 'infra-stack-certs-'));
  mkdirSync(join(scratch, 'scripts'));
  // Only stderr is read, and only when it fails: into a file, as a pipe and its stream cost more to set up.
  const stderrPath = join(scratch, 'stderr');
  const stderrFd = openSync(stderrPath, 'w');
  // A process group of its own (detached), so that discard stops openssl too, not only the shell.
  const child = spawn('sh', ['-c', script, join(scratch, DEV_CERT_SCRIPT)], { cwd: scratch, stdio: ['ignore', 'ignore', stderrFd], detached: true });
  closeSync(stderrFd);
  const done = new Promise<string | undefined>((resolve) =>
    child.once('close', (code) => resolve(code === 0 ? undefined : `exit ${code}`)).once('error', (e) => resolve(e.message)),
  );
  // The scratch folder as a run that moved certs/ away leaves it, removed entry by entry: rmSync's
  // walk costs ~0.6 ms more. Anything else there (a failed run's certs/): all of it.
  const cleanup = () => {
    try {
      unlinkSync(stderrPath);
      rmdirSync(join(scratch, 'scripts'));
      rmdirSync(scratch);
    } catch {
      rmSync(scratch, { recursive: true, force: true });
    }
  };
  return {
    async install(dir) {
      const failure = await done;
      try {
        if (failure) {
          const stderr = readFileSync(stderrPath, 'utf8');
          return `certs: ${DEV_CERT_SCRIPT} failed (${stderr.split('\n')[0] || failure}): run it before docker compose up`;
        }
        // lstat: a symbolic link there is not written through.
        if (lstatSync(join(dir, 'certs'), { throwIfNoEntry: false })) return `certs: ${dir}/certs already exists, left as it is`;
        try {
          renameSync(join(scratch, 'certs'), join(dir, 'certs'));
        } catch {
          cpSync(join(scratch, 'certs'), join(dir, 'certs'), { recursive: true }); // another filesystem
        }
        return `certs: a self-signed certificate in certs/ (${DEV_CERT_SCRIPT}; git-ignored)`;
      } finally {
        cleanup();
      }
    },
    discard() {
      if (child.exitCode !== null) return cleanup();
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      // Removed once the shell is gone, not before: its mkdir or openssl could still be writing
      // there. (A run that exits at once, on Ctrl-C, leaves it in the temp folder.)
      void done.then(cleanup).catch(() => {});
    },
  };
}
