import { parseAllDocuments, type Document } from 'yaml';
import { markDifferences, merge3 } from './diff3.js';
import type { Plan, PlanEntry } from './plan.js';
import { documentValue, isStructured, mergeStructured, same } from './structural-merge.js';
import { fileHash, type Tree } from './tree.js';

export interface FileMerge {
  content: string;
  /** The content carries git-style conflict markers. */
  conflict: boolean;
  /** What the person reads: how it merged, or which keys conflict. */
  detail: string;
}

/**
 * A three-way merge of one file, as git would: `base` is what the generator last wrote, `ours`
 * the person's file, `theirs` the generator's new version. YAML and JSON merge on their
 * structure; the plain line merge is taken instead when it means exactly the same (it keeps
 * both texts, the generator's comment changes too). Other files, and YAML the structural merge
 * cannot settle, merge on lines. A merged YAML/JSON file must parse, else it is a conflict. A conflict comes back as the person's file
 * with git-style markers (`<<<<<<< yours` ... `>>>>>>> <label>`) around each overlap. Pure.
 */
export function mergeFile(path: string, base: string, ours: string, theirs: string, label: string): FileMerge {
  const merged = (content: string): FileMerge => ({ content, conflict: false, detail: "your edits kept, the generator's changes merged in" });
  const lines = merge3(ours.split('\n'), base.split('\n'), theirs.split('\n'), label);
  const byLines = lines.lines.join('\n');
  if (!isStructured(path)) return lines.conflict ? marked(byLines, '') : merged(byLines);
  const structural = mergeStructured(path, base, ours, theirs);
  const wanted = structural.kind === 'merged' ? valueOf(path, structural.content) : undefined;
  if (wanted !== undefined) {
    // The line merge keeps both texts exactly (the generator's comments too): taken when it means the same.
    const same = !lines.conflict && sameValue(valueOf(path, byLines), wanted);
    return merged(same ? byLines : (structural as { content: string }).content);
  }
  if (!lines.conflict && valueOf(path, byLines) !== undefined) return merged(byLines);
  const where = structural.kind === 'conflict' ? ` (${structural.paths.join(', ')})` : '';
  return marked(lines.conflict ? byLines : wholeFileConflict(ours, theirs, label), where);
}

function marked(content: string, where: string): FileMerge {
  return { content, conflict: true, detail: `your edits overlap the generator's changes${where}` };
}

/** Both versions, whole, between markers: for a line merge that is clean but does not parse. */
function wholeFileConflict(ours: string, theirs: string, label: string): string {
  const end = (text: string) => (text.endsWith('\n') ? text : text + '\n');
  return `<<<<<<< yours\n${end(ours)}=======\n${end(theirs)}>>>>>>> ${label}\n`;
}

/** What a YAML or JSON text means (every document, every alias resolved), or undefined if it does not parse. */
function valueOf(path: string, text: string): { value: unknown } | undefined {
  try {
    if (path.endsWith('.json')) return { value: JSON.parse(text) };
    const docs = parseAllDocuments(text) as Document[];
    // An anchor the merge lost is an error here, not in compose.
    if (docs.some((doc) => doc.errors.length > 0)) return undefined;
    return { value: docs.map(documentValue) };
  } catch {
    return undefined;
  }
}

const sameValue = (a: { value: unknown } | undefined, b: { value: unknown }) => a !== undefined && same(a.value, b.value);

/**
 * Git-style conflict markers at the start of lines: a merge the person has not finished. One
 * left-over `<<<<<<<` or `>>>>>>>` line is enough (`=======` alone underlines Markdown headings).
 */
export function hasConflictMarkers(text: string): boolean {
  // indexOf first: a run asks this of every file it owns, and almost none has seven of either.
  if (!text.includes('<<<<<<<') && !text.includes('>>>>>>>')) return false;
  return /^(?:<{7}|>{7})(?: |$)/m.test(text);
}

