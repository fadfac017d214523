import { chmodSync, closeSync, cpSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TreeFile } from '../engine/tree.js';
import { selfSignedCertificate } from './self-signed.js';

/** The generated script that makes the development certificate (re-run it to renew). */
export const DEV_CERT_SCRIPT = 'scripts/dev-certs.sh';

export interface DevCertificate {
  /** Puts the certificate into the new repository (once openssl is done); resolves with a one-line report. */
  install(dir: string): Promise<string>;
  /** Stops openssl if it still runs and removes its scratch folder (the run stops before `install`). */
  discard(): void;
}

/**
 * The certificate of a new repository, as its scripts/dev-certs.sh (rendered, not what was on
 * disk before, as with --force) makes it: the built-in script's certificate is made here with
 * node:crypto (self-signed.ts), a team's own script is run. None when the script is skipped.
 */
export function startDevCertificate(script: TreeFile | undefined, domain: string): DevCertificate {
  if (script === undefined) {
    return { install: async () => `certs: ${DEV_CERT_SCRIPT} is skipped, so no certificate was made`, discard: () => {} };
  }
  // `format`: rendered by a template from outside the package, a team's.
  return script.format ? runScript(script.content) : builtIn(domain);
}

/** What the built-in script writes: certs/live/<domain>/fullchain.pem and privkey.pem. */
function builtIn(domain: string): DevCertificate {
  return {
    async install(dir) {
      const certs = join(dir, 'certs');
      const live = join(certs, 'live', domain);
      let ours = false; // certs/ is this run's: removed if the certificate is not complete
      try {
        // lstat: a symbolic link there is not written through.
        if (lstatSync(certs, { throwIfNoEntry: false })) return `certs: ${certs} already exists, left as it is`;
        const { certificate, privateKey } = selfSignedCertificate(domain);
        ours = true;
        mkdirSync(live, { recursive: true });
        for (const [name, text] of [['fullchain.pem', certificate], ['privkey.pem', privateKey]]) {
          writeFileSync(join(live, name), text, { flag: 'wx' });
          // 0644, as the script's chmod: the gateway's user in the container (nginx without
          // DAC_OVERRIDE, or kong) reads it from the bind mount. A key for this machine only.
          chmodSync(join(live, name), 0o644);
        }
      } catch (error) {
        if (ours) rmSync(certs, { recursive: true, force: true });
        return `certs: the certificate could not be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run ${DEV_CERT_SCRIPT} before docker compose up`;
      }
      return `certs: a self-signed certificate in certs/ (${DEV_CERT_SCRIPT}; git-ignored)`;
    },
    discard: () => {},
  };
}

/**
 * Starts a team's scripts/dev-certs.sh while the files are still being written, so it is not on
 * the critical path: the script runs from a scratch folder laid out as the repository (it writes
 * to `$(dirname "$0")/../certs`), and `install` moves certs/ into place. node:child_process
 * rather than execa, and loaded here: most creates never start a process before git.
 */
function runScript(script: string): DevCertificate {
  const { spawn } = process.getBuiltinModule('node:child_process');
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
        return `certs: ${DEV_CERT_SCRIPT} made certs/ (git-ignored)`;
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
