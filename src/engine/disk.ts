import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Current content of each path under `root` (undefined when absent): the input plan compares against. */
export async function readDisk(root: string, paths: Iterable<string>): Promise<Map<string, string | undefined>> {
  const entries = await Promise.all(
    [...new Set(paths)].map(async (path): Promise<[string, string | undefined]> => [path, await readText(join(root, path))]),
  );
  return new Map(entries);
}

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Names in a directory, or null when it does not exist. */
export async function listDir(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
