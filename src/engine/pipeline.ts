import { isSkipped } from '../model/stack-model.js';
import { assertSkipsMatch } from '../model/validate.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { apply, expectSeen, operations, type Operation } from './apply.js';
import { CONFLICTS_PATH, pendingText } from './conflicts.js';
import { assertOutputPath, listDir, readDisk, readRepoFile, readRepoText, textView, type EngineFs } from './disk.js';
import { generate } from './generate.js';
import type { Generator } from './generator.js';
import { STATE_DIR } from './journal.js';
import { withLock } from './lock.js';
import { MANIFEST_PATH, readManifest, type Manifest } from './manifest.js';
import { settleConflicts } from './merge.js';
import { manifestWrite, NEW_SUFFIX, plan, type Plan, type PlanEntry } from './plan.js';
import { readSnapshot, SNAPSHOT_PATH, snapshotText } from './snapshot.js';
import type { TemplateSet } from './templates.js';
import { fileHash, type Tree } from './tree.js';
import { freshStamp, inputsHash, unchangedPlan } from './unchanged.js';

export interface PipelineOptions {
  dir: string;
  dryRun: boolean;
  /** node-plop drives the generator (the interactive path). */
  viaPlop: boolean;
  /** The same generator for other answers: re-rendering the previous answers is the fallback merge base. */
  generatorFor?: (answers: StackConfig) => Generator;
  /** Called with the rendered files and their answers before anything is written (create starts a team's dev-certs.sh then). */
  rendered?: (tree: Tree, config: StackConfig) => void;
  /** For tests that inject a failing filesystem. */
  fs?: EngineFs;
  /** The caller already holds the repository's lock (it read infra-stack.yaml under it). */
  locked?: boolean;
  /** A re-run (update, check): when nothing it depends on changed, it stops before rendering (unchanged.ts). */
  unlessUnchanged?: boolean;
  /** The manifest as the caller (`locked`) read it under the lock: 200 KB for 200 services, parsed once. */
  manifest?: ReturnType<typeof readManifest>;
}

export interface PipelineResult {
  config: StackConfig;
  plan: Plan;
  /** Files the run leaves (or would leave) with conflict markers, resolved or not. */
  pending: string[];
  /** Every write and delete of the run (what a dry run would do), bookkeeping under .infra-stack/ included. */
  operations: Operation[];
  /** The content of each planned path before the run (a run with nothing to do: the person's files only). */
  disk: Map<string, string | undefined>;
  /** What the generator rendered. */
  tree: Tree;
}

/** What the generator last wrote, or null when the previous answers no longer render. */
async function renderBase(generatorFor: (answers: StackConfig) => Generator, answers: StackConfig, templates: TemplateSet) {
  try {
    return (await generate(generatorFor(answers), templates, false)).tree;
  } catch {
    return null; // answers from an older generator that this one refuses: those files stay conflicts
  }
}

/**
 * The merge base: the snapshot the last run left in the repository; for a file it lacks (a
 * repository from before snapshots), the previous answers re-rendered, when that gives exactly
 * what the manifest recorded.
 */
async function mergeBase(snapshot: string | undefined, previous: Manifest, wanted: string[], options: PipelineOptions, templates: TemplateSet) {
  const base = readSnapshot(snapshot, previous.files);
  const missing = wanted.filter((path) => !base.has(path));
  if (missing.length === 0 || !previous.answers || !options.generatorFor) return base;
  const rendered = await renderBase(options.generatorFor, previous.answers, templates);
  for (const [path, file] of rendered ?? []) {
    if (!base.has(path) && previous.files[path] === fileHash(file)) base.set(path, file.content);
  }
  return base;
}

/** answers -> tree -> format -> plan -> merge -> apply: every command is this with a different generator. */
export async function runPipeline(generator: Generator, templates: TemplateSet, options: PipelineOptions): Promise<PipelineResult> {
  if (options.unlessUnchanged && options.locked && !options.viaPlop) {
    const config = await generator.prompts();
    options = { ...options, manifest: options.manifest ?? readManifest(options.dir) };
    const unchanged = await unchangedPlan(options.dir, generator, config, templates, options.manifest!);
    if (unchanged) return { config, ...unchanged, pending: [], operations: [] };
    generator = { ...generator, prompts: async () => config }; // asked once
  }
  const { config, tree } = await generate(generator, templates, options.viaPlop);
  for (const [path, file] of tree) assertOutputPath(path, file.source);
  if (!options.dryRun) options.rendered?.(tree, config);
  // Locked after the questions (a person may take minutes to answer), before the disk is read.
  if (options.locked) return planAndApply(generator, config, tree, templates, options);
  return withLock(options.dir, () => planAndApply(generator, config, tree, templates, options), { dryRun: options.dryRun });
}

