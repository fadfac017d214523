import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Everything below `dir`, byte for byte: each entry's type, mode, and content (or link target).
 * Compare two of these to prove a run wrote nothing. Symbolic links are recorded, never followed.
 */
export function dirState(dir: string): Map<string, string> {
  const state = new Map<string, string>();
  const walk = (relative: string) => {
    const path = join(dir, relative);
    const stat = lstatSync(path);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isSymbolicLink()) state.set(relative, `link ${readlinkSync(path)}`);
    else if (stat.isDirectory()) {
      state.set(relative, `dir ${mode}`);
      for (const name of readdirSync(path).sort()) walk(relative ? join(relative, name) : name);
    } else state.set(relative, `file ${mode} ${readFileSync(path).toString('base64')}`);
  };
  walk('');
  return state;
}
