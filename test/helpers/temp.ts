import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Call at a test file's top level: `tempDir(prefix)` makes a folder, `removeLater(dir)` adopts one
 * made elsewhere (such as writeStack's); the file's afterAll removes them all.
 */
export function tempDirs(): { tempDir: (prefix?: string) => string; removeLater: (dir: string) => string } {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const removeLater = (dir: string) => {
    dirs.push(dir);
    return dir;
  };
  return { tempDir: (prefix = 'infra-stack-test-') => removeLater(mkdtempSync(join(tmpdir(), prefix))), removeLater };
}
