import { assertSkipsMatch } from '../model/validate.js';
import { isSkipped } from '../model/stack-model.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { apply, operations } from './apply.js';
import { assertOutputPath, listDir, readDisk, readRepoText, textView, type EngineFs } from './disk.js';
import { generate } from './generate.js';
import type { Generator } from './generator.js';
import { STATE_DIR } from './journal.js';
import { withLock } from './lock.js';
import { MANIFEST_PATH, parseManifest } from './manifest.js';
import { mergeable, mergeEdits } from './merge.js';
import { keepProposals, manifestWrite, NEW_SUFFIX, plan, type Plan } from './plan.js';
import type { TemplateSet } from './templates.js';
import type { Tree } from './tree.js';

export interface PipelineOptions {
  dir: string;
  dryRun: boolean;
  /** node-plop drives the generator (the interactive path). */
  viaPlop: boolean;
  /** The same generator for other answers: re-rendering the previous answers gives the merge base. */
  generatorFor?: (answers: StackConfig) => Generator;
  /** Called with the rendered files before anything is written (create starts openssl then). */
  rendered?: (tree: Tree) => void;
  /** For tests that inject a failing filesystem. */
  fs?: EngineFs;
  /** The caller already holds the repository's lock (it read infra-stack.yaml under it). */
  locked?: boolean;
}

export interface PipelineResult {
  config: StackConfig;
  plan: Plan;
}

/** What the generator wrote last time, or null when the previous answers no longer render. */
async function renderBase(generatorFor: (answers: StackConfig) => Generator, answers: StackConfig, templates: TemplateSet) {
  try {
    return (await generate(generatorFor(answers), templates, false)).tree;
  } catch {
    return null; // answers from an older generator that this one refuses: no merge, conflicts stay
  }
}

/** answers -> tree -> format -> plan -> apply: every command is this with a different generator. */
export async function runPipeline(generator: Generator, templates: TemplateSet, options: PipelineOptions): Promise<PipelineResult> {
  const { config, tree } = await generate(generator, templates, options.viaPlop);
  for (const [path, file] of tree) assertOutputPath(path, file.source);
  if (!options.dryRun) options.rendered?.(tree);
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
  const previousText = readRepoText(options.dir, MANIFEST_PATH);
  const previous = parseManifest(previousText, VERSION);
  // A skip entry names a file the generator writes, or wrote before (kept from then on): else it is a typo.
  assertSkipsMatch(config.skip ?? [], [...generator.paths(config), ...Object.keys(previous.files)]);
  // A new or empty directory (only the lock in it) has nothing to read (a thousand failed reads cost ~15 ms).
  const isEmpty = previousText === undefined && (listDir(options.dir) ?? []).every((name) => name === STATE_DIR);
  const tracked = Object.keys(previous.files).filter((path) => !isSkipped(config, path));
  const disk = isEmpty ? new Map<string, Buffer>() : readDisk(options.dir, [...tree.keys(), ...tracked]);
  let result = plan(tree, disk, previous, VERSION, config);
  if (mergeable(result).length > 0 && previous.answers && options.generatorFor) {
    const base = await renderBase(options.generatorFor, previous.answers, templates);
    if (base) result = await mergeEdits(result, textView(disk), tree, base);
  }
  // A proposal beside a conflicting file is never written over once the person changed it.
  const proposals = readDisk(options.dir, result.entries.filter((e) => e.write?.path.endsWith(NEW_SUFFIX)).map((e) => e.write!.path));
  result = keepProposals(result, proposals);
  if (!options.dryRun) {
    const seen = new Map([...disk, ...proposals, [MANIFEST_PATH, previousText === undefined ? undefined : Buffer.from(previousText)]]);
    apply(options.dir, operations(result.entries, manifestWrite(result, previousText), seen), { fs: options.fs });
  }
  return { config, plan: result };
}