async function planAndApply(
  generator: Generator,
  config: StackConfig,
  tree: Tree,
  templates: TemplateSet,
  options: PipelineOptions,
): Promise<PipelineResult> {
  // Read here, under the lock, unless the caller read it under the same lock.
  const { manifest: previous, text: previousText } = (options.locked && options.manifest) || readManifest(options.dir);
  // A skip entry names a file the generator writes, or wrote before (kept from then on): else it is a typo.
  // (Listing the paths builds the model again: only when there is a skip entry to check.)
  if (config.skip?.length) assertSkipsMatch(config.skip, [...generator.paths(config), ...Object.keys(previous.files)]);
  // A new or empty directory (only the lock in it) has nothing to read (a thousand failed reads cost ~15 ms).
  const isEmpty = previousText === undefined && (listDir(options.dir) ?? []).every((name) => name === STATE_DIR);
  // Skipped files are the person's: not even read.
  const tracked = Object.keys(previous.files).filter((path) => !isSkipped(config, path));
  const bytes = isEmpty ? new Map<string, string | Buffer | undefined>() : readDisk(options.dir, [...tree.keys(), ...tracked], (path) => tree.get(path)?.content);
  const planned = plan(tree, bytes, previous, VERSION, config);
  // A proposal already beside a file is read with the rest: kept (keepProposals), and one that
  // appears before the run writes stops it, as any file the plan saw does.
  for (const proposal of proposals(planned)) bytes.set(proposal, readRepoFile(options.dir, proposal));
  // Merges work on text: a file that is not UTF-8 is never merged (it stays a conflict).
  const disk = textView(bytes);
  const owned = Object.keys(previous.files).filter((path) => disk.get(path) !== undefined);
  // Only a conflict is merged: without one the base (a decompress and a hash of every file) is
  // not read, and the new snapshot takes every file from the tree (see snapshotText).
  const merging = planned.entries.some((e) => e.action === 'CONFLICT');
  // The bookkeeping as the last run left it, each read once.
  const snapshotBefore = readRepoText(options.dir, SNAPSHOT_PATH);
  const pendingBefore = readRepoText(options.dir, CONFLICTS_PATH);
  let base = merging ? await mergeBase(snapshotBefore, previous, owned, options, templates) : undefined;
  const previousBase = () => (base ??= readSnapshot(snapshotBefore, previous.files));
  const settled = settleConflicts(planned, {
    disk,
    tree,
    base: base ?? new Map(),
    label: `create-infra-stack ${VERSION}`,
  });
  settled.plan = keepProposals(settled.plan, bytes);
  const inputs = inputsHash(generator, config, templates);
  const before = { manifest: previousText, pending: pendingBefore, snapshot: snapshotBefore };
  const ops = operationsFor(settled.plan, settled.pending, tree, previousBase, before, inputs);
  if (!options.dryRun) {
    // Each file as the plan saw it: one changed since (an editor saved it) stops the run.
    const seen = new Map([...bytes, [MANIFEST_PATH, previousText], [CONFLICTS_PATH, pendingBefore], [SNAPSHOT_PATH, snapshotBefore]]);
    // An empty directory has no file to replace: no syncs, known without looking at each path.
    await apply(options.dir, expectSeen(ops, seen), { fs: options.fs, ...(isEmpty ? { durable: false } : {}) });
  }
  return { config, plan: settled.plan, pending: settled.pending, operations: ops, disk, tree };
}

/**
 * A new version already beside a file the generator never wrote (`<file>.infra-stack-new`) may
 * hold the person's half-done merge: it is never overwritten, until they delete it.
 */
function keepProposals(p: Plan, disk: Map<string, unknown>): Plan {
  const entries = p.entries.map((entry) => {
    const proposal = proposalOf(entry);
    if (proposal === undefined || disk.get(proposal) === undefined) return entry;
    return { ...entry, write: undefined, reason: `not written by create-infra-stack; ${proposal} is already there: finish it, then delete it` };
  });
  return { ...p, entries };
}

/** The `<file>.infra-stack-new` a conflict writes beside the person's file, if any. */
function proposalOf(entry: PlanEntry): string | undefined {
  const path = entry.write?.path;
  return entry.action === 'CONFLICT' && path?.endsWith(NEW_SUFFIX) ? path : undefined;
}

function proposals(p: Plan): string[] {
  return p.entries.map(proposalOf).filter((path): path is string => path !== undefined);
}

/** The plan's writes and deletes, then the bookkeeping: the snapshot, the pending conflicts, the manifest last. */
function operationsFor(
  p: Plan,
  pending: string[],
  tree: Tree,
  base: () => Map<string, string>,
  before: { manifest: string | undefined; pending: string | undefined; snapshot: string | undefined },
  inputs: string,
): Operation[] {
  const ops = operations(p.entries);
  const snapshot = snapshotText(p.manifest.files, tree, base);
  p = { ...p, manifest: { ...p.manifest, fresh: freshStamp(p, pending, inputs, snapshot) } };
  if (snapshot !== before.snapshot) ops.push({ kind: 'write', path: SNAPSHOT_PATH, content: snapshot, mode: 0o644 });
  if (pending.length > 0) {
    const text = pendingText(pending);
    if (text !== before.pending) ops.push({ kind: 'write', path: CONFLICTS_PATH, content: text, mode: 0o644 });
  } else if (before.pending !== undefined) {
    ops.push({ kind: 'delete', path: CONFLICTS_PATH });
  }
  const manifest = manifestWrite(p, before.manifest);
  if (manifest) ops.push({ kind: 'write', ...manifest });
  return ops;
}
