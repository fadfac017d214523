import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';

/**
 * Runs a CommonJS file of dist/ as a function of `scope` (its free variables: exports,
 * require, ...), with a V8 code cache beside it (`<file>.v8-cache`), as Node 22's
 * module.enableCompileCache does for modules. Compiling the bundle, the precompiled templates
 * and the functions a run calls on first use is ~13 ms of a plain create on Node 20.
 *
 * The cache starts with the file's first line (scripts/build.js writes the file's hash there)
 * and the Node version: another build or Node is simply compiled again (V8 also refuses a cache
 * of another version or flags). It is written at exit by a run that had none that fit, so it
 * holds what that run compiled too, and renamed into place, so a run never reads half of one.
 * Where the package folder is read-only, runs go without.
 */
export function runWithCodeCache(path: string, scope: Record<string, unknown>): void {
  const source = readFileSync(path, 'utf8');
  const stamp = Buffer.from(`${source.slice(0, source.indexOf('\n'))} ${process.version} ${process.arch}\n`);
  const cachePath = `${path}.v8-cache`;
  let cachedData: Buffer | undefined;
  try {
    const bytes = readFileSync(cachePath);
    if (bytes.subarray(0, stamp.length).equals(stamp)) cachedData = bytes.subarray(stamp.length);
  } catch {
    // none yet
  }
  const script = new Script(`(function (${Object.keys(scope).join(', ')}) {${source}\n})`, { filename: path, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      const temp = `${cachePath}.${process.pid}`;
      let fd: number | undefined;
      try {
        // Opened first: where the package is read-only, the cache is never serialised for nothing.
        fd = openSync(temp, 'wx', 0o644);
        writeFileSync(fd, Buffer.concat([stamp, script.createCachedData()]));
        closeSync(fd);
        fd = undefined;
        renameSync(temp, cachePath);
      } catch {
        if (fd !== undefined) closeSync(fd);
        rmSync(temp, { force: true });
      }
    });
  }
  (script.runInThisContext() as (...values: unknown[]) => void)(...Object.values(scope));
}
