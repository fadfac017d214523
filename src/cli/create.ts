import { existsSync, lstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { stackGenerator } from '../../generators/stack.js';
import { listDir, readText } from '../engine/disk.js';
import { MANIFEST_PATH } from '../engine/manifest.js';
import { runPipeline } from '../engine/pipeline.js';
import { findPresetPackage, locatePresetPackage, repositoryTemplates } from '../engine/preset-package.js';
import { generateSecrets } from '../engine/secrets.js';
import { defaultAnswers, nameFromDir, parseServicesFlag } from '../model/defaults.js';
import { InputError, UsageError } from '../model/errors.js';
import { parsePreset, stackFileText } from '../model/stack-file.js';
import { packageName, validateConfig, type RawConfig } from '../model/validate.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { COMMON_OPTIONS, parse } from './args.js';
import { CREATE_HELP } from './help.js';
import { printable, stackDiagram, terminalPrinter } from './output.js';
import { initGit, installServices, makeDevCertificate, writtenFiles } from './post-create.js';
import { askDirectory, askMissing, QUESTIONS, type Question } from './prompts.js';
import { finishRun, interactive } from './run.js';

/** Flags that give an answer, and the infra-stack.yaml field each one sets. */
const ANSWER_FLAGS = {
  gateway: 'gateway',
  queue: 'queue',
  search: 'search',
  target: 'target',
  domain: 'domain',
  database: 'database',
  cache: 'cache',
  node: 'node',
  'nginx-version': 'nginxVersion',
  registry: 'registry',
  'process-manager': 'processManager',
  hooks: 'hooks',
} as const;

const ANSWER_OPTIONS = Object.fromEntries(Object.keys(ANSWER_FLAGS).map((flag) => [flag, { type: 'string' }])) as {
  [Flag in keyof typeof ANSWER_FLAGS]: { type: 'string' };
};

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...ANSWER_OPTIONS,
  services: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  force: { type: 'boolean' },
  'no-git': { type: 'boolean' },
  'no-install': { type: 'boolean' },
  'no-sample': { type: 'boolean' },
  preset: { type: 'string' },
  templates: { type: 'string' },
} as const;

/** `create-infra-stack [dir]`: answers from flags and questions, then the pipeline. */
export async function create(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parse(argv, OPTIONS, 'create-infra-stack');
  if (flags.help) return print(CREATE_HELP);
  if (flags.version) return print(VERSION);
  if (positionals.length > 1) throw new UsageError(`Expected one directory, got ${positionals.length}: ${positionals.join(' ')}`);

  const tty = interactive();
  let dirArg = positionals[0];
  if (dirArg === undefined) {
    if (flags.yes) dirArg = 'infra-stack-app';
    else if (tty) dirArg = await askDirectory();
    else throw missingAnswers(['directory', ...QUESTIONS.filter((q) => flags[q] === undefined)]);
  }
  const dir = resolve(dirArg);

  // Answers from a team preset, then flags on top; validated before any question so a typo fails at once.
  // A preset package is found in the new repository or where create runs, else fetched for this run.
  const presetSearch = [dir, process.cwd()];
  const given: RawConfig = { name: nameFromDir(dir), ...(flags.preset ? await readPreset(flags.preset, dir, presetSearch) : {}) };
  for (const [flag, field] of Object.entries(ANSWER_FLAGS)) {
    const value = flags[flag as keyof typeof ANSWER_FLAGS];
    if (value !== undefined) given[field] = value;
  }
  if (flags.templates !== undefined) given.templates = relative(dir, resolve(flags.templates)) || '.';
  if (flags.services !== undefined) given.services = parseServicesFlag(flags.services);
  if (flags['no-sample']) given.sample = false;
  const defaults = defaultAnswers(String(given.name));
  const early = validateConfig({ ...defaults, ...given });

  const missing = QUESTIONS.filter((q) => given[q] === undefined) as Question[];
  if (missing.length > 0 && !flags.yes && !tty) throw missingAnswers(missing);
  // With --force into a folder of the person's files, the first commit takes only what create wrote.
  const foreign = refuseExisting(dir, Boolean(flags.force));

  const ask = async () => {
    const answers = missing.length > 0 && !flags.yes ? await askMissing(given, missing) : given;
    return validateConfig({ ...defaults, ...answers });
  };
  const templates = repositoryTemplates(dir, early, presetSearch);
  const generator = stackGenerator({ templates, secrets: generateSecrets, ask, stackFile: stackFileText });
  const dryRun = Boolean(flags['dry-run']);
  // Questions to ask: node-plop drives prompts and actions. All answers given: the same
  // generator runs without loading node-plop (see engine/generate.ts).
  const viaPlop = missing.length > 0 && !flags.yes;
  const result = await runPipeline(generator, templates, { dir, dryRun, viaPlop });

  const steps: string[] = [];
  let secretsExposed = false;
  if (!dryRun && !flags['no-install']) steps.push(...(await installServices(dir, result.config, result.plan)));
  if (!dryRun) steps.push(await makeDevCertificate(dir, result.plan));
  if (!dryRun && !flags['no-git']) {
    const git = await initGit(dir, foreign ? writtenFiles(result.plan) : null);
    steps.push(git.text);
    secretsExposed = git.secretsExposed;
  }
  const code = finishRun(result, { command: 'create', dir, dryRun, json: Boolean(flags.json), steps, failed: secretsExposed });
  if (!flags.json && !dryRun) printSummary(dirArg, result.config);
  return code;
}

