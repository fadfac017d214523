import * as nodeFs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PlanEntry } from './plan.js';

/** The file operations apply uses; tests pass one that fails on purpose. */
export interface ApplyFs {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  writeFile(path: string, content: string, options: { mode: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  stat(path: string): Promise<{ mode: number }>;
}

export type Operation = { kind: 'write'; path: string; content: string; mode: number } | { kind: 'delete'; path: string };

/** The writes and deletes a plan asks for, with the manifest write last. */
export function operations(entries: PlanEntry[], manifest?: PlanEntry['write']): Operation[] {
  const ops: Operation[] = [];
  for (const e of entries) {
    if (e.write) ops.push({ kind: 'write', ...e.write });
    else if (e.action === 'DELETE') ops.push({ kind: 'delete', path: e.path });
  }
  if (manifest) ops.push({ kind: 'write', ...manifest });
  return ops;
}

/**
 * Applies operations under `root` as one transaction: each write goes to a temp file and is
 * renamed into place; if any operation fails, every file already touched is restored and
 * every directory created is removed, so the directory is left as it was. Then it rethrows.
 */
export async function apply(root: string, ops: Operation[], fs: ApplyFs = nodeFs): Promise<void> {
  const undo: (() => Promise<void>)[] = [];
  try {
    for (const op of ops) {
      const target = join(root, op.path);
      const before = await readOrUndefined(fs, target);
      if (op.kind === 'delete') {
        await fs.unlink(target);
      } else {
        for (const dir of await missingDirs(fs, dirname(target))) {
          await fs.mkdir(dir);
          undo.push(() => fs.rmdir(dir));
        }
        await atomicWrite(fs, target, op.content, op.mode);
      }
      undo.push(() => (before ? atomicWrite(fs, target, before.content, before.mode) : fs.unlink(target)));
    }
  } catch (error) {
    for (const step of undo.reverse()) {
      await step().catch(() => undefined);
    }
    throw error;
  }
}

async function atomicWrite(fs: ApplyFs, target: string, content: string, mode: number): Promise<void> {
  const temp = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temp, content, { mode });
  try {
    await fs.rename(temp, target);
    await fs.chmod(target, mode);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function readOrUndefined(fs: ApplyFs, path: string): Promise<{ content: string; mode: number } | undefined> {
  try {
    const { mode } = await fs.stat(path);
    return { content: await fs.readFile(path, 'utf8'), mode: mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Directories from the first missing ancestor down to `dir`, so rollback can remove exactly those. */
async function missingDirs(fs: ApplyFs, dir: string): Promise<string[]> {
  const missing: string[] = [];
  let current = dir;
  while (!(await exists(fs, current))) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return missing;
}

async function exists(fs: ApplyFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
