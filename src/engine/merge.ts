import { hashContent } from './manifest.js';
import { NEW_SUFFIX, type Plan } from './plan.js';
import type { Tree } from './tree.js';

/** A CONFLICT on a file the generator wrote before: the case a three-way merge can settle. */
export function mergeable(p: Plan): string[] {
  return p.entries.filter((e) => e.action === 'CONFLICT' && p.previousFiles[e.path] !== undefined).map((e) => e.path);
}

/**
 * Settles conflicts by a three-way merge, as git would: the base is what the generator last
 * wrote (re-rendered from the previous answers, and used only if its hash is the one the
 * manifest recorded), "ours" the person's file, "theirs" the generator's new version. A clean
 * merge keeps every edit of the person and takes every change of the generator (MERGED);
 * overlapping changes stay a CONFLICT with the new version beside the file.
 */
export async function mergeEdits(p: Plan, disk: Map<string, string | undefined>, tree: Tree, base: Tree): Promise<Plan> {
  const { merge } = await import('node-diff3');
  const entries = p.entries.map((entry) => {
    const recorded = p.previousFiles[entry.path];
    const ours = disk.get(entry.path);
    const original = base.get(entry.path)?.content;
    const theirs = tree.get(entry.path)?.content;
    if (entry.action !== 'CONFLICT' || !recorded || ours === undefined || original === undefined || theirs === undefined) return entry;
    if (hashContent(original) !== recorded) return entry;
    const result = merge(ours.split('\n'), original.split('\n'), theirs.split('\n'));
    if (result.conflict) {
      return { ...entry, reason: `your edits overlap the generator's changes; new version written to ${entry.path}${NEW_SUFFIX}` };
    }
    return {
      ...entry,
      action: 'MERGED' as const,
      reason: "your edits kept, the generator's changes merged in",
      write: { path: entry.path, content: result.result.join('\n'), mode: entry.write?.mode ?? 0o644 },
    };
  });
  const files = { ...p.manifest.files };
  for (const e of entries) if (e.action === 'MERGED') files[e.path] = hashContent(tree.get(e.path)!.content);
  return { ...p, entries, manifest: { ...p.manifest, files } };
}