function printSummary(dirArg: string, config: StackConfig): void {
  const p = terminalPrinter();
  p.out(`\nCreated ${config.name}:\n${stackDiagram(config)}\n`);
  p.out('Next steps:');
  p.out(`  cd ${shellQuote(printable(dirArg))}`);
  p.out('  docker compose up --build        # start everything (development)');
  p.out('  curl -k https://localhost/healthz   # the gateway answers');
  const example = ['billing', 'payments', 'orders'].find((n) => !config.services.some((s) => s.name === n)) ?? 'another';
  p.out('  npm install                       # the generator pinned in package.json, for npx infra-stack');
  p.out(`  npx infra-stack add service ${example} --kind api   # later: add a service`);
}

/**
 * A team preset's answers. Its `templates` folder is relative to the preset file; it is kept
 * relative to the new repository, where infra-stack.yaml records it.
 */
async function readPreset(file: string, dir: string, search: string[]): Promise<RawConfig> {
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

/** A path as a person can paste it into a POSIX shell. */
function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

function print(text: string): number {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

function missingAnswers(missing: string[]): UsageError {
  const flags = missing.map((q) => (q === 'directory' ? '  [dir]' : `  --${q}`)).join('\n');
  return new UsageError(
    `No terminal to ask questions on, and these answers are missing:\n${flags}\nPass them as flags, or --yes to take the defaults. See create-infra-stack --help.`,
  );
}

/** What is at a path, following a symbolic link (a dangling one is named as such). */
function pathKind(path: string): 'missing' | 'folder' | 'a file' | 'a dangling symbolic link' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'a file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return isLink(path) ? 'a dangling symbolic link' : 'missing';
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A non-empty directory that this tool did not make is refused unless --force. Returns whether it holds files. */
function refuseExisting(dir: string, force: boolean): boolean {
  const shown = printable(dir);
  const kind = pathKind(dir);
  if (kind !== 'missing' && kind !== 'folder') {
    throw new UsageError(`${shown} exists and is ${kind}, not a folder: choose another directory, or move it away.`);
  }
  const names = (listDir(dir) ?? []).map((name) => printable(name));
  if (names.length === 0) return false;
  if (names.includes(MANIFEST_PATH.split('/')[0])) {
    throw new UsageError(
      `${shown} already holds a stack made by create-infra-stack. Inside it, run \`npx infra-stack update\` or \`npx infra-stack add service <name>\`.`,
    );
  }
  if (!force) {
    throw new UsageError(
      `${shown} is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}). Choose another directory, or pass --force (files that differ are never overwritten).`,
    );
  }
  return true;
}
