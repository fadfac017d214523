import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { readText } from '../engine/disk.js';
import { findPresetPackage, locatePresetPackage } from '../engine/preset-package.js';
import { defaultAnswers, nameFromDir } from '../model/defaults.js';
import { InputError, UsageError } from '../model/errors.js';
import { parsePreset } from '../model/stack-file.js';
import { packageName, validateConfig, type RawConfig } from '../model/validate.js';
import { printable } from './output.js';
import { pathKind } from './target-directory.js';

/**
 * A team preset's answers. Its `templates` folder is relative to the preset file; it is kept
 * relative to the new repository, where infra-stack.yaml records it.
 */
export async function readPreset(file: string, dir: string, search: string[]): Promise<RawConfig> {
  if (!/\.ya?ml$/.test(file) && !existsSync(file)) {
    // An npm package: its answers now, its templates on every run (infra-stack.yaml records it).
    const name = packageName(file, '--preset');
    if (!locatePresetPackage(name, search)) search.push(await fetchPresetPackage(name));
    const found = findPresetPackage(name, search);
    return { ...checkPreset(found.answers, dir, found.name), preset: found.name };
  }
  if (pathKind(resolve(file)) === 'folder') throw new UsageError(`--preset ${printable(file)} is a folder: give the preset's YAML file.`);
  const text = readText(resolve(file));
  if (text === undefined) throw new UsageError(`No preset file ${printable(resolve(file))}.`);
  const preset = checkPreset(parsePreset(text, file), dir, file);
  if (typeof preset.templates === 'string') {
    preset.templates = relative(dir, resolve(dirname(resolve(file)), preset.templates)) || '.';
  }
  return preset;
}

/**
 * `npm create infra-stack app -- --preset @acme/infra-preset` in an empty folder: the package is
 * nowhere yet, so npm fetches it into a temporary folder (its scripts not run) for this run.
 */
async function fetchPresetPackage(name: string): Promise<string> {
  const { execa } = await import('execa');
  const into = mkdtempSync(join(tmpdir(), 'infra-stack-preset-'));
  // For this run only: the repository's own npm install brings the pinned version back.
  process.once('exit', () => rmSync(into, { recursive: true, force: true }));
  const args = ['install', '--prefix', into, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', name];
  const r = await execa('npm', args, { reject: false });
  if (r.exitCode !== 0) {
    const why = String(r.stderr || r.message).split('\n').find((line) => line.trim()) ?? '';
    throw new UsageError(`The preset package ${name} could not be fetched (${printable(why)}): npm install -D ${name} where you run this, then run it again.`);
  }
  return into;
}

/** A preset's answers, validated on their own so an error names the preset. */
function checkPreset(preset: RawConfig, dir: string, file: string): RawConfig {
  try {
    validateConfig({ ...defaultAnswers(nameFromDir(dir)), ...preset });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`preset ${file}: ${error.field}`, error.value, error.allowed);
    throw error;
  }
  return preset;
}
