import { createHash } from 'node:crypto';
import type { StackConfig } from '../model/types.js';
import { BUILD_ID, VERSION } from '../version.js';
import { CONFLICTS_PATH } from './conflicts.js';
import { readDisk, readRepoFile, textView } from './disk.js';
import { generate } from './generate.js';
import type { Generator } from './generator.js';
import { hashContent, manifestText, type Fresh, type Manifest } from './manifest.js';
import { hashOf } from './render.js';
import { plan, type Plan } from './plan.js';
import { SNAPSHOT_PATH } from './snapshot.js';
import type { TemplateSet } from './templates.js';

// A re-run with nothing to do (`update`, `check` of an untouched repository) is most re-runs.
// Rendering a 200-service stack, reading the snapshot and writing it back cost three times the
// reads themselves, so such a run is recognised without rendering: when the last run recorded
// that its manifest is exactly what its inputs render, and the inputs, the snapshot and every
// generated file are still as it left them, rendering again would give the same files.

/**
 * Hash of a render's inputs: the generator's version and build (BUILD_ID: its code), the answers,
 * the templates. The templates are hashed whole (built-in and team ones alike), so
 * an edited team template, or a built-in one edited without a version bump, is a new input.
 */
export function inputsHash(generator: Generator, config: StackConfig, templates: TemplateSet): string {
  const hash = createHash('sha256').update(JSON.stringify([generator.name, VERSION, BUILD_ID, config, templates.preset ?? null]));
  // Map order is the loader's (sorted folder walks), the same on every run.
  for (const [key, t] of templates.templates) hash.update(`\0${key}\0${t.id}\0${t.builtin}\0${t.handlebars}\0${hashOf(t)}`);
  for (const [name, text] of templates.partials) hash.update(`\0partials/${name}\0${hashOf({ text })}`);
  return 'sha256-' + hash.digest('base64');
}

/**
 * The `fresh` a run records, or undefined when its manifest is not exactly what its inputs
 * render: a conflict (the manifest keeps the old hash of a file the person edited, or none for
 * a file they wrote) means the next run with the same inputs still has work to do.
 */
export function freshStamp(p: Plan, pending: string[], inputs: string, snapshot: string): Fresh | undefined {
  if (pending.length > 0 || p.entries.some((e) => e.action === 'CONFLICT')) return undefined;
  return { inputs, base: hashContent(snapshot) };
}

/**
 * A run's plan when it has nothing to do, found without rendering the generated files; null when
 * that cannot be shown, and the run renders as usual. Nothing to do means all of:
 * - the last run stamped its manifest `fresh`, for these same inputs;
 * - no conflict is pending (conflicts.json), the snapshot is the one that run left;
 * - the generated files are the manifest's files, every one on disk with its recorded hash;
 * - the person's files (infra-stack.yaml, .env, secrets.env, .gitignore), which later runs only
 *   append to, are rendered and planned as always (a few small files) and need nothing.
 * Then the manifest would be written back as it is.
 */
export async function unchangedPlan(
  dir: string,
  generator: Generator,
  config: StackConfig,
  templates: TemplateSet,
  previous: { manifest: Manifest; text: string | undefined },
) {
  const { manifest, text } = previous;
  const fresh = manifest.fresh;
  if (!fresh || text === undefined || fresh.inputs !== inputsHash(generator, config, templates)) return null;
  if (readRepoFile(dir, CONFLICTS_PATH) !== undefined) return null;
  const snapshot = readRepoFile(dir, SNAPSHOT_PATH);
  if (snapshot === undefined || hashContent(snapshot) !== fresh.base) return null;

  const all = generator.actions(config);
  const generated = all.filter((a) => a.ownership === 'generated').map((a) => a.path);
  const recorded = Object.keys(manifest.files);
  if (generated.length !== recorded.length || generated.some((path) => manifest.files[path] === undefined)) return null;

  // Each generated file is hashed as read and let go: the bytes of a thousand files are never held at once.
  const checked = new Set<string>();
  for (const path of recorded) {
    const bytes = readRepoFile(dir, path, checked);
    if (bytes === undefined || hashContent(bytes) !== manifest.files[path]) return null;
  }
  const own = { ...generator, prompts: async () => config, actions: () => all.filter((a) => a.ownership !== 'generated') };
  const { tree } = await generate(own, templates, false);
  // The person's files, planned against a manifest of none (they are never in it).
  const disk = readDisk(dir, tree.keys());
  const theirs = plan(tree, disk, { ...manifest, files: {} }, VERSION, config);
  if (theirs.entries.some((e) => e.action !== 'UNCHANGED')) return null;
  if (manifestText({ ...manifest, version: VERSION, answers: config }) !== text) return null;

  const entries = [...tree.keys(), ...recorded].sort().map((path) => ({ path, action: 'UNCHANGED' as const, reason: '' }));
  // `disk` holds only the person's files: the generated ones are what the manifest says.
  return { tree, disk: textView(disk), plan: { entries, manifest, previousFiles: manifest.files } };
}
