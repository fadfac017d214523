import { dirname, relative, resolve } from 'node:path';
import { stackGenerator } from '../../generators/stack.js';
import { readRepoFile, readRepoText } from '../engine/disk.js';
import { withLock } from '../engine/lock.js';
import { readManifest } from '../engine/manifest.js';
import { runPipeline, type PipelineOptions } from '../engine/pipeline.js';
import { repositoryTemplates } from '../engine/preset-package.js';
import { generateSecrets } from '../engine/secrets.js';
import { InputError, UsageError } from '../model/errors.js';
import { addServiceToStackFile, parseStackFile, removeServiceFromStackFile, STACK_FILE, stackFileText } from '../model/stack-file.js';
import type { StackConfig } from '../model/types.js';
import { validateConfig } from '../model/validate.js';
import { VERSION } from '../version.js';
import { COMMON_OPTIONS, parse } from './args.js';
import { INFRA_STACK_HELP } from './help.js';
import { printCheck, printDiff, printStatus } from './inspect.js';
import { finishRun, sizeHeapFor } from './run.js';
import { writeStdout } from './terminal.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' },
  kind: { type: 'string' },
  port: { type: 'string' },
  path: { type: 'string' },
  uses: { type: 'string' },
  secrets: { type: 'string' },
  env: { type: 'string', multiple: true },
  templates: { type: 'string' },
} as const;

type Command = 'update' | 'add service' | 'remove service' | 'check' | 'diff' | 'status';

/** Which command the words name, or null. */
function commandOf(words: string[]): Command | null {
  const [verb, ...rest] = words;
  if ((verb === 'add' || verb === 'remove') && rest[0] === 'service' && rest.length === 2) return `${verb} service`;
  if (['update', 'check', 'diff', 'status'].includes(verb) && rest.length === 0) return verb as Command;
  return null;
}

/** `infra-stack <command>`: the pipeline from infra-stack.yaml, or a look at the repository. */
export async function infraStack(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parse(argv, OPTIONS, 'infra-stack');
  if (flags.version) {
    writeStdout(VERSION + '\n');
    return 0;
  }
  if (flags.help || positionals.length === 0) {
    writeStdout(INFRA_STACK_HELP);
    return flags.help ? 0 : 2;
  }
  const command = commandOf(positionals);
  if (!command) throw new UsageError(`Unknown command: infra-stack ${positionals.join(' ')}. Run \`infra-stack --help\`.`);
  if (command !== 'add service') {
    for (const flag of ['kind', 'port', 'path', 'uses', 'secrets', 'env'] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} goes with \`add service\`, not \`${command}\`.`);
    }
  }
  const writes = command === 'update' || command === 'add service' || command === 'remove service';
  if (flags['dry-run'] && !writes) throw new UsageError(`\`${command}\` writes nothing already: --dry-run goes with add, remove and update.`);

  const dir = findRepository(resolve(flags.dir ?? '.'));
  const json = Boolean(flags.json);
  if (command === 'status') return printStatus(dir, json);

  const dryRun = !writes || Boolean(flags['dry-run']);
  // Locked before infra-stack.yaml is read: a second run plans from what the first one wrote.
  return withLock(dir, () => run(command, dir, positionals, flags, { dryRun, json }), { dryRun });
}

