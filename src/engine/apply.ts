import { constants, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { RunError, UsageError } from '../model/errors.js';
import { assertRelative, fsError, kindOf, makeDir, missingParents, readRepoFile, realFs, repoOwner, repoPath, tryRmdir, type EngineFs, type Owner } from './disk.js';
import { JOURNAL_PATH, removeIfThere, rollBack, STATE_DIR, syncAll, tempName, writeAll, writeJournal, type Journal } from './journal.js';
import { hashContent } from './manifest.js';
import type { PlanEntry } from './plan.js';
import { contentHash } from './tree.js';

export type Operation = (
  | { kind: 'write'; path: string; content: string | Buffer; mode: number }
  | { kind: 'delete'; path: string }
) & {
  /** Hash of what the plan saw at `path` (null: absent); a different file now aborts the run. */
  expect?: string | null;
};

/** The writes and deletes a plan asks for. */
export function operations(entries: PlanEntry[]): Operation[] {
  const ops: Operation[] = [];
  for (const e of entries) {
    if (e.write) ops.push({ kind: 'write', ...e.write });
    else if (e.action === 'DELETE') ops.push({ kind: 'delete', path: e.path });
  }
  return ops;
}

/** Each operation on a path the plan read carries the hash of what it saw, re-checked at commit. */
export function expectSeen(ops: Operation[], seen: Map<string, string | Buffer | undefined>): Operation[] {
  return ops.map((op) => {
    if (!seen.has(op.path)) return op;
    const content = seen.get(op.path);
    return { ...op, expect: content === undefined ? null : hashContent(content) };
  });
}

export interface ApplyOptions {
  /** For tests that fail (or "kill" the run) at a chosen operation. */
  fs?: EngineFs;
  /**
   * fsync every file and folder. Default: when an existing file is replaced or deleted (a
   * person's data is at risk); a brand-new repository is written without per-file syncs.
   */
  durable?: boolean;
}

/**
 * Applies operations under `root` as one transaction:
 * 1. the journal (.infra-stack/journal.json) lists every temp, backup and new folder;
 * 2. every new file is staged beside its target under an unpredictable name (O_EXCL,
 *    O_NOFOLLOW, final mode and owner), and every file replaced or deleted gets a hard-link
 *    backup; then the journal and the staged files are synced, all at once;
 * 3. renames and deletes; the folders are synced: committed (every file of the journal is in
 *    its new state, which the next run finishes instead of undoing, should this one die now);
 * 4. backups and journal are removed, then the folders the deletes emptied.
 * (`durable` runs sync; the syncs are issued together where the order allows: two rounds.)
 * A failure before the commit undoes everything (and a kill is undone by the next run, see
 * journal.recover), so the directory holds the old state or the new one, never a mix.
 */
export async function apply(root: string, ops: Operation[], options: ApplyOptions = {}): Promise<void> {
  if (ops.length === 0) return;
  const fs = options.fs ?? realFs;
  for (const op of ops) assertRelative(op.path, 'write');
  // Each folder is looked at once in this run, not once per file in it (a thousand files share a
  // few hundred): `checked` holds the real folders found (and those this run makes).
  const checked = new Set<string>();
  const folders = new Map<string, ReturnType<typeof kindOf>>();
  const folderKind = (dir: string) => folders.get(dir) ?? folders.set(dir, kindOf(root, dir, realFs, checked)).get(dir)!;
  assertUnchanged(root, ops, checked);
  const durable = options.durable ?? ops.some((op) => kindOf(root, op.path, realFs, checked) !== 'missing');
  const owner = repoOwner(root);

  const stateDirNew = kindOf(root, STATE_DIR) === 'missing';
  if (stateDirNew) makeDir(fs, repoPath(root, STATE_DIR), owner);
  const dirs = [...new Set(ops.flatMap((op) => missingParents(root, op.path, realFs, folderKind)))];
  const journal: Journal = {
    state: 'staging',
    dirs,
    files: ops.map((op) => ({
      path: op.path,
      temp: op.kind === 'write' ? tempName(op.path) : null,
      backup: tempName(op.path),
      hash: op.kind === 'write' ? contentHash(op.content) : null,
    })),
  };
  try {
    // Synced with the staged files below: before the first rename, not before the first temp.
    writeJournal(root, journal, fs);
  } catch (error) {
    try {
      removeIfThere(fs, repoPath(root, JOURNAL_PATH));
      if (stateDirNew) tryRmdir(repoPath(root, STATE_DIR), fs);
    } catch {
      // the next run removes a journal of nothing staged
    }
    throw writeFailure(error, repoPath(root, JOURNAL_PATH), true);
  }

  let current = STATE_DIR;
  const backedUp: string[] = [];
  try {
    for (const dir of dirs) {
      makeDir(fs, repoPath(root, (current = dir)), owner);
      checked.add(repoPath(root, dir));
    }
    ops.forEach((op, i) => {
      current = op.path;
      if (stage(root, op, journal.files[i], { fs, owner, checked })) backedUp.push(journal.files[i].backup);
    });
    if (durable) {
      // The journal and every staged file are durable before the first rename, in one round.
      const staged = new Map(ops.flatMap((op, i) => (journal.files[i].temp ? [[repoPath(root, journal.files[i].temp!), op.path]] : [])));
      staged.set(repoPath(root, JOURNAL_PATH), JOURNAL_PATH).set(repoPath(root, STATE_DIR), STATE_DIR);
      await syncAll(fs, [...staged.keys()]).catch((error: NodeJS.ErrnoException) => {
        current = staged.get(error.path ?? '') ?? '.'; // the file it was for, never our temp name
        throw error;
      });
    }
    ops.forEach((op, i) => {
      current = op.path;
      if (op.kind === 'write') fs.renameSync(repoPath(root, journal.files[i].temp!), repoPath(root, op.path));
      else fs.unlinkSync(repoPath(root, op.path));
    });
    current = '.';
    // Each folder that gained or lost a name: the files' folders, and the parents of new folders.
    const touched = [...ops.map((op) => op.path), ...dirs].map((path) => dirname(repoPath(root, path)));
    // Once the renames are durable the run is committed: a journal whose every file is in its new
    // state is finished by the next run, not undone (journal.recover), so no mark is written.
    if (durable) await syncAll(fs, [...new Set(touched)]);
  } catch (error) {
    let undone = true;
    try {
      rollBack(root, journal, fs);
      removeIfThere(fs, repoPath(root, JOURNAL_PATH));
      if (stateDirNew) tryRmdir(repoPath(root, STATE_DIR), fs);
    } catch {
      undone = false; // the journal stays: the next run undoes what is left
    }
    throw writeFailure(error, join(root, current), undone); // join: `current` may be '.'
  }
  try {
    // Every temp was renamed into place: only the backups made are left (not a failed unlink per file).
    for (const backup of backedUp) removeIfThere(fs, repoPath(root, backup));
    // Not synced: a removal the disk loses leaves the journal of a finished run, which the next run finishes again.
    removeIfThere(fs, repoPath(root, JOURNAL_PATH));
  } catch {
    // Committed: what is left (backups) is removed by the next run, which reads the journal.
  }
  removeEmptied(fs, root, ops);
}

/**
 * Folders the deletes emptied (a removed service's), up to the repository: the mirror of the
 * folders a run makes. After the commit, since an empty folder left by a kill holds nothing.
 */
function removeEmptied(fs: EngineFs, root: string, ops: Operation[]): void {
  for (const op of ops) {
    if (op.kind !== 'delete') continue;
    for (let dir = dirname(op.path); dir !== '.'; dir = dirname(dir)) {
      if (!tryRmdir(repoPath(root, dir), fs)) break; // not empty (or gone): its parents are not empty either
    }
  }
}

/**
 * What the person is told when the file system refused a write. Undone: the error itself, naming
 * the file it was for (not our temp name), which the CLI prints as one line with what to do.
 * Not undone (the disk died under the rollback too): that, and that the next run undoes it.
 */
export function writeFailure(error: unknown, path: string, undone: boolean): Error {
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error) || !e.code || error instanceof UsageError || error instanceof RunError) return error as Error;
  if (undone) return Object.assign(e, { path, dest: undefined });
  return new RunError(`${path}: ${e.code} while writing, and again while undoing it; the next infra-stack run undoes what is left before anything else.`);
}

