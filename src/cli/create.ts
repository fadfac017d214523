import { relative, resolve } from 'node:path';
import { stackGenerator } from '../../generators/stack.js';
import { listDir } from '../engine/disk.js';
import { runPipeline } from '../engine/pipeline.js';
import { repositoryTemplates } from '../engine/preset-package.js';
import { generateSecrets } from '../engine/secrets.js';
import { NODE_VERSIONS } from '../model/catalog.js';
import { defaultAnswers, nameFromDir, parseServicesFlag } from '../model/defaults.js';
import { InterruptedError, UsageError } from '../model/errors.js';
import { stackFileText } from '../model/stack-file.js';
import { CACHES, DATABASES, GATEWAYS, HOOKS, MONITORINGS, PROCESS_MANAGERS, QUEUES, SEARCHES, STORAGES, TARGETS, type StackConfig } from '../model/types.js';
import { validateConfig, type RawConfig } from '../model/validate.js';
import { VERSION } from '../version.js';
import { COMMON_OPTIONS, parse } from './args.js';
import { DEV_CERT_SCRIPT, startDevCertificate, type DevCertificate } from './dev-certificate.js';
import { CREATE_HELP } from './help.js';
import { recoverNpmFlags } from './npm-flags.js';
import { filesByFolder, printable, stackDiagram, step, terminalPrinter, type Printer } from './output.js';
import { initGit, installServices, writtenFiles } from './post-create.js';
import { readPreset } from './preset.js';
import { askMissing, missingAnswers, QUESTIONS, type Question } from './prompts.js';
import { finishRun, handleInterrupt, sizeHeapFor } from './run.js';
import { interactive, writeStdout } from './terminal.js';
import { chooseDirectory } from './target-directory.js';

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
  monitoring: 'monitoring',
  storage: 'storage',
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
  verbose: { type: 'boolean' },
  preset: { type: 'string' },
  templates: { type: 'string' },
} as const;

/** The answer flags with a fixed set of values: a loose argument npm left is told apart by them (npm-flags.ts). */
const FLAG_CHOICES: Partial<Record<keyof typeof OPTIONS, readonly string[]>> = {
  gateway: GATEWAYS,
  queue: QUEUES,
  search: SEARCHES,
  target: TARGETS,
  database: DATABASES,
  cache: CACHES,
  node: NODE_VERSIONS,
  'process-manager': PROCESS_MANAGERS,
  hooks: HOOKS,
  monitoring: MONITORINGS,
  storage: STORAGES,
};

/**
 * What `npm create infra-stack <dir> --gateway kong` may have taken for npm itself (see
 * npm-flags.ts): every flag of OPTIONS, so a new one is covered. Not --registry: npm always sets
 * npm_config_registry (its own registry), so it never tells us anything.
 */
const NPM_FLAGS = (() => {
  const flags = Object.entries(OPTIONS).filter(([flag]) => flag !== 'help' && flag !== 'version');
  const strings = flags.filter(([flag, option]) => option.type === 'string' && flag !== 'registry').map(([flag]) => flag);
  return {
    booleans: flags.filter(([, option]) => option.type === 'boolean').map(([flag]) => flag),
    choices: FLAG_CHOICES as Record<string, readonly string[]>,
    values: strings.filter((flag) => !(flag in FLAG_CHOICES)),
  };
})();

