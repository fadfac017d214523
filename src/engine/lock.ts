import { closeSync, constants, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RunError, UsageError } from '../model/errors.js';
import { writeFailure } from './apply.js';
import { kindOf, makeDir, readRepoText, realFs, repoOwner, tryRmdir } from './disk.js';
import { JOURNAL_PATH, recover, STATE_DIR } from './journal.js';

const LOCK_PATH = `${STATE_DIR}/lock`;
/** How long a second run waits for the first before giving up. */
const LOCK_WAIT_MS = 5000;

interface Holder {
  pid: number;
  /** The process's start time (Linux: /proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  started: string | null;
}

/**
 * Runs `fn` holding the repository's lock (.infra-stack/lock, like git's index.lock), after
 * finishing or undoing an interrupted run. A second run waits up to LOCK_WAIT_MS, then exits 1;
 * a lock left by a process that no longer runs is taken over. A dry run takes no lock and
 * writes nothing; it only warns when an interrupted run is waiting to be undone.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, options: { dryRun: boolean }): Promise<T> {
  if (options.dryRun) {
    if (kindOf(dir, JOURNAL_PATH) === 'file') {
      process.stderr.write('infra-stack: a previous run was interrupted; the next run without --dry-run undoes it first.\n');
    }
    return fn();
  }
  let createdRoot: string | undefined;
  try {
    createdRoot = mkdirSync(dir, { recursive: true });
    const state = kindOf(dir, STATE_DIR);
    if (state === 'missing') makeDir(realFs, join(dir, STATE_DIR), repoOwner(dir));
    else if (state !== 'dir') throw new UsageError(`${STATE_DIR} is not a folder: infra-stack keeps its manifest there.`);
  } catch (error) {
    removeCreated(dir, createdRoot);
    throw writeFailure(error, dir, true);
  }
  // A run that wrote nothing leaves nothing: no empty .infra-stack/, no empty new folder. Also
  // on process.exit() (Ctrl-C between two steps), which skips `finally`.
  let locked = false;
  const release = () => {
    if (locked) unlinkSync(join(dir, LOCK_PATH));
    locked = false;
    tryRmdir(join(dir, STATE_DIR));
    removeCreated(dir, createdRoot);
  };
  process.once('exit', release);
  try {
    await acquire(dir);
    locked = true;
    const told = recover(dir);
    if (told) process.stderr.write(told + '\n');
    return await fn();
  } finally {
    process.off('exit', release);
    release();
  }
}

/** Before `create` looks at a folder: undoes a create that was killed there (under the lock). */
export async function recoverInterrupted(dir: string): Promise<void> {
  if (kindOf(dir, JOURNAL_PATH) === 'file') await withLock(dir, async () => undefined, { dryRun: false });
}

async function acquire(dir: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (tryCreate(join(dir, LOCK_PATH), JSON.stringify(self()))) return;
    const holder = readHolder(dir);
    if (holder !== undefined && !alive(holder) && breakStale(dir, holder)) continue;
    if (Date.now() >= deadline) {
      const who = holder ? `process ${holder.pid}` : 'another process';
      throw new RunError(
        `another infra-stack run (${who}) holds ${LOCK_PATH}; waited ${LOCK_WAIT_MS / 1000} s. Run again when it is done (if no run is going on, delete that file).`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** O_EXCL: exactly one process creates the file; false when it exists. */
function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeFailure(error, path, true);
  }
  try {
    writeSync(fd, content);
    closeSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw writeFailure(error, path, true);
  }
  return true;
}

/**
 * Removes a dead process's lock. Two runs may find the same stale lock: the O_EXCL breaker
 * file lets one of them check it again and remove it, so neither removes a lock just taken
 * by a live run.
 */
function breakStale(dir: string, stale: Holder): boolean {
  const breaker = join(dir, `${LOCK_PATH}.break`);
  if (!tryCreate(breaker, JSON.stringify(self()))) {
    // Another run is breaking it; a breaker older than the wait is itself left by a dead run.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > LOCK_WAIT_MS) unlinkSync(breaker);
    } catch {
      // gone meanwhile
    }
    return false;
  }
  try {
    const now = readHolder(dir);
    if (now && now.pid === stale.pid && now.started === stale.started) unlinkSync(join(dir, LOCK_PATH));
    return true;
  } finally {
    unlinkSync(breaker);
  }
}

/** The lock's holder, or undefined while it is being written (or when unreadable and fresh). */
function readHolder(dir: string): Holder | undefined {
  let text: string | undefined;
  try {
    text = readRepoText(dir, LOCK_PATH);
  } catch (error) {
    // A link or special file (committed, or planted) is no run's lock: break it (unlink never follows).
    return error instanceof UsageError ? { pid: 0, started: null } : undefined;
  }
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as Holder;
    if (Number.isInteger(h.pid) && h.pid > 0) return { pid: h.pid, started: typeof h.started === 'string' ? h.started : null };
  } catch {
    // written by a run killed between create and write: stale once older than the wait
  }
  const age = Date.now() - statSync(join(dir, LOCK_PATH)).mtimeMs;
  return age > LOCK_WAIT_MS ? { pid: 0, started: null } : undefined;
}

function self(): Holder {
  return { pid: process.pid, started: startTime(process.pid) };
}

function alive(h: Holder): boolean {
  if (h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = startTime(h.pid);
  return h.started === null || started === null || started === h.started;
}

/** Linux: a process's start time in clock ticks since boot; null elsewhere. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Removes the folders `mkdir -p` made for `dir` (from `dir` up to `first`), if still empty. */
function removeCreated(dir: string, first: string | undefined): void {
  if (first === undefined) return;
  for (let d = dir; d.length >= first.length; d = dirname(d)) {
    tryRmdir(d);
    if (d === first) break;
  }
}
