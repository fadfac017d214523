import { relative, resolve } from 'node:path';
import { stackGenerator } from '../../generators/stack.js';
import { readRepoText } from '../engine/disk.js';
import { withLock } from '../engine/lock.js';
import { MANIFEST_PATH, parseManifest } from '../engine/manifest.js';
import { runPipeline } from '../engine/pipeline.js';
import { generateSecrets } from '../engine/secrets.js';
import { loadTemplates, templateRoots } from '../engine/templates.js';
import { InputError, UsageError } from '../model/errors.js';
import { addServiceToStackFile, parseStackFile, STACK_FILE, stackFileText } from '../model/stack-file.js';
import type { StackConfig } from '../model/types.js';
import { validateConfig } from '../model/validate.js';
import { VERSION } from '../version.js';
import { COMMON_OPTIONS, parse } from './args.js';
import { INFRA_STACK_HELP } from './help.js';
import { finishRun } from './run.js';

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

/** `infra-stack add service <name>` and `infra-stack update`: the pipeline from infra-stack.yaml. */
export async function infraStack(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parse(argv, OPTIONS, 'infra-stack');
  if (flags.version) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  if (flags.help || positionals.length === 0) {
    process.stdout.write(INFRA_STACK_HELP);
    return flags.help ? 0 : 2;
  }
  const [command, ...rest] = positionals;
  const isUpdate = command === 'update' && rest.length === 0;
  const isAddService = command === 'add' && rest[0] === 'service' && rest.length === 2;
  if (!isUpdate && !isAddService) {
    throw new UsageError(`Unknown command: infra-stack ${positionals.join(' ')}. Run \`infra-stack --help\`.`);
  }
  if (isUpdate) {
    for (const flag of ['kind', 'port', 'path', 'uses', 'secrets', 'env'] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} goes with \`add service\`, not \`update\`.`);
    }
  }

  const dir = resolve(flags.dir ?? '.');
  const dryRun = Boolean(flags['dry-run']);
  // Locked before infra-stack.yaml is read: a second run plans from what the first one wrote.
  return withLock(
    dir,
    async () => {
      const text = readRepoText(dir, STACK_FILE);
      if (text === undefined) {
        throw new UsageError(`No ${STACK_FILE} in ${dir}: run this inside a repository made by create-infra-stack (or pass --dir).`);
      }
      const known = lastAnswers(dir, text);
      const current = known ?? parseStackFile(text);
      let config = current;
      let stackFile = (_config: StackConfig) => text;
      if (isAddService) {
        config = withService(current, rest[1], flags);
        const added = config.services[config.services.length - 1];
        // The generator's own file is written anew; one the person edited is edited, comments kept.
        stackFile = known ? stackFileText : () => addServiceToStackFile(text, added, config);
      }

      // A folder named with --templates is trusted wherever it is; infra-stack.yaml's only inside the repository.
      const teamFolder = flags.templates !== undefined ? relative(dir, resolve(flags.templates)) || '.' : config.templates;
      const templates = loadTemplates(templateRoots(dir, teamFolder, flags.templates !== undefined));
      // The same generator renders these answers, and the previous ones: the base of a three-way merge.
      const generatorFor = (answers: StackConfig, file = (_config: StackConfig) => text) =>
        stackGenerator({ templates, secrets: generateSecrets, ask: async () => validateConfig({ ...answers }), stackFile: file });
      const result = await runPipeline(generatorFor(config, stackFile), templates, { dir, dryRun, viaPlop: false, generatorFor, locked: true });
      return finishRun(result, { command: positionals.join(' '), dir, dryRun, json: Boolean(flags.json), steps: [] });
    },
    { dryRun },
  );
}

/**
 * The answers of the last run (kept in the manifest), when infra-stack.yaml is byte for byte
 * what this generator writes for them: writing YAML costs a third of parsing it (~40 ms for 200
 * services). Otherwise undefined: the person edited the file, parse it.
 */
function lastAnswers(dir: string, text: string): StackConfig | undefined {
  let manifest;
  try {
    manifest = parseManifest(readRepoText(dir, MANIFEST_PATH), VERSION);
  } catch {
    return undefined; // the pipeline reports a broken manifest
  }
  if (manifest.version !== VERSION || !manifest.answers) return undefined;
  const answers = validateConfig({ ...manifest.answers });
  return stackFileText(answers) === text ? answers : undefined;
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

/** `--env LOG_LEVEL=info`: one setting per flag (a value may hold commas and "="). */
function setting(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at < 1) throw new InputError('--env', text, 'NAME=value, e.g. --env LOG_LEVEL=info (repeat the flag for more)');
  return [text.slice(0, at), text.slice(at + 1)];
}
