import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { dataServicesOf } from './data-services.js';
import { defaultAnswers } from './defaults.js';
import { InputError } from './errors.js';
import type { ServiceConfig, StackConfig } from './types.js';
import { validateConfig, type RawConfig } from './validate.js';

export const STACK_FILE = 'infra-stack.yaml';

const HEADER = `# infra-stack.yaml: the answers this repository's infrastructure was generated from.
# Edit it, then run \`npx infra-stack update\` to re-render every generated file.
# Add a service with \`npx infra-stack add service <name>\`.
# Files you changed by hand are never overwritten: the generator's changes are merged into them.
`;

/** The text of a new infra-stack.yaml. */
export function stackFileText(config: StackConfig): string {
  // Only what differs from the defaults, so the file stays short.
  const roles = dataServicesOf(config).map((d) => d.role);
  const services = config.services.map(({ name, kind, port, path, cache, uses, secrets, env }) => ({
    name,
    kind,
    port,
    ...(path ? { path } : {}),
    ...(cache ? { cache } : {}),
    ...(usesAll(uses, roles) ? {} : { uses }),
    ...(secrets.length ? { secrets } : {}),
    ...(Object.keys(env).length ? { env } : {}),
  }));
  // Services last: the list grows, the settings above stay easy to find.
  const { services: _all, ...settings } = config;
  return HEADER + '\n' + blockYaml({ ...settings, services }, '');
}

/**
 * Answers as block YAML, as the yaml package's stringify writes them: maps, lists, strings,
 * numbers and booleans. Written here because stringify takes ~15 ms for 200 services, and every
 * re-run writes this file once more to tell whether the person edited it.
 */
function blockYaml(value: object, indent: string): string {
  const entries = Array.isArray(value) ? value.map((item) => ['-', item] as const) : Object.entries(value).map(([k, v]) => [`${k}:`, v] as const);
  return entries
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => {
      if (typeof item !== 'object' || item === null) return `${indent}${key} ${scalar(item)}\n`;
      const empty = Object.keys(item).length === 0;
      if (empty) return `${indent}${key} ${Array.isArray(item) ? '[]' : '{}'}\n`;
      // A list item's map starts on the dash's line; anything else nested starts on the next line.
      if (key === '-' && !Array.isArray(item)) return `${indent}- ${blockYaml(item, indent + '  ').slice(indent.length + 2)}`;
      return `${indent}${key}\n${blockYaml(item, indent + '  ')}`;
    })
    .join('');
}

/** A plain scalar where YAML reads it back as the same string, else double-quoted (JSON escapes are YAML's). */
function scalar(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const plain =
    /^[\w./][\w./@:-]*$/.test(value) &&
    !value.endsWith(':') &&
    !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value) && // booleans and null, to YAML 1.1 readers too
    !/^([-+]?(\.\d+|\d+(\.\d*)?)(e[-+]?\d+)?|0x[\da-f]+|0o[0-7]+|[-+]?\.(inf|nan))$/i.test(value); // numbers
  return plain ? value : JSON.stringify(value);
}

/** A service that uses everything the stack has says nothing about it in the file. */
function usesAll(uses: readonly string[], roles: readonly string[]): boolean {
  return roles.every((role) => uses.includes(role));
}

/**
 * Aliases a file of answers may expand: a few anchors shared between services are fine; a
 * "billion laughs" file (aliases of aliases) is refused before it is expanded.
 */
const MAX_ALIAS_COUNT = 50;

/**
 * YAML from a person (infra-stack.yaml, a preset) as plain data, or an InputError naming the file:
 * a syntax error, an alias bomb, nesting deep enough to exhaust the stack.
 */
function readYaml(text: string, file: string): unknown {
  try {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) throw new InputError(file, doc.errors[0].message.split('\n')[0], 'valid YAML');
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const bomb = /alias count/i.test((error as Error).message);
    throw new InputError(
      file,
      bomb ? 'aliases that expand too far' : (error as Error).message.split('\n')[0],
      bomb ? `YAML whose aliases (*name) expand to at most ${MAX_ALIAS_COUNT} copies` : 'valid YAML, nested a few levels deep',
    );
  }
}

/** Reads and validates infra-stack.yaml; errors name the file and the field. */
export function parseStackFile(text: string): StackConfig {
  const raw = readYaml(text, STACK_FILE);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(STACK_FILE, raw, 'a mapping of answers (name, services, gateway, ...)');
  }
  // Answers added by a later generator version take their defaults, so an upgrade re-renders.
  const { services: _defaultServices, ...defaults } = defaultAnswers(String((raw as RawConfig).name ?? ''));
  try {
    return validateConfig({ ...defaults, ...(raw as RawConfig) });
  } catch (error) {
    if (error instanceof InputError) {
      throw new InputError(`${STACK_FILE} ${error.field}`, error.value, error.allowed);
    }
    throw error;
  }
}

/**
 * Reads a team preset: any answers of infra-stack.yaml (all optional) that `create` starts
 * from, below the flags. Errors name the preset file and the field.
 */
export function parsePreset(text: string, file: string): RawConfig {
  const raw = readYaml(text, `preset ${file}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`preset ${file}`, raw, 'a mapping of answers (gateway, queue, services, templates, ...)');
  }
  return raw as RawConfig;
}

/** Appends a service to infra-stack.yaml, keeping the person's comments and layout. */
export function addServiceToStackFile(text: string, service: ServiceConfig, config: StackConfig): string {
  const doc = parseDocument(text);
  const services = doc.get('services');
  if (!isSeq(services)) throw new InputError(`${STACK_FILE} services`, services, 'a list of services');
  const item = new YAMLMap();
  item.set('name', service.name);
  item.set('kind', service.kind);
  item.set('port', service.port);
  if (service.path) item.set('path', service.path);
  if (service.cache) item.set('cache', true);
  if (!usesAll(service.uses, dataServicesOf(config).map((d) => d.role))) item.set('uses', service.uses);
  if (service.secrets.length) item.set('secrets', service.secrets);
  if (Object.keys(service.env).length) item.set('env', service.env);
  services.items.push(item);
  if (!isMap(doc.contents)) throw new InputError(STACK_FILE, 'not a mapping', 'a mapping of answers');
  return doc.toString({ lineWidth: 0 });
}

/** Takes a service out of infra-stack.yaml, keeping the person's comments and layout. */
export function removeServiceFromStackFile(text: string, name: string): string {
  const doc = parseDocument(text);
  const services = doc.get('services');
  if (!isSeq(services)) throw new InputError(`${STACK_FILE} services`, services, 'a list of services');
  const index = services.items.findIndex((item) => isMap(item) && item.get('name') === name);
  if (index < 0) throw new InputError(`${STACK_FILE} services`, name, 'the name of a service it lists');
  services.items.splice(index, 1);
  return doc.toString({ lineWidth: 0 });
}
