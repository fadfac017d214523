import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceHash } from './source-hash.js';

/** The package's folder, whether this runs bundled (dist/) or from source (tests). */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The package version, recorded in every manifest. */
export const VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

function findPackageRoot(dir: string): string {
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('create-infra-stack: package.json not found above ' + dir);
    dir = parent;
  }
  return dir;
}

declare const __BUILD_ID__: string | undefined;

/**
 * Which code this is: a hash of the rendering code, baked in by scripts/build.js, or computed when
 * run from src/ (tests). Part of a run's recorded inputs, beside VERSION and the templates, so a
 * build changed without a version bump never takes another build's "nothing to change" shortcut.
 */
export const BUILD_ID: string = typeof __BUILD_ID__ === 'string' ? __BUILD_ID__ : sourceHash(PACKAGE_ROOT);

/** Running the bundle in dist/ (false from source: tests). */
export const BUNDLED = typeof __BUILD_ID__ === 'string';
