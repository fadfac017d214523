import { hashContent, MANIFEST_PATH, manifestText, type Manifest } from './manifest.js';
import type { StackConfig } from '../model/types.js';
import { isSkipped } from '../model/stack-model.js';
import type { Tree } from './tree.js';

export type Action = 'CREATE' | 'UPDATE' | 'MERGED' | 'UNCHANGED' | 'KEPT' | 'CONFLICT' | 'DELETE';

export interface PlanEntry {
  path: string;
  action: Action;
  /** Why, for the person reading the plan (empty when the action says it all). */
  reason: string;
  /** What gets written: the file itself, or for CONFLICT the `.infra-stack-new` beside it. */
  write?: { path: string; content: string; mode: number };
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

/**
 * Compares the rendered tree with the disk and the manifest. Pure: `disk` holds the current
 * content of every path in the tree or the manifest (undefined when absent).
 */
export function plan(
  tree: Tree,
  disk: Map<string, string | undefined>,
  previous: Manifest,
  version: string,
  answers?: StackConfig,
): Plan {
  const entries: PlanEntry[] = [];
  const files: Record<string, string> = {};

  for (const path of [...tree.keys()].sort()) {
    const file = tree.get(path)!;
    const current = disk.get(path);
    const mode = file.mode ?? 0o644;
    const write = (content: string) => ({ path, content, mode });
    const entry = (action: Action, reason = '', w?: PlanEntry['write']) => entries.push({ path, action, reason, write: w });

    if (file.ownership === 'env') {
      const added = current === undefined ? null : missingEnvLines(current, file.content);
      if (current === undefined) entry('CREATE', 'fresh random secrets', write(file.content));
      else if (added) entry('UPDATE', `adds ${added.keys.join(', ')}`, write(added.content));
      else entry('UNCHANGED');
      continue;
    }
    if (file.ownership === 'answers') {
      if (current === undefined) entry('CREATE', '', write(file.content));
      else if (current === file.content) entry('UNCHANGED');
      else entry('UPDATE', '', write(file.content));
      continue;
    }

    const recorded = previous.files[path];
    const next = hashContent(file.content);
    if (current === undefined) {
      entry('CREATE', '', write(file.content));
      files[path] = next;
    } else if (current === file.content) {
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
    const current = disk.get(path);
    if (current === undefined) continue;
    if (answers && isSkipped(answers, path)) {
      entries.push({ path, action: 'KEPT', reason: 'skipped in infra-stack.yaml: yours from now on' });
      continue;
    }
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

/** Keys of `wanted` (a rendered .env) missing from `current`, appended with their comments. */
function missingEnvLines(current: string, wanted: string): { keys: string[]; content: string } | null {
  const have = new Set(envKeys(current));
  const lines = wanted.split('\n');
  const keys: string[] = [];
  const added: string[] = [];
  lines.forEach((line, i) => {
    const key = /^([A-Z0-9_]+)=/.exec(line)?.[1];
    if (!key || have.has(key)) return;
    keys.push(key);
    const comment = lines[i - 1]?.startsWith('# ') ? [lines[i - 1]] : [];
    added.push(...comment, line);
  });
  if (keys.length === 0) return null;
  const base = current.endsWith('\n') || current === '' ? current : current + '\n';
  return { keys, content: `${base}\n# Added by infra-stack\n${added.join('\n')}\n` };
}

export function envKeys(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((k): k is string => k !== undefined);
}
