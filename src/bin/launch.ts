import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runWithCodeCache } from '../code-cache.js';

/**
 * What each bin (dist/<bin>.cjs) is: it runs its bundle (dist/<bin>.bundle.cjs) with a code
 * cache (see code-cache.ts), as Node would run it. The bundle's import() of dist/lazy/ files
 * arrives here as __import: code compiled by node:vm cannot import() by itself.
 */
export function launch(bundle: string): void {
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
