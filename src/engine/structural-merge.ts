import { Document, isMap, isNode, isScalar, isSeq, parseAllDocuments, parseDocument, Pair, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { merge3 } from './diff3.js';
import { YamlValues } from './yaml-values.js';

/**
 * A three-way merge on the structure of YAML and JSON files: the generator's change from `base`
 * to `theirs` (keys added, changed, removed; list items matched by identity) is applied onto the
 * person's document (`ours`) through the yaml Document API, so their comments, order and
 * formatting stay. Pure: strings in, result out.
 */
export type StructuralResult =
  | { kind: 'merged'; content: string }
  /** Both sides changed the same key: the dotted paths. */
  | { kind: 'conflict'; paths: string[] }
  /** A side does not parse, or its shape is not one this merge understands: fall back to lines. */
  | { kind: 'unsupported' };

type Path = string[];

const PRINT = { lineWidth: 0, flowCollectionPadding: false } as const;

/** The value of a document's node; one table per document for the whole merge. */
const tables = new WeakMap<Document, YamlValues>();
function js(value: unknown, doc: Document): unknown {
  let table = tables.get(doc);
  if (!table) tables.set(doc, (table = new YamlValues(doc)));
  return table.of(value);
}

/** A document's value as it is now (after the merge changed it): a fresh table. */
export function documentValue(doc: Document): unknown {
  return new YamlValues(doc).document(doc);
}

export function isStructured(path: string): boolean {
  return /\.(ya?ml|json)$/.test(path);
}

export function mergeStructured(path: string, base: string, ours: string, theirs: string): StructuralResult {
  try {
    return path.endsWith('.json') ? mergeJson(base, ours, theirs) : mergeYaml(base, ours, theirs);
  } catch {
    // A shape the Document API cannot print (say, an alias whose anchor the person removed).
    return { kind: 'unsupported' };
  }
}

function mergeYaml(base: string, ours: string, theirs: string): StructuralResult {
  const [b, o, t] = [base, ours, theirs].map((text) => parseAllDocuments(text) as Document[]);
  if (![b, o, t].every(parsed)) return { kind: 'unsupported' };
  const docs = o;
  const untouched = docs.map((d) => d.toString(PRINT)).join('');
  const conflicts: string[] = [];
  mergeDocuments(b, t, docs, conflicts);
  if (conflicts.length > 0) return { kind: 'conflict', paths: conflicts };
  const merged = docs.map((d) => d.toString(PRINT)).join('');
  const expected = docs.map(documentValue);
  const yieldsMerged = (text: string) => {
    const again = parseAllDocuments(text) as Document[];
    return parsed(again) && same(again.map(documentValue), expected);
  };
  return { kind: 'merged', content: keepFormatting(ours, untouched, merged, yieldsMerged) };
}

const parsed = (docs: Document[]) => docs.every((d) => d.errors.length === 0);

function mergeJson(base: string, ours: string, theirs: string): StructuralResult {
  const before = JSON.parse(ours) as unknown; // not JSON: thrown, and merged on lines
  // JSON is YAML: the same node merge, printed back as JSON in the person's indentation.
  const [b, o, t] = [base, ours, theirs].map((text) => parseDocument(text) as Document);
  const conflicts: string[] = [];
  const merged = mergeNode(b.contents, t.contents, o.contents, [], b, t, o, conflicts);
  if (merged !== o.contents) o.contents = merged as Node;
  if (conflicts.length > 0) return { kind: 'conflict', paths: conflicts };
  const indent = /^\{\n(\s+)"/.exec(ours)?.[1] ?? '  ';
  const print = (value: unknown) => JSON.stringify(value, null, indent) + (ours.endsWith('\n') ? '\n' : '');
  const value = documentValue(o);
  const content = keepFormatting(ours, print(before), print(value), (text) => {
    try {
      return same(JSON.parse(text), value);
    } catch {
      return false;
    }
  });
  return { kind: 'merged', content };
}

/**
 * The person's exact layout where the merge did not touch it: printing a document normalises
 * some spacing, so the printed change (untouched -> merged) is replayed onto their text by a
 * line merge, and kept only if it yields exactly the merged value.
 */
function keepFormatting(ours: string, untouched: string, merged: string, yieldsMerged: (text: string) => boolean): string {
  if (ours === untouched) return merged;
  const result = merge3(ours.split('\n'), untouched.split('\n'), merged.split('\n'), '');
  if (result.conflict) return merged;
  const text = result.lines.join('\n');
  return yieldsMerged(text) ? text : merged;
}

/** A shape this merge does not handle (a non-scalar key, documents without kind/name): lines instead. */
class Unsupported extends Error {}

/** Documents of a multi-document file, matched by kind and name (Kubernetes manifests). */
function mergeDocuments(base: Document[], theirs: Document[], ours: Document[], conflicts: string[]): void {
  if (base.length === 1 && theirs.length === 1 && ours.length === 1) {
    const merged = mergeNode(base[0].contents, theirs[0].contents, ours[0].contents, [], base[0], theirs[0], ours[0], conflicts);
    if (merged !== ours[0].contents) ours[0].contents = merged as Node;
    return;
  }
  const side = (docs: Document[]): Children => {
    const ids = identities(docs.map((d) => js(d.contents, d)), documentId);
    if (!ids) throw new Unsupported();
    return { ids, node: (i) => [docs[i].contents, docs[i]] };
  };
  mergeChildren(side(base), side(theirs), {
    ...side(ours),
    set: (i, node) => (ours[i].contents = node as Node),
    insert: (at, i) => {
      const copy = theirs[i].clone();
      copy.directives!.docStart = true;
      ours.splice(at, 0, copy);
    },
    remove: (i) => ours.splice(i, 1),
  }, [], conflicts);
}

/**
 * One side's children matched by identity (a file's documents, a mapping's keys, a list's
 * items): each one's node and the document its aliases resolve in.
 */
interface Children {
  ids: string[];
  node(i: number): [unknown, Document];
}

/** The person's side, which the merge edits in place: `insert` puts a copy of theirs' child i at `at`. */
interface OursChildren extends Children {
  set(i: number, node: unknown): void;
  insert(at: number, i: number): void;
  remove(i: number): void;
}

/**
 * The generator's change to a collection, applied onto the person's: a child both kept merges
 * on, one only the generator added is inserted, one it removed goes unless the person edited
 * it, and a child both sides changed differently is a conflict.
 */
function mergeChildren(b: Children, t: Children, o: OursChildren, path: Path, conflicts: string[]): void {
  const value = (side: Children, i: number) => js(...side.node(i));
  t.ids.forEach((id, i) => {
    const inBase = b.ids.indexOf(id);
    const inOurs = o.ids.indexOf(id);
    const here = [...path, id];
    if (inBase >= 0 && inOurs >= 0) {
      const [[bn, bd], [tn, td], [on, od]] = [b.node(inBase), t.node(i), o.node(inOurs)];
      const merged = mergeNode(bn, tn, on, here, bd, td, od, conflicts);
      if (merged !== on) o.set(inOurs, merged);
    } else if (inBase >= 0) {
      if (!same(value(b, inBase), value(t, i))) conflicts.push(`${here.join('.')} (you deleted it; the generator changed it)`);
    } else if (inOurs >= 0) {
      if (!same(value(o, inOurs), value(t, i))) conflicts.push(`${here.join('.')} (added by you and by the generator)`);
    } else {
      const at = insertionIndex(t.ids, i, o.ids);
      o.insert(at, i);
      o.ids.splice(at, 0, id);
    }
  });
  b.ids.forEach((id, i) => {
    if (t.ids.includes(id)) return;
    const inOurs = o.ids.indexOf(id);
    if (inOurs < 0) return;
    if (same(value(o, inOurs), value(b, i))) {
      o.remove(inOurs);
      o.ids.splice(inOurs, 1);
    } else conflicts.push(`${[...path, id].join('.')} (you edited it; the generator removed it)`);
  });
}

function documentId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const meta = isObject(value.metadata) ? value.metadata : {};
  if (typeof value.kind !== 'string' || typeof meta.name !== 'string') return undefined;
  return `${value.kind}/${typeof meta.namespace === 'string' ? meta.namespace + '/' : ''}${meta.name}`;
}

/** Where an item new in theirs goes in ours: after the nearest earlier item both have, else first. */
function insertionIndex(theirsIds: string[], i: number, oursIds: string[]): number {
  for (let j = i - 1; j >= 0; j--) {
    const at = oursIds.indexOf(theirsIds[j]);
    if (at >= 0) return at + 1;
  }
  for (let j = i + 1; j < theirsIds.length; j++) {
    const at = oursIds.indexOf(theirsIds[j]);
    if (at >= 0) return at;
  }
  return oursIds.length;
}

/**
 * Merges one value: returns the node ours should hold (the same node, edited in place, or a
 * new one). Records a conflict where both sides changed the same value differently.
 */
function mergeNode(
  b: unknown,
  t: unknown,
  o: unknown,
  path: Path,
  bd: Document,
  td: Document,
  od: Document,
  conflicts: string[],
): unknown {
  const [bj, tj, oj] = [js(b, bd), js(t, td), js(o, od)];
  if (same(bj, tj) || same(oj, tj)) return o;
  if (isMap(b) && isMap(t) && isMap(o)) {
    mergeMap(b, t, o, path, bd, td, od, conflicts);
    return o;
  }
  if (isSeq(b) && isSeq(t) && isSeq(o)) {
    const done = mergeSeq(b, t, o, path, bd, td, od, conflicts);
    if (done) return o;
  }
  if (same(oj, bj)) {
    // Only the generator changed it: a scalar keeps the person's quoting and comment.
    if (isScalar(o) && isScalar(t)) {
      o.value = t.value;
      return o;
    }
    return copyNode(t);
  }
  conflicts.push(path.join('.') || '(document)');
  return o;
}

function mergeMap(b: YAMLMap, t: YAMLMap, o: YAMLMap, path: Path, bd: Document, td: Document, od: Document, conflicts: string[]): void {
  const keyOf = (pair: Pair) => {
    if (isScalar(pair.key)) return String(pair.key.value);
    if (!isNode(pair.key)) return String(pair.key);
    throw new Unsupported();
  };
  // A key that repeats (JSON allows it) is found first, as a reader of the file finds it.
  const side = (map: YAMLMap, doc: Document): Children => ({ ids: map.items.map((p) => keyOf(p as Pair)), node: (i) => [(map.items[i] as Pair).value, doc] });
  mergeChildren(side(b, bd), side(t, td), {
    ...side(o, od),
    set: (i, node) => ((o.items[i] as Pair).value = node),
    insert: (at, i) => o.items.splice(at, 0, new Pair(copyNode((t.items[i] as Pair).key), copyNode((t.items[i] as Pair).value))),
    remove: (i) => o.items.splice(i, 1),
  }, path, conflicts);
}

/**
 * A list whose items have an identity (a scalar's value; a mapping's `id`, `name` or `uses`:
 * workflow steps, env entries, containers, ports) merges item by item. Returns false for a
 * list without one, which then merges as a whole.
 */
function mergeSeq(b: YAMLSeq, t: YAMLSeq, o: YAMLSeq, path: Path, bd: Document, td: Document, od: Document, conflicts: string[]): boolean {
  const side = (seq: YAMLSeq, doc: Document): Children | null => {
    const ids = identities(seq.items.map((item) => js(item, doc)), itemId);
    return ids && { ids: ids.map((id) => `[${id}]`), node: (i) => [seq.items[i], doc] };
  };
  const [bs, ts, os] = [side(b, bd), side(t, td), side(o, od)];
  if (!bs || !ts || !os) return false;
  mergeChildren(bs, ts, {
    ...os,
    set: (i, node) => (o.items[i] = node),
    insert: (at, i) => o.items.splice(at, 0, copyNode(t.items[i])),
    remove: (i) => o.items.splice(i, 1),
  }, path, conflicts);
  return true;
}

function itemId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return `=${JSON.stringify(value)}`;
  if (!isObject(value)) return undefined;
  for (const key of ['id', 'name', 'uses']) if (typeof value[key] === 'string') return `${key}=${value[key]}`;
  return undefined;
}

/** Each value's identity, or null when one has none or two share one. */
function identities(values: unknown[], id: (value: unknown) => string | undefined): string[] | null {
  const out = values.map(id);
  if (out.some((x) => x === undefined) || new Set(out).size !== out.length) return null;
  return out as string[];
}

function copyNode<T>(value: T): T {
  return (isNode(value) || value instanceof Pair ? (value as unknown as Node).clone() : value) as T;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of parsed values; key order does not count. */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return false;
}
