import { join } from 'node:path';
import { assertSkipsMatch } from '../model/validate.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { apply, operations, type ApplyFs } from './apply.js';
import { listDir, readDisk, readText } from './disk.js';
import { generate } from './generate.js';
import type { Generator } from './generator.js';
import { MANIFEST_PATH, parseManifest } from './manifest.js';
import { mergeable, mergeEdits } from './merge.js';
import { manifestWrite, plan, type Plan } from './plan.js';
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
  fs?: ApplyFs;
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
  if (!options.dryRun) options.rendered?.(tree);
  const previousText = readText(join(options.dir, MANIFEST_PATH));
  const previous = parseManifest(previousText, VERSION);
  // A skip entry names a file the generator writes, or wrote before (kept from then on): else it is a typo.
  assertSkipsMatch(config.skip ?? [], [...generator.paths(config), ...Object.keys(previous.files)]);
  // A new or empty directory has nothing to read (a thousand failed reads cost ~15 ms).
  const isEmpty = !listDir(options.dir)?.length;
  const disk = isEmpty ? new Map<string, string>() : readDisk(options.dir, [...tree.keys(), ...Object.keys(previous.files)]);
  let result = plan(tree, disk, previous, VERSION, config);
  if (mergeable(result).length > 0 && previous.answers && options.generatorFor) {
    const base = await renderBase(options.generatorFor, previous.answers, templates);
    if (base) result = await mergeEdits(result, disk, tree, base);
  }
  if (!options.dryRun) {
    apply(options.dir, operations(result.entries, manifestWrite(result, previousText)), options.fs);
  }
  return { config, plan: result };
}
