import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// Synchronous on purpose: a run reads a few dozen small files, and thread-pool round trips
// would cost more than the reads.

/** Current content of each path under `root` (undefined when absent): the input plan compares against. */
export function readDisk(root: string, paths: Iterable<string>): Map<string, string | undefined> {
  return new Map([...new Set(paths)].map((path) => [path, readText(join(root, path))]));
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // A read through a descriptor names no path; the person needs it (a folder where a file belongs).
    (error as NodeJS.ErrnoException).path ??= path;
    throw error;
  }
}

/** Names in a directory, or null when it does not exist. */
export function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
