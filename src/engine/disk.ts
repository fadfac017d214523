import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../model/errors.js';

// The one place that touches the repository. Every path is relative to the repository root and
// is walked component by component with lstat: a symbolic link anywhere on the way is refused,
// never followed, and the file itself is opened with O_NOFOLLOW. Only regular files are read,
// and only up to MAX_FILE_BYTES, so a link or entry aimed at /dev/zero or a FIFO cannot make a
// run hang or eat memory. (Node has no openat(), so a process racing the run inside the
// repository is out of reach; links committed to or planted in the repository are not.)
//
// Synchronous on purpose: a run reads a few dozen small files, and thread-pool round trips
// would cost more than the reads.

/**
 * `root`/`rel` for a path the engine checked (relative, no `.`, `..` or empty segment): what
 * path.join gives, without its normalising walk over both (~10 µs a call until it is optimised,
 * a few calls per file).
 */
export function repoPath(root: string, rel: string): string {
  return root.endsWith('/') ? root + rel : `${root}/${rel}`;
}

/** Larger files are not configuration: a run refuses to read them. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The file operations the engine writes with; tests pass one that fails (or "dies") on purpose. */
export type EngineFs = Pick<
  typeof import('node:fs'),
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'fsync'
  | 'closeSync'
  | 'fchmodSync'
  | 'fchownSync'
  | 'renameSync'
  | 'unlinkSync'
  | 'linkSync'
  | 'mkdirSync'
  | 'rmdirSync'
  | 'lstatSync'
  | 'readSync'
  | 'fstatSync'
>;

export const realFs: EngineFs = {
  openSync,
  writeSync,
  fsyncSync,
  fsync,
  closeSync,
  fchmodSync,
  fchownSync,
  renameSync,
  unlinkSync,
  linkSync,
  mkdirSync,
  rmdirSync,
  lstatSync,
  readSync,
  fstatSync,
};

/**
 * Why `path` is not a path the engine may touch, or null when it is one: relative, POSIX,
 * without `.`, `..` or empty segments, and without control characters.
 */
export function unsafePathReason(path: string): string | null {
  if (typeof path !== 'string' || path === '') return 'an empty path';
  if (path.length > 1024) return 'longer than 1024 characters';
  if (path.startsWith('/')) return 'an absolute path';
  if (/[\x00-\x1f\x7f\\]/.test(path)) return 'a path with a control character or backslash';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'a path with an empty, . or .. segment';
  return null;
}

/** Throws when `path` is not a safe relative path (see unsafePathReason). */
export function assertRelative(path: string, source: string): void {
  const reason = unsafePathReason(path);
  if (reason) throw new UsageError(`${source}: ${JSON.stringify(path)} is ${reason}; only paths inside the repository are allowed.`);
}

/**
 * Why `path` is not a file the generator may own, or null: it must be a safe relative path,
 * and never inside .git/ (a hook would run code) or the generator's own .infra-stack/.
 */
export function unsafeOutputReason(path: string): string | null {
  const unsafe = unsafePathReason(path);
  if (unsafe) return unsafe;
  const segments = path.toLowerCase().split('/');
  if (segments.includes('.git') || segments[0] === '.infra-stack') return 'inside .git/ or .infra-stack/, where templates may not write';
  return null;
}

/** Throws when a generated file's path is not one the generator may own (see unsafeOutputReason). */
export function assertOutputPath(path: string, source: string): void {
  const unsafe = unsafeOutputReason(path);
  if (unsafe) throw new UsageError(`${source}: ${JSON.stringify(path)} is ${unsafe}.`);
}

/**
 * An error as the file system gives it (a file where a folder belongs, a folder where a file
 * belongs): the CLI prints its path and what to do, exit 1.
 */
export function fsError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

function linkRefused(shown: string): UsageError {
  return new UsageError(
    `${shown} is a symbolic link: infra-stack never follows links inside the repository. Replace it with a regular file or folder, or list it under skip: in infra-stack.yaml.`,
  );
}

/**
 * Checks every folder on the way from `root` to `rel`: each must be a real folder. Returns
 * false when one is missing (so the file is too). `checked`: folders this batch of reads
 * already found to be real folders, not lstat'ed again (a thousand files share a few folders).
 */
function parentsExist(root: string, rel: string, fs: EngineFs = realFs, checked?: Set<string>): boolean {
  const parts = rel.split('/');
  let current = root;
  for (let i = 0; i < parts.length - 1; i++) {
    current = repoPath(current, parts[i]);
    if (checked?.has(current)) continue;
    let st: Stats | undefined;
    try {
      // No exception for a missing entry: a new repository has hundreds of them.
      st = fs.lstatSync(current, { throwIfNoEntry: false });
      if (!st) return false;
    } catch (error) {
      // ENOTDIR: the repository itself is a file; ENAMETOOLONG: no such path can exist. Either
      // way nothing is there, and writing it is what fails, naming the path.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return false;
      throw error;
    }
    const shown = parts.slice(0, i + 1).join('/');
    if (st.isSymbolicLink()) throw linkRefused(shown);
    if (!st.isDirectory()) throw fsError('ENOTDIR', join(root, rel));
    checked?.add(current);
  }
  return true;
}

/**
 * The bytes of `rel` inside the repository, or undefined when it does not exist. A symbolic
 * link on the way, a folder, a device, a FIFO or a file over MAX_FILE_BYTES is refused.
 */