/** The plan saw each file as it was; a file changed since (an editor saved it) aborts the run. */
function assertUnchanged(root: string, ops: Operation[], checked: Set<string>): void {
  for (const op of ops) {
    if (op.expect === undefined) continue;
    const bytes = readRepoFile(root, op.path, checked);
    const now = bytes === undefined ? null : hashContent(bytes);
    if (now !== op.expect) {
      throw new RunError(`${op.path} changed while infra-stack was running; nothing was written. Run the command again.`);
    }
  }
}

/** Stages one operation; true when the file existed and was backed up. */
function stage(
  root: string,
  op: Operation,
  file: Journal['files'][number],
  { fs, owner, checked }: { fs: EngineFs; owner: Owner | undefined; checked: Set<string> },
): boolean {
  const target = repoPath(root, op.path);
  let existing: Stats | undefined;
  if (kindOf(root, op.path, fs, checked) !== 'missing') existing = fs.lstatSync(target);
  if (existing?.isDirectory()) throw fsError('EISDIR', target);
  if (existing && !existing.isFile()) throw new UsageError(`${target} is not a regular file: refused.`);
  if (existing) backUp(fs, root, op.path, file.backup, existing);
  if (op.kind === 'delete') return Boolean(existing);

  // A person's mode and owner are kept; a new file gets the generator's mode (secrets: 0600) exactly.
  const mode = existing ? existing.mode & 0o7777 : op.mode;
  const fileOwner = existing && owner ? { uid: existing.uid, gid: existing.gid } : owner;
  const fd = fs.openSync(repoPath(root, file.temp!), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o777);
  try {
    writeAll(fs, fd, op.content);
    if (fileOwner) fs.fchownSync(fd, fileOwner.uid, fileOwner.gid);
    // open gave it `mode` less the umask: set exactly when that took something (or a chown may have).
    if (fileOwner || mode !== (mode & 0o777 & ~umask())) fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
  return Boolean(existing);
}

let processUmask: number | undefined;

/**
 * The process's umask, read once: process.umask() reads it by setting it, which a worker thread may
 * not do (there: every bit masked, so every mode is set by fchmod).
 */
function umask(): number {
  if (processUmask === undefined) {
    try {
      processUmask = process.umask();
    } catch {
      processUmask = 0o777;
    }
  }
  return processUmask;
}

/** A hard link keeps the old file's bytes, mode and owner for free; a copy where links fail. */
function backUp(fs: EngineFs, root: string, path: string, backup: string, st: Stats): void {
  try {
    fs.linkSync(repoPath(root, path), repoPath(root, backup));
    return;
  } catch (error) {
    if (!['EPERM', 'EXDEV', 'ENOTSUP', 'EMLINK', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  const bytes = readRepoFile(root, path)!;
  const fd = fs.openSync(repoPath(root, backup), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeAll(fs, fd, bytes);
    fs.fchmodSync(fd, st.mode & 0o7777);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
