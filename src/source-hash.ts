import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folders whose code renders a stack: a change there is a different generator. */
const RENDERING_CODE = ['src', 'generators'];

/**
 * A hash of the code that renders (src/, generators/ under `root`). scripts/build.js bakes it into
 * the bundle as BUILD_ID; a run from source computes it the same way, so both name the same code.
 */
export function sourceHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    const entries = readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else hash.update(`\0${path}\0`).update(readFileSync(join(root, path)));
    }
  };
  RENDERING_CODE.forEach(walk);
  return hash.digest('base64url').slice(0, 22);
}
