import { resolveEnv } from '../model/env.js';
import { isSkipped } from '../model/stack-model.js';
import type { StackConfig } from '../model/types.js';
import { utf8 } from './disk.js';
import { hashContent, MANIFEST_PATH, manifestText, type Manifest } from './manifest.js';
import { fileHash, type Tree, type TreeFile } from './tree.js';

export type Action = 'CREATE' | 'UPDATE' | 'MERGED' | 'UNCHANGED' | 'KEPT' | 'CONFLICT' | 'DELETE';

export interface PlanEntry {
  path: string;
  action: Action;
  /** Why, for the person reading the plan (empty when the action says it all). */
  reason: string;
  /** What gets written: the file itself, or for CONFLICT the `.infra-stack-new` beside it. */
  write?: { path: string; content: string | Buffer; mode: number };
}

export interface Plan {
  entries: PlanEntry[];
  /** The manifest after apply. */
  manifest: Manifest;
  /** What the previous manifest recorded: path -> hash of what the generator last wrote. */
  previousFiles: Record<string, string>;
}

/** Where a CONFLICT's new version is written, next to the person's file. */
export const NEW_SUFFIX = '.infra-stack-new';

/** What plan reads from disk: the bytes of each file (text in tests), undefined when absent. */
type Disk = Map<string, Buffer | string | undefined>;

/**
 * Compares the rendered tree with the disk and the manifest. Pure: `disk` holds the current
 * content of every path in the tree or the manifest (undefined when absent).
 *
 * Content is compared as bytes, so a person's file that is not UTF-8 is never decoded and
 * re-encoded. A file whose lines all end in CRLF (a Windows checkout) is compared with its
 * line endings normalised, and written back with CRLF.
 */
export function plan(
  tree: Tree,
  disk: Disk,
  previous: Manifest,
  version: string,
  answers?: StackConfig,
): Plan {
  const entries: PlanEntry[] = [];
  const files: Record<string, string> = {};

  for (const path of [...tree.keys()].sort()) {
    const file = tree.get(path)!;
    const { current, crlf } = lfView(disk.get(path));
    const mode = file.mode ?? 0o644;
    const write = (content: string | Buffer) => ({ path, content: crlf ? toCrlf(content) : content, mode });
    const entry = (action: Action, reason = '', w?: PlanEntry['write']) => entries.push({ path, action, reason, write: w });
    // infra-stack.yaml comes back as the person's text, CRLF included: compared as LF too.
    const same = current !== undefined && sameText(current, crlf ? file.content.replaceAll('\r\n', '\n') : file.content);

    if (file.ownership === 'env' || file.ownership === 'lines') {
      const added = current === undefined ? null : appendMissing(Buffer.from(current), file);
      if (current === undefined) entry('CREATE', file.ownership === 'env' ? 'fresh random secrets' : '', write(file.content));
      else if (added) entry('UPDATE', `adds ${added.keys.join(', ')}`, write(added.content));
      else entry('UNCHANGED');
      continue;
    }
    if (file.ownership === 'answers') {
      if (current === undefined) entry('CREATE', '', write(file.content));
      else if (same) entry('UNCHANGED');
      else entry('UPDATE', '', write(file.content));
      continue;
    }

    const recorded = previous.files[path];
    const next = fileHash(file);
    if (current === undefined) {
      entry('CREATE', '', write(file.content));
      files[path] = next;
    } else if (same) {
      entry('UNCHANGED');
      files[path] = next;
    } else if (recorded !== undefined && hashContent(current) === recorded) {
      entry('UPDATE', '', write(file.content));
      files[path] = next;
    } else if (recorded === next) {
      entry('KEPT', 'edited by you; the generator has nothing new for it');
      files[path] = recorded;
    } else {
      const reason = recorded === undefined ? 'exists and was not written by create-infra-stack' : 'edited by you';
      entry('CONFLICT', `${reason}; its new version goes to ${path}${NEW_SUFFIX}`, {
        path: path + NEW_SUFFIX,
        content: file.content,
        mode,
      });
      if (recorded !== undefined) files[path] = recorded;
    }
  }

  for (const path of Object.keys(previous.files).sort()) {
    if (tree.has(path)) continue;
    // Skipped files are not even read: they are the person's, whatever they are now.
    if (answers && isSkipped(answers, path)) {
      entries.push({ path, action: 'KEPT', reason: 'skipped in infra-stack.yaml: yours from now on' });
      continue;
    }
    const { current } = lfView(disk.get(path));
    if (current === undefined) continue;
    if (hashContent(current) === previous.files[path]) entries.push({ path, action: 'DELETE', reason: 'no longer generated' });
    else entries.push({ path, action: 'KEPT', reason: 'no longer generated, but edited by you: left in place' });
  }

  const manifest: Manifest = { ...previous, version, ...(answers ? { answers } : {}), files };
  return { entries, manifest, previousFiles: previous.files };
}