/** A command that runs the pipeline, under the repository's lock. */
async function run(
  command: Command,
  dir: string,
  positionals: string[],
  flags: Parameters<typeof withService>[2] & { templates?: string },
  { dryRun, json }: { dryRun: boolean; json: boolean },
): Promise<number> {
  const text = readRepoText(dir, STACK_FILE);
  if (text === undefined) throw new UsageError(`No ${STACK_FILE} in ${dir}: run this inside a repository made by create-infra-stack (or pass --dir).`);
  const { answers: known, manifest } = lastAnswers(dir, text);
  const current = known ?? parseStackFile(text);
  sizeHeapFor(current.services.length);
  let config = current;
  let stackFile = (_config: StackConfig) => text;
  const name = positionals[2];
  if (command === 'add service') {
    config = withService(current, name, flags);
    const added = config.services[config.services.length - 1];
    // The generator's own file is written anew; one the person edited is edited, comments kept.
    stackFile = known ? stackFileText : () => addServiceToStackFile(text, added, config);
  } else if (command === 'remove service') {
    config = withoutService(current, name);
    stackFile = known ? stackFileText : () => removeServiceFromStackFile(text, name);
  }

  // A folder named with --templates is trusted wherever it is; infra-stack.yaml's only inside the repository.
  const named = flags.templates !== undefined;
  const team = named ? { ...config, templates: relative(dir, resolve(flags.templates!)) || '.' } : config;
  const templates = repositoryTemplates(dir, team, [dir], named);
  // The same generator renders these answers, and the previous ones: the fallback merge base.
  // `config` is validated already; previous answers (from an older generator, maybe) are validated here.
  const generatorFor = (answers: StackConfig, file = (_config: StackConfig) => text) =>
    stackGenerator({ templates, secrets: generateSecrets, ask: async () => (answers === config ? config : validateConfig({ ...answers })), stackFile: file });
  // update and check with nothing to do (most re-runs) are known without rendering.
  const unlessUnchanged = command === 'update' || command === 'check';
  const result = await runPipeline(generatorFor(config, stackFile), templates, { dir, dryRun, viaPlop: false, generatorFor, locked: true, unlessUnchanged, manifest });
  if (command === 'check') return printCheck(result, json);
  if (command === 'diff') return printDiff(result);
  const steps: string[] = [];
  if (command === 'remove service') {
    const kept = result.plan.entries.filter((e) => e.action === 'KEPT' && e.reason.startsWith('no longer generated')).map((e) => e.path);
    if (kept.length > 0) steps.push(`Kept because you edited them (delete them yourself if ${name} is gone for good): ${kept.join(', ')}`);
  }
  return finishRun(result, { command: positionals.join(' '), dir, dryRun, json, steps });
}

/** The repository: the folder with infra-stack.yaml, `start` or the nearest above it (as git finds .git). */
function findRepository(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (readRepoFile(dir, STACK_FILE) !== undefined) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new UsageError(
    `No ${STACK_FILE} in ${start} or any folder above it: run this inside a repository made by create-infra-stack (or pass --dir).`,
  );
}

/**
 * The answers of the last run (kept in the manifest), when infra-stack.yaml is byte for byte
 * what this generator writes for them: writing YAML costs a third of parsing it (~40 ms for 200
 * services). Otherwise undefined: the person edited the file, parse it. With them, the manifest
 * when it is this version's.
 */
function lastAnswers(dir: string, text: string): { answers?: StackConfig; manifest?: PipelineOptions['manifest'] } {
  let previous;
  try {
    previous = readManifest(dir);
  } catch {
    return {}; // the pipeline reports a broken manifest
  }
  const { answers: last, version } = previous.manifest;
  if (version !== VERSION || !last) return {};
  const answers = validateConfig({ ...last });
  // This version's manifest: the pipeline takes it as read (parsing it again costs ~5 ms for 200 services).
  return { answers: stackFileText(answers) === text ? answers : undefined, manifest: previous };
}

/** The stack with one more service, validated like everything else. */
function withService(
  current: StackConfig,
  name: string,
  flags: { kind?: string; port?: string; path?: string; uses?: string; secrets?: string; env?: string[] },
): StackConfig {
  if (current.services.some((s) => s.name === name)) {
    const names = current.services.map((s) => s.name).join(', ');
    throw new InputError('service name', name, `a name not already in ${STACK_FILE} (it has ${names})`);
  }
  const raw: Record<string, unknown> = { name };
  if (flags.kind !== undefined) raw.kind = flags.kind;
  if (flags.port !== undefined) raw.port = flags.port;
  if (flags.path !== undefined) raw.path = flags.path;
  if (flags.uses !== undefined) raw.uses = flags.uses === 'none' ? [] : flags.uses.split(',').map((u) => u.trim());
  if (flags.secrets !== undefined) raw.secrets = flags.secrets.split(',').map((name) => name.trim());
  if (flags.env !== undefined) raw.env = Object.fromEntries(flags.env.map(setting));
  return validateConfig({ ...current, services: [...current.services, raw] });
}

/** The stack without one of its services. */
function withoutService(current: StackConfig, name: string): StackConfig {
  const names = current.services.map((s) => s.name);
  if (!names.includes(name)) throw new InputError('service name', name, `a service in ${STACK_FILE} (it has ${names.join(', ')})`);
  if (names.length === 1) throw new InputError('service name', name, `another service: ${name} is the only one, and a stack needs one`);
  return validateConfig({ ...current, services: current.services.filter((s) => s.name !== name) });
}

/** `--env LOG_LEVEL=info`: one setting per flag (a value may hold commas and "="). */
function setting(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at < 1) throw new InputError('--env', text, 'NAME=value, e.g. --env LOG_LEVEL=info (repeat the flag for more)');
  return [text.slice(0, at), text.slice(at + 1)];
}
