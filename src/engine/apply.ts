import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlanEntry } from './plan.js';

/**
 * The file operations apply uses; tests pass one that fails on purpose. Synchronous: a run
 * writes a few dozen small files one after another, and awaiting each operation on the
 * thread pool made apply mostly waiting.
 */
export interface ApplyFs {
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, content: string, options: { mode: number }): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string): unknown;
  rmdirSync(path: string): void;
  chmodSync(path: string, mode: number): void;
  statSync(path: string): { mode: number };
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
export function apply(root: string, ops: Operation[], fs: ApplyFs = nodeFs): void {
  const undo: (() => void)[] = [];
  try {
    for (const op of ops) {
      const target = join(root, op.path);
      const before = readOrUndefined(fs, target);
      if (op.kind === 'delete') {
        fs.unlinkSync(target);
      } else {
        for (const dir of missingDirs(fs, dirname(target))) {
          fs.mkdirSync(dir);
          undo.push(() => fs.rmdirSync(dir));
        }
        atomicWrite(fs, target, op.content, op.mode);
      }
      undo.push(() => (before ? atomicWrite(fs, target, before.content, before.mode) : fs.unlinkSync(target)));
    }
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // Keep restoring the rest: one stuck file must not leave the others half-written.
      }
    }
    throw error;
  }
}

function atomicWrite(fs: ApplyFs, target: string, content: string, mode: number): void {
  const temp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content, { mode });
  try {
    fs.renameSync(temp, target);
    fs.chmodSync(target, mode);
  } catch (error) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // already gone
    }
    throw error;
  }
}

function readOrUndefined(fs: ApplyFs, path: string): { content: string; mode: number } | undefined {
  try {
    const { mode } = fs.statSync(path);
    return { content: fs.readFileSync(path, 'utf8'), mode: mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Directories from the first missing ancestor down to `dir`, so rollback can remove exactly those. */
function missingDirs(fs: ApplyFs, dir: string): string[] {
  const missing: string[] = [];
  let current = dir;
  while (!exists(fs, current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return missing;
}

function exists(fs: ApplyFs, path: string): boolean {
  try {
    fs.statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
