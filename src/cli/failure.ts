import { InterruptedError, OwnError } from '../model/errors.js';
import { printable } from './output.js';

/** Set to 1 to get the stack trace of a failure (for a bug report) instead of one line. */
const DEBUG_VARIABLE = 'INFRA_STACK_DEBUG';

interface Failure {
  exitCode: number;
  message: string;
}

/**
 * What the filesystem said, as a person can act on it. Exit 1: the input was fine, the
 * machine was not (permissions, a full disk, something in the way).
 */
const SYSTEM_ERRORS: Record<string, string> = {
  EACCES: 'permission denied: run as a user who may write there, or fix its owner and mode',
  EPERM: 'operation not permitted: run as a user who may write there, or fix its owner and mode',
  EROFS: 'the file system is read-only: choose a writable directory',
  ENOSPC: 'no space left on the device: free some space and run again',
  EDQUOT: 'disk quota exceeded: free some space and run again',
  ENAMETOOLONG: 'a file name is too long for this file system: use a shorter domain, name or directory',
  ENOTDIR: 'a part of this path is a file, not a folder: move that file away and run again',
  EISDIR: 'this is a folder where a file belongs: move it away and run again',
  EEXIST: 'something is already there (a file or a symbolic link, perhaps dangling): move it away and run again',
  ELOOP: 'too many symbolic links (a loop?): remove the link and run again',
  ENOENT: 'no such file or folder: it disappeared during the run; run again',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run again',
  EBUSY: 'the file is busy: close what uses it and run again',
  EIO: 'an input/output error from the disk: check the device',
};

/** An error as one line and an exit code: 2 bad input, 130 interrupted, 1 everything else. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof Error && error.name === 'ExitPromptError') {
    // The prompt's line is still open: start a new one.
    return { exitCode: 130, message: '\nInterrupted: nothing was written.' };
  }
  // Our own errors carry their exit code and a message for people; an interrupt is no error: its
  // message says what is there, on the line after the ^C.
  if (error instanceof InterruptedError) return { exitCode: error.exitCode, message: `\n${printable(error.message, true)}` };
  if (error instanceof OwnError) return { exitCode: error.exitCode, message: `error: ${printable(error.message, true)}` };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && SYSTEM_ERRORS[code]) {
    const { path, dest } = error as NodeJS.ErrnoException & { dest?: string };
    const where = [path, dest].filter(Boolean).map((p) => printable(String(p))).join(' -> ');
    return { exitCode: 1, message: `error: ${where ? `${where}: ` : ''}${SYSTEM_ERRORS[code]} (${code})` };
  }
  const text = error instanceof Error ? error.message : String(error);
  const first = printable(text.split('\n')[0] ?? '');
  return { exitCode: 1, message: `error: ${first} (set ${DEBUG_VARIABLE}=1 for the stack trace)` };
}

export function debugging(): boolean {
  const value = process.env[DEBUG_VARIABLE];
  return value !== undefined && value !== '' && value !== '0';
}
