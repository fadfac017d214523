import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../model/errors.js';
import { parsePreset } from '../model/stack-file.js';
import type { StackConfig } from '../model/types.js';
import type { RawConfig } from '../model/validate.js';
import { readText } from './disk.js';
import { loadTemplates, templateRoots, type TemplateSet } from './templates.js';

/** A preset package holds its answers here, at its root; their `templates:` is relative to it. */
const PRESET_FILE = 'preset.yaml';

/**
 * A team preset published as an npm package (`--preset @acme/infra-preset`), installed as a dev
 * dependency of the repository: a platform team versions its answers and templates, and a
 * repository takes a new version with `npm install -D` and `npx infra-stack update`.
 */
export interface PresetPackage {
  name: string;
  version: string;
  /** Answers for `create` (below the flags); later runs keep the repository's own answers. */
  answers: RawConfig;
  /** Its template folder (absolute), used on every run. */
  templates?: string;
}

/** The folder of the installed package, found as Node does: `node_modules/<name>` in each folder or above it. */
export function locatePresetPackage(name: string, from: string[]): string | undefined {
  for (const start of from) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const packageDir = join(dir, 'node_modules', name);
      if (readText(join(packageDir, 'package.json')) !== undefined) return packageDir;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

export function findPresetPackage(name: string, from: string[]): PresetPackage {
  const dir = locatePresetPackage(name, from);
  if (dir) return loadPresetPackage(name, dir, readText(join(dir, 'package.json'))!);
  throw new UsageError(
    `The preset package ${name} is not installed: run \`npm install -D ${name}\` in the repository (for a new one: where you run create-infra-stack), then run this again.`,
  );
}

function loadPresetPackage(name: string, dir: string, manifest: string): PresetPackage {
  let version: unknown;
  try {
    version = (JSON.parse(manifest) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string') throw new UsageError(`${join(dir, 'package.json')} has no version: is ${name} an npm package?`);
  const text = readText(join(dir, PRESET_FILE));
  if (text === undefined) throw new UsageError(`The preset package ${name} has no ${PRESET_FILE} at its root (its answers and templates: folder).`);
  const { templates, ...answers } = parsePreset(text, `${name}/${PRESET_FILE}`);
  if (templates !== undefined && typeof templates !== 'string') throw new UsageError(`${name}/${PRESET_FILE}: templates must be a folder path.`);
  return { name, version, answers, ...(templates ? { templates: resolve(dir, templates) } : {}) };
}

/**
 * The templates a repository renders with: its own team folder (infra-stack.yaml `templates`),
 * then its preset package's, then the built-in ones; an earlier one wins for the same file.
 */
export function repositoryTemplates(repoDir: string, config: StackConfig, searchFrom: string[] = [repoDir], explicit = false): TemplateSet {
  const roots = templateRoots(repoDir, config.templates, explicit);
  if (!config.preset) return loadTemplates(roots);
  const preset = findPresetPackage(config.preset, searchFrom);
  if (preset.templates) roots.splice(roots.length - 1, 0, preset.templates);
  return { ...loadTemplates(roots), preset: { name: preset.name, version: preset.version } };
}