/**
 * Files a repository commonly has before the generator writes one. An existing package.json is
 * merged into (its keys kept, the pin added); an existing .npmrc may hold a registry token, so it
 * is left as it is, never written or proposed beside.
 */
const ADOPTED = new Set(['package.json']);
const LEFT_ALONE = new Set(['.npmrc']);

/**
 * The base for merging into a file the repository already had: the generator's version cut down
 * to what the person's file also has. Their values win; what only the generator has is added.
 */
function adoptionBase(ours: string, theirs: string): string | undefined {
  const overlap = (o: unknown, t: unknown): unknown => {
    if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof t !== 'object' || t === null || Array.isArray(t)) return t;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(t)) if (Object.hasOwn(o, key)) out[key] = overlap((o as Record<string, unknown>)[key], value);
    return out;
  };
  try {
    return JSON.stringify(overlap(JSON.parse(ours), JSON.parse(theirs)), null, 2) + '\n';
  } catch {
    return undefined; // not JSON: left as a conflict
  }
}

export interface SettleInput {
  disk: Map<string, string | undefined>;
  tree: Tree;
  /** What the generator last wrote, per path: only contents whose hash the manifest recorded. */
  base: Map<string, string>;
  /** Names the generator's side of a conflict: `create-infra-stack <version>`. */
  label: string;
}

export interface Settled {
  plan: Plan;
  /** Files with conflict markers after this run. */
  pending: string[];
}

/**
 * Settles the plan's conflicts: each file the generator wrote before and the person edited is
 * merged (MERGED), or gets conflict markers written into it (CONFLICT: loud, so compose or
 * nginx refuse it, and `check` fails until resolved). A file still holding markers (from an
 * earlier run) is left alone and reported again until the person removes them.
 */
export function settleConflicts(p: Plan, input: SettleInput): Settled {
  const { disk, tree, base } = input;
  const files = { ...p.manifest.files };
  const pending: string[] = [];
  const entries = p.entries.map((entry): PlanEntry => {
    const ours = disk.get(entry.path);
    const theirs = tree.get(entry.path);
    const owned = p.previousFiles[entry.path] !== undefined;
    // A file that is exactly what the generator renders holds no unfinished merge of the person's.
    if (ours !== undefined && owned && entry.action !== 'UNCHANGED' && hasConflictMarkers(ours)) {
      pending.push(entry.path);
      return {
        path: entry.path,
        action: 'CONFLICT',
        reason: 'conflict pending: resolve the <<<<<<< markers in it, then run the command again',
      };
    }
    if (entry.action !== 'CONFLICT' || ours === undefined || theirs === undefined) return entry;
    if (!owned && LEFT_ALONE.has(entry.path)) return { path: entry.path, action: 'KEPT', reason: 'yours (it may hold credentials): left as it is' };
    // Not the generator's: the file stays as it is, the proposal beside it marks where they differ.
    const proposal = (content: string): PlanEntry => ({ ...entry, write: { ...entry.write!, content } });
    const twoWay = () => markDifferences(ours, theirs.content, input.label);
    if (!owned && !ADOPTED.has(entry.path)) return proposal(twoWay());
    const original = owned ? base.get(entry.path) : adoptionBase(ours, theirs.content);
    const merged = mergeFile(entry.path, original ?? '', ours, theirs.content, input.label);
    const mode = entry.write?.mode ?? 0o644;
    if (!owned && (original === undefined || merged.conflict)) return proposal(original === undefined ? twoWay() : merged.content);
    files[entry.path] = fileHash(theirs);
    if (!merged.conflict) {
      return { ...entry, action: 'MERGED', reason: merged.detail, write: { path: entry.path, content: merged.content, mode } };
    }
    pending.push(entry.path);
    const why = original === undefined ? "no record of what the generator last wrote, so every difference is marked" : merged.detail;
    return { ...entry, reason: `${why}: conflict markers put in the file`, write: { path: entry.path, content: merged.content, mode } };
  });
  return { plan: { ...p, entries, manifest: { ...p.manifest, files } }, pending };
}
