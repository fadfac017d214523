import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runWithCodeCache } from '../code-cache.js';

/**
 * What each bin (dist/<bin>.cjs) is: it runs its bundle (dist/<bin>.bundle.cjs) with a code
 * cache (see code-cache.ts), as Node would run it. The bundle's import() of dist/lazy/ files
 * arrives here as __import: code compiled by node:vm cannot import() by itself.
 */
export function launch(bundle: string): void {
  // The young generation stays at its first size instead of growing to 2 x 16 MB: a run keeps
  // its files in memory at once, and at 200 services the growth was a fifth of its peak memory
  // (105 -> 88 MB), for no measurable time. (Node has no option for it a bin could pass.)
  setFlagsFromString('--semi-space-growth-factor=1');
  const filename = fileURLToPath(new URL(bundle, import.meta.url));
  const module = { exports: {} };
  runWithCodeCache(filename, {
    exports: module.exports,
    require: createRequire(filename),
    module,
    __filename: filename,
    __dirname: dirname(filename),
    __import: (specifier: string) => import(new URL(specifier, pathToFileURL(filename)).href),
  });
}
