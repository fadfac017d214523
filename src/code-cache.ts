import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

/** The free variables of a bundle (dist/<bin>.bundle.cjs): a CommonJS module's, and __import (bin/launch.ts). */
export const BUNDLE_SCOPE = ['exports', 'require', 'module', '__filename', '__dirname', '__import'];
/** Those of dist/templates.precompiled.cjs. */
export const TEMPLATES_SCOPE = ['exports'];

/**
 * How scripts/build.js writes a file that runs here: its first line (a comment naming the build),
 * then the code as a function of `names`. Compiled as it is, not copied into a wrapper here: a
 * copy of the bundle and the templates (400 KB) is not allocated on every run.
 */
export function asFunctionOf(names: string[], firstLine: string, code: string): string {
  return `${firstLine}\n${opening(names)}${code}\n})`;
}

const opening = (names: string[]) => `(function (${names.join(', ')}) {`;

/** Set (on globalThis: the launcher and the bundle each have this module) by a run that changed V8's flags. */
export const V8_FLAGS_CHANGED = Symbol.for('create-infra-stack: V8 flags changed');

/**
 * Runs a CommonJS file of dist/ as a function of `scope` (its free variables: exports,
 * require, ...), with a V8 code cache beside it (`<file>.v8-cache`), as Node 22's
 * module.enableCompileCache does for modules. Compiling the bundle, the precompiled templates
 * and the functions a run calls on first use is ~13 ms of a plain create on Node 20.
 *
 * The cache's first line names the file's first line (scripts/build.js writes the file's hash
 * there), the Node version, and a CRC-32 of the cache itself: another build or Node is simply
 * compiled again, and so is a damaged cache (V8 checks only a cache's header and length, and
 * would run flipped bytes as code). It is written at exit by a run that had none that fit, so
 * it holds what that run compiled too, and renamed into place, so a run never reads half of one.
 * Where the package folder is read-only, runs go without.
 */
export function runWithCodeCache(path: string, scope: Record<string, unknown>): void {
  const source = functionSource(path, scope);
  const stamp = `${source.slice(0, source.indexOf('\n'))} ${process.version} ${process.arch}`;
  const header = (payload: Buffer) => `${stamp} crc32=${crc32(payload).toString(16)}\n`;
  const cachePath = `${path}.v8-cache`;
  let cachedData: Buffer | undefined;
  try {
    const bytes = readFileSync(cachePath);
    const payload = bytes.subarray(bytes.indexOf(0x0a) + 1);
    if (bytes.subarray(0, bytes.length - payload.length).toString('latin1') === header(payload)) cachedData = payload;
  } catch {
    // none yet
  }
  const script = new Script(source, { filename: path, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      // V8 keys a cache to its flags: one made after a run changed them would not fit the next run.
      if ((globalThis as Record<symbol, unknown>)[V8_FLAGS_CHANGED]) return;
      const temp = `${cachePath}.${process.pid}`;
      let fd: number | undefined;
      try {
        // Opened first: where the package is read-only, the cache is never serialised for nothing.
        fd = openSync(temp, 'wx', 0o644);
        const payload = script.createCachedData();
        writeFileSync(fd, Buffer.concat([Buffer.from(header(payload), 'latin1'), payload]));
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

/** A file written by asFunctionOf(the names of `scope`), run without a code cache (tests, from source). */
export function runFunctionFile(path: string, scope: Record<string, unknown>): void {
  (new Script(functionSource(path, scope), { filename: path }).runInThisContext() as (...values: unknown[]) => void)(...Object.values(scope));
}

function functionSource(path: string, scope: Record<string, unknown>): string {
  const source = readFileSync(path, 'utf8');
  const names = Object.keys(scope);
  if (!source.startsWith(opening(names), source.indexOf('\n') + 1)) throw new Error(`${path} is not a function of ${names.join(', ')}: run npm run build`);
  return source;
}
