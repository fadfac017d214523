import { lstatSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { listDir } from '../engine/disk.js';
import { recoverInterrupted } from '../engine/lock.js';
import { MANIFEST_PATH } from '../engine/manifest.js';
import { nameFromDir } from '../model/defaults.js';
import { UsageError } from '../model/errors.js';
import { printable } from './output.js';
import { askDirectory, confirmName, missingAnswers } from './prompts.js';
import { writeStdout } from './terminal.js';

/**
 * The directory to create: the argument, or asked. On a terminal a name that cannot be a project
 * name is offered as a valid one, and a non-empty directory is asked for again; without one, both
 * are errors.
 */
export async function chooseDirectory(
  arg: string | undefined,
  flags: { yes?: boolean; force?: boolean; 'dry-run'?: boolean },
  tty: boolean,
  unanswered: () => string[],
): Promise<string> {
  let dirArg = arg;
  for (;;) {
    if (dirArg === undefined) {
      if (flags.yes) dirArg = 'infra-stack-app';
      else if (tty) dirArg = await askDirectory();
      else throw missingAnswers(['directory', ...unanswered()]);
    }
    const name = basename(resolve(dirArg));
    const valid = nameFromDir(name);
    if (valid !== name) {
      const suggestion = join(dirname(dirArg), valid);
      if (!tty || flags.yes) {
        throw new UsageError(
          `"${name}" cannot be a project name (lowercase letters, digits and -, starting with a letter). Use a directory such as ${suggestion}.`,
        );
      }
      dirArg = (await confirmName(name, valid)) ? suggestion : undefined;
      if (dirArg === undefined) continue;
    }
    // A create killed in that folder is undone first, so the folder is judged as it was.
    if (!flags['dry-run']) await recoverInterrupted(resolve(dirArg));
    const taken = refuseExisting(resolve(dirArg), Boolean(flags.force));
    if (!taken) return dirArg;
    if (!tty || flags.yes) throw new UsageError(taken);
    writeStdout(`${taken}\n`);
    dirArg = undefined;
  }
}

/** What is at a path, following a symbolic link (a dangling one is named as such). */
export function pathKind(path: string): 'missing' | 'folder' | 'a file' | 'a dangling symbolic link' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'a file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return isLink(path) ? 'a dangling symbolic link' : 'missing';
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A directory this tool already made is refused (a re-run is `infra-stack update`), and so is a
 * path that is not a folder; a non-empty one without --force gives the reason to choose another,
 * for the caller to ask again or refuse.
 */
function refuseExisting(dir: string, force: boolean): string | undefined {
  const shown = printable(dir);
  const kind = pathKind(dir);
  if (kind !== 'missing' && kind !== 'folder') {
    throw new UsageError(`${shown} exists and is ${kind}, not a folder: choose another directory, or move it away.`);
  }
  const names = (listDir(dir) ?? []).map((name) => printable(name));
  if (names.length === 0) return undefined;
  if (names.includes(MANIFEST_PATH.split('/')[0])) {
    throw new UsageError(
      `${shown} already holds a stack made by create-infra-stack. Inside it, run \`npx infra-stack update\` or \`npx infra-stack add service <name>\`.`,
    );
  }
  if (force) return undefined;
  return `${shown} is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}). Choose another directory, or pass --force (files that differ are never overwritten).`;
}
