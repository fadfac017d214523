import { join } from 'node:path';
import type { Generator } from '../../generators/stack.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { apply, operations, type ApplyFs } from './apply.js';
import { readDisk, readText } from './disk.js';
import { generate } from './generate.js';
import { MANIFEST_PATH, parseManifest } from './manifest.js';
import { manifestWrite, plan, type Plan } from './plan.js';
import type { TemplateSet } from './templates.js';

export interface PipelineOptions {
  dir: string;
  dryRun: boolean;
  /** node-plop drives the generator (the interactive path). */
  viaPlop: boolean;
  /** For tests that inject a failing filesystem. */
  fs?: ApplyFs;
}

export interface PipelineResult {
  config: StackConfig;
  plan: Plan;
}

/** answers -> tree -> format -> plan -> apply: every command is this with a different generator. */
export async function runPipeline(generator: Generator, templates: TemplateSet, options: PipelineOptions): Promise<PipelineResult> {
  const { config, tree } = await generate(generator, templates, options.viaPlop);
  const previousText = readText(join(options.dir, MANIFEST_PATH));
  const previous = parseManifest(previousText, VERSION);
  const disk = readDisk(options.dir, [...tree.keys(), ...Object.keys(previous.files)]);
  const result = plan(tree, disk, previous, VERSION);
  if (!options.dryRun) {
    apply(options.dir, operations(result.entries, manifestWrite(result, previousText)), options.fs);
  }
  return { config, plan: result };
}