/** `create-infra-stack [dir]`: answers from flags and questions, then the pipeline. */
export async function create(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parse(recoverNpmFlags(argv, process.env, NPM_FLAGS), OPTIONS, 'create-infra-stack');
  if (flags.help) return print(CREATE_HELP);
  if (flags.version) return print(VERSION);
  if (positionals.length > 1) throw new UsageError(`Expected one directory, got ${positionals.length}: ${positionals.join(' ')}`);

  const tty = interactive();
  const json = Boolean(flags.json);
  const p = terminalPrinter();
  // Ctrl-C or SIGTERM outside a question (a question handles its own) leaves the directory untouched or
  // complete, never half-written: before the files are written it is noted and acted on at the
  // next safe point; once they are, the run ends at once (git and npm, in the same process
  // group, got the same Ctrl-C) saying what is there and what did not run.
  // The exit code of an interrupt noted before the writes, to act on at the next safe point.
  let interrupted: 130 | 143 | undefined;
  let afterWrite: string | undefined;
  let certificate: DevCertificate | undefined;
  const release = handleInterrupt((exitCode) => {
    if (afterWrite === undefined) return void (interrupted = exitCode);
    certificate?.discard();
    process.stderr.write(`\n${afterWrite}\n`);
    process.exit(exitCode);
  });
  try {
    if (tty && !json) p.out(`create-infra-stack ${VERSION}: a service repository's whole infrastructure\n`);
    const unanswered = () => QUESTIONS.filter((q) => flags[q] === undefined);
    const dirArg = await chooseDirectory(positionals[0], flags, tty, unanswered);
    const dir = resolve(dirArg);
    // With --force into a folder of the person's files, the first commit takes only what create wrote.
    const foreign = (listDir(dir)?.length ?? 0) > 0;

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
    sizeHeapFor(early.services.length);

    const missing = QUESTIONS.filter((q) => given[q] === undefined) as Question[];
    if (missing.length > 0 && !flags.yes && !tty) throw missingAnswers(missing);
    const asks = missing.length > 0 && !flags.yes;
    const ask = async () => {
      const answers = asks ? await askMissing(given, missing) : given;
      if (interrupted) throw new InterruptedError('Interrupted: nothing was written.', interrupted);
      return validateConfig({ ...defaults, ...answers });
    };
    // The template folder comes from --templates or a preset the person named: trusted wherever it is.
    const templates = repositoryTemplates(dir, early, presetSearch, true);
    const generator = stackGenerator({ templates, secrets: generateSecrets, ask, stackFile: stackFileText });
    const dryRun = Boolean(flags['dry-run']);
    // Questions to ask: node-plop drives prompts and actions. All answers given: the same
    // generator runs without loading node-plop (see engine/generate.ts).
    const result = await runPipeline(generator, templates, {
      dir,
      dryRun,
      viaPlop: asks,
      rendered: (tree, config) => {
        if (interrupted) throw new InterruptedError('Interrupted: nothing was written.', interrupted);
        certificate = startDevCertificate(tree.get(DEV_CERT_SCRIPT), config.domain);
      },
    }).catch((error: unknown) => {
      certificate?.discard();
      throw error;
    });

    const complete = `Interrupted: ${printable(dirArg)} is complete (${result.plan.entries.length} files)`;
    if (interrupted) {
      certificate?.discard();
      throw new InterruptedError(`${complete}; the certificate, npm install and git were not made or run.`, interrupted);
    }
    if (!dryRun) afterWrite = `${complete}; the certificate, npm install and git did not finish: run scripts/dev-certs.sh, npm install in each service, git init.`;
    const steps: string[] = [];
    let secretsExposed = false;
    if (certificate) steps.push(await certificate.install(dir));
    if (!dryRun && !flags['no-install']) {
      afterWrite = `${complete}; npm install did not finish: run it in each service, then git init.`;
      steps.push(...(await step(p, tty && !json, 'npm install in each service', () => installServices(dir, result.config, result.plan))));
    }
    if (!dryRun && !flags['no-git']) {
      afterWrite = `${complete}; git did not finish: check \`git status\` there.`;
      const git = await step(p, tty && !json, 'git init and a first commit', () => initGit(dir, foreign ? writtenFiles(result.plan) : null));
      steps.push(git.text);
      secretsExposed = git.secretsExposed;
    }
    // On a terminal, a summary instead of one line per file. --verbose, --json, --dry-run and a
    // run into existing files (--force: some kept or in conflict) list every file.
    const allCreated = result.plan.entries.every((e) => e.action === 'CREATE');
    if (tty && !json && !dryRun && !flags.verbose && allCreated && !secretsExposed) {
      printSummary(p, dirArg, result.config, result.plan.entries.map((e) => e.path), steps);
      return 0;
    }
    const code = finishRun(result, { command: 'create', dir, dryRun, json, steps, failed: secretsExposed });
    if (!json && !dryRun) {
      p.out(`\nCreated ${result.config.name}:\n${stackDiagram(result.config)}`);
      printNextSteps(p, dirArg, result.config);
    }
    return code;
  } finally {
    release();
  }
}

/** What a person reads on a terminal: the stack, what was written where, what ran, what to do next. */
function printSummary(p: Printer, dirArg: string, config: StackConfig, paths: string[], steps: string[]): void {
  p.out(`\nCreated ${config.name} in ${printable(dirArg)}: ${paths.length} files (--verbose lists them)\n${stackDiagram(config)}\n`);
  p.out(`  files: ${printable(filesByFolder(paths))}`);
  for (const line of steps) p.out(`  ${printable(line)}`);
  printNextSteps(p, dirArg, config);
}

function printNextSteps(p: Printer, dirArg: string, config: StackConfig): void {
  p.out('\nNext steps:');
  p.out(`  cd ${shellQuote(printable(dirArg))}`);
  p.out('  docker compose up --build        # start everything (development)');
  p.out('  curl -k https://localhost/healthz   # the gateway answers');
  const example = ['billing', 'payments', 'orders'].find((n) => !config.services.some((s) => s.name === n)) ?? 'another';
  p.out('  npm install                       # the generator pinned in package.json, for npx infra-stack');
  p.out(`  npx infra-stack add service ${example} --kind api   # later: add a service`);
}

/** A path as a person can paste it into a POSIX shell. */
function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

function print(text: string): number {
  writeStdout(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