export function readRepoFile(root: string, rel: string, checked?: Set<string>): Buffer | undefined {
  assertRelative(rel, 'path');
  if (!parentsExist(root, rel, realFs, checked)) return undefined;
  const path = repoPath(root, rel);
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: the repository itself is a file (as in parentsExist): nothing is in it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw linkRefused(rel);
    if (code === 'ENXIO' || code === 'EOPNOTSUPP') throw new UsageError(`${rel} is not a regular file (a socket or device): refused.`);
    throw error;
  }
  try {
    return readOpen(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** A repository file as text; YAML and JSON must be UTF-8. */
export function readRepoText(root: string, rel: string): string | undefined {
  const bytes = readRepoFile(root, rel);
  if (bytes === undefined) return undefined;
  const text = utf8(bytes);
  if (text === undefined) throw new UsageError(`${rel} is not UTF-8 text; save it as UTF-8.`);
  return text;
}

// One decoder for every file: making one per call costs more than decoding (a run reads a thousand files).
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as text when they are valid UTF-8, else undefined (never a lossy decode). */
export function utf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A file a person named on the command line (a preset): links are followed, since the person
 * chose the path, but only a regular file of at most MAX_FILE_BYTES is read.
 */
export function readText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // A read through a descriptor names no path; the person needs it (a folder where a file belongs).
    (error as NodeJS.ErrnoException).path ??= path;
    throw error;
  }
  try {
    return readOpen(fd, path).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads an open file: a regular file only, at most MAX_FILE_BYTES. */
export function readOpen(fd: number, shown: string): Buffer {
  const st = fstatSync(fd);
  if (st.isDirectory()) throw fsError('EISDIR', shown);
  if (!st.isFile()) throw new UsageError(`${shown} is not a regular file (a device, FIFO or socket): refused.`);
  if (st.size > MAX_FILE_BYTES) throw new UsageError(`${shown} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB: not a file infra-stack reads.`);
  const buffer = Buffer.allocUnsafe(st.size);
  let read = 0;
  while (read < st.size) {
    const n = readSync(fd, buffer, read, st.size - read, read);
    if (n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}

/**
 * Current content of each path under `root` (undefined when absent): the input plan compares
 * against. UTF-8 text as a string (a lossless round trip), any other bytes as they are.
 * `rendered`: what the run rendered for a path; a file holding exactly that is given as that
 * very string, so a re-run keeps one copy of each unchanged file, not two (at 200 services:
 * 10 MB less to hold, page in and copy through the garbage collector: add service 0.43 -> 0.39 s).
 */
export function readDisk(root: string, paths: Iterable<string>, rendered: (path: string) => string | undefined = () => undefined): Map<string, string | Buffer | undefined> {
  // One run's reads, microseconds apart: a folder found real once is not lstat'ed for each of
  // its files (the same window a single file's walk already has, since Node has no openat()).
  const checked = new Set<string>();
  return new Map(
    [...new Set(paths)].map((path) => {
      const bytes = readRepoFile(root, path, checked);
      const text = bytes && utf8(bytes);
      const same = rendered(path);
      return [path, text !== undefined && text === same ? same : (text ?? bytes)];
    }),
  );
}

/** The files that are UTF-8 text; other bytes are left out (a line merge would corrupt them). */
export function textView(disk: Map<string, string | Buffer | undefined>): Map<string, string | undefined> {
  return new Map([...disk].map(([path, content]) => [path, typeof content === 'string' ? content : undefined]));
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

/** What is at `rel` without following a link: 'missing', 'file', 'dir' or 'other'. */
export function kindOf(root: string, rel: string, fs: EngineFs = realFs, checked?: Set<string>): 'missing' | 'file' | 'dir' | 'other' {
  if (!parentsExist(root, rel, fs, checked)) return 'missing';
  const st = fs.lstatSync(repoPath(root, rel), { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (st.isSymbolicLink()) throw linkRefused(rel);
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
}

/**
 * The folders of `rel` (a file path) that do not exist yet, outermost first. `folderKind`: how a folder
 * is looked at (a run writing a thousand files asks once per folder, not once per file).
 */
export function missingParents(root: string, rel: string, fs: EngineFs = realFs, folderKind = (dir: string) => kindOf(root, dir, fs)): string[] {
  const parts = rel.split('/').slice(0, -1);
  const missing: string[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const kind = missing.length > 0 ? 'missing' : folderKind(dir);
    if (kind === 'missing') missing.push(dir);
    else if (kind !== 'dir') throw fsError('ENOTDIR', join(root, rel));
  }
  return missing;
}

export type Owner = { uid: number; gid: number };

/**
 * Run as root in someone else's repository, new files and folders belong to the repository's
 * owner (the owner of its root folder), as if that person had run the command.
 */
export function repoOwner(root: string): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const st = statSync(root);
  return st.uid === 0 && st.gid === 0 ? undefined : { uid: st.uid, gid: st.gid };
}

export function makeDir(fs: EngineFs, dir: string, owner: Owner | undefined): void {
  fs.mkdirSync(dir, 0o755);
  if (owner) {
    const fd = fs.openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fs.fchownSync(fd, owner.uid, owner.gid);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Removes a folder if it is empty; false when it is not (or is gone): then it is not ours to remove. */
export function tryRmdir(dir: string, fs: EngineFs = realFs): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}