/** The manifest write that goes with a plan, unless nothing changes. */
export function manifestWrite(p: Plan, previousText: string | undefined): PlanEntry['write'] | undefined {
  const text = manifestText(p.manifest);
  return text === previousText ? undefined : { path: MANIFEST_PATH, content: text, mode: 0o644 };
}

export function hasChanges(p: Plan): boolean {
  return p.entries.some((e) => e.action !== 'UNCHANGED' && e.action !== 'KEPT');
}

export function hasConflicts(p: Plan): boolean {
  return p.entries.some((e) => e.action === 'CONFLICT');
}

/**
 * Lines of the rendered file missing from the person's (`.env`: keys; `.gitignore`: patterns),
 * appended with their comments after the person's bytes, which stay as they are. A derived
 * .env value (DATABASE_URL) is built from the values the file already holds.
 */
function appendMissing(current: Buffer, file: TreeFile): { keys: string[]; content: Buffer } | null {
  const text = utf8(current) ?? current.toString('latin1');
  const env = file.ownership === 'env';
  const keyOf = (line: string) => (env ? /^([A-Z0-9_]+)=/.exec(line)?.[1] : line.trim() && !line.startsWith('#') ? line.trim() : undefined);
  const have = new Set(env ? envKeys(text) : text.split(/\r?\n/).map((l) => l.trim()));
  const values = env && file.env ? resolveEnv(file.env.groups, file.env.secrets, envValues(text)) : undefined;
  const lines = file.content.split('\n');
  const keys: string[] = [];
  const added: string[] = [];
  lines.forEach((line, i) => {
    const key = keyOf(line);
    if (!key || have.has(key)) return;
    keys.push(key);
    const comment = lines[i - 1]?.startsWith('# ') ? [lines[i - 1]] : [];
    added.push(...comment, values?.has(key) ? `${key}=${values.get(key)}` : line);
  });
  if (keys.length === 0) return null;
  const separator = current.length === 0 || current.at(-1) === 0x0a ? '' : '\n';
  const tail = `${separator}\n# Added by infra-stack\n${added.join('\n')}\n`;
  return { keys, content: Buffer.concat([current, Buffer.from(tail)]) };
}

/** KEY=value pairs of a .env (quotes removed), for values derived from them. */
function envValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) values[m[1]] = /^(["']).*\1$/.test(m[2]) ? m[2].slice(1, -1) : m[2];
  }
  return values;
}

/** Content equal to a text's UTF-8, compared without a second buffer (a run reads thousands of files). */
function sameText(content: string | Buffer, text: string): boolean {
  if (typeof content === 'string') return content === text;
  return content.length === Buffer.byteLength(text) && content.toString('utf8') === text;
}

/**
 * What a file says, with CRLF read as LF when every line ends in CRLF (a Windows checkout):
 * the form the generator renders and the manifest hashes.
 */
function lfView(content: Buffer | string | undefined): { current: Buffer | string | undefined; crlf: boolean } {
  const hasCr = typeof content === 'string' ? content.includes('\r') : content?.includes(0x0d);
  if (content === undefined || !hasCr) return { current: content, crlf: false };
  // latin1 maps each byte to one character and back: a round trip that keeps any bytes.
  const text = typeof content === 'string' ? content : content.toString('latin1');
  const crlf = text.includes('\r\n') && !/(^|[^\r])\n/.test(text);
  if (!crlf) return { current: content, crlf };
  const lf = text.replaceAll('\r\n', '\n');
  return { current: typeof content === 'string' ? lf : Buffer.from(lf, 'latin1'), crlf };
}

function toCrlf(content: string | Buffer): Buffer {
  const text = Buffer.isBuffer(content) ? content.toString('latin1') : Buffer.from(content).toString('latin1');
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

export function envKeys(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((k): k is string => k !== undefined);
}
