import { FIRST_SERVICE_PORT, NODE_VERSIONS, RESERVED_NAMES } from './catalog.js';
import { dataPortsOf, dataServicesOf } from './data-services.js';
import { InputError } from './errors.js';
import {
  CACHES,
  DATABASES,
  GATEWAYS,
  HOOKS,
  PROCESS_MANAGERS,
  QUEUES,
  SEARCHES,
  SERVICE_KINDS,
  TARGETS,
  type DataRole,
  type ServiceConfig,
  type ServiceKind,
  type StackConfig,
} from './types.js';

/** What may arrive from flags, a preset or infra-stack.yaml before validation. */
export type RawConfig = Record<string, unknown>;

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const ROUTE_PATH = /^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/;

const STACK_FIELDS = [
  'name',
  'domain',
  'node',
  'gateway',
  'queue',
  'search',
  'target',
  'database',
  'cache',
  'sample',
  'processManager',
  'hooks',
  'nginxVersion',
  'registry',
  'templates',
  'preset',
  'skip',
  'services',
] as const;
const SERVICE_FIELDS = ['name', 'kind', 'port', 'path', 'cache', 'uses'] as const;

/**
 * Turns raw answers into a StackConfig or throws an InputError naming the field,
 * the value and what is allowed. Every string that reaches a template passes here.
 */
export function validateConfig(raw: RawConfig): StackConfig {
  rejectUnknown(raw, STACK_FIELDS, '');
  const name = label(raw.name, 'name');
  const config: StackConfig = {
    name,
    domain: hostname(raw.domain, 'domain'),
    node: oneOf(String(raw.node ?? ''), NODE_VERSIONS, 'node'),
    gateway: oneOf(raw.gateway, GATEWAYS, 'gateway'),
    queue: oneOf(raw.queue, QUEUES, 'queue'),
    search: oneOf(raw.search, SEARCHES, 'search'),
    target: oneOf(raw.target, TARGETS, 'target'),
    database: oneOf(raw.database, DATABASES, 'database'),
    cache: oneOf(raw.cache, CACHES, 'cache'),
    sample: bool(raw.sample, 'sample'),
    // Added after the first release: an infra-stack.yaml written before them gets the defaults.
    processManager: oneOf(raw.processManager ?? 'node', PROCESS_MANAGERS, 'processManager'),
    hooks: oneOf(raw.hooks ?? 'pre-commit', HOOKS, 'hooks'),
    services: [],
  };
  if (raw.nginxVersion !== undefined) config.nginxVersion = version(raw.nginxVersion, 'nginxVersion');
  if (raw.registry !== undefined) config.registry = registry(raw.registry, 'registry');
  if (raw.templates !== undefined) config.templates = folder(raw.templates, 'templates');
  if (raw.preset !== undefined) config.preset = packageName(raw.preset, 'preset');
  if (raw.skip !== undefined) config.skip = skipList(raw.skip, 'skip');
  config.services = services(raw.services, config);
  assertTemplateSafe(config, '');
  return config;
}

/** Characters that could end a directive, a YAML scalar or a shell word, or start interpolation. */
const UNSAFE = /[\n\r;{}"'`$\\]/;

/**
 * The last line of defence behind the field rules above: no string that reaches a template
 * may carry a character that could break out of the file it is written into.
 */
function assertTemplateSafe(value: unknown, field: string): void {
  if (typeof value === 'string' && UNSAFE.test(value)) {
    throw new InputError(field, value, 'no newline, ";", "{", "}", quotes, "$" or "\\"');
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      assertTemplateSafe(inner, Array.isArray(value) ? `${field}[${key}]` : field ? `${field}.${key}` : key);
    }
  }
}

function services(value: unknown, stack: StackConfig): ServiceConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InputError('services', value, 'a non-empty list of services (name, kind, port, path)');
  }
  const taken = new Map<number, string>(dataPortsOf(stack));
  const roles = dataServicesOf(stack).map((d) => d.role);
  const paths = new Map<string, string>();
  const names = new Set<string>();
  const result: ServiceConfig[] = [];
  const raws = value.map((item, i) => rawService(item, i));
  // Ports asked for explicitly are kept free, so an auto-assigned port never takes one.
  const explicit = new Set<number>();
  for (const { raw, field } of raws) {
    if (raw.port !== undefined) explicit.add(port(raw.port, `${field}.port`));
  }

  for (const { raw, field } of raws) {
    const name = label(raw.name, `${field}.name`);
    if ((RESERVED_NAMES as readonly string[]).includes(name)) {
      throw new InputError(`${field}.name`, name, `a name not used by the stack itself (${RESERVED_NAMES.join(', ')})`);
    }
    if (names.has(name)) throw new InputError(`${field}.name`, name, 'a name used by no other service');
    names.add(name);

    const kind = raw.kind === undefined ? guessKind(name) : oneOf(raw.kind, SERVICE_KINDS, `${field}.kind`);
    let p: number;
    if (raw.port === undefined) {
      p = FIRST_SERVICE_PORT;
      while (taken.has(p) || explicit.has(p)) p++;
    } else {
      p = port(raw.port, `${field}.port`);
      const owner = taken.get(p);
      if (owner !== undefined) {
        throw new InputError(`${field}.port`, p, `a port from 1024 to 65535 not used by ${owner}`);
      }
    }
    taken.set(p, `service ${name}`);

    const path = routePath(raw.path, kind, name, paths, `${field}.path`);
    if (path) paths.set(path, name);
    const cache = raw.cache === undefined ? false : bool(raw.cache, `${field}.cache`);
    if (cache && kind !== 'api') throw new InputError(`${field}.cache`, cache, 'false: only api services are cached');
    result.push({ name, kind, port: p, path, cache, uses: uses(raw.uses, roles, `${field}.uses`) });
  }
  return result;
}

/** The data roles a service connects to: all the stack has by default, or a subset of them. */
function uses(value: unknown, roles: DataRole[], field: string): DataRole[] {
  if (value === undefined) return roles;
  const allowed = `a list of what the stack has: ${roles.join(', ') || '(nothing)'}`;
  if (!Array.isArray(value)) throw new InputError(field, value, allowed);
  const picked = value.map((role, i) => {
    if (!roles.includes(role as DataRole)) throw new InputError(`${field}[${i}]`, role, allowed);
    return role as DataRole;
  });
  // The stack's order, without repeats: files do not change when the list is reordered.
  return roles.filter((role) => picked.includes(role));
}

function rawService(item: unknown, i: number): { raw: Record<string, unknown>; field: string } {
  const field = `services[${i}]`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new InputError(field, item, 'an object with name, kind, port and path');
  }
  rejectUnknown(item as Record<string, unknown>, SERVICE_FIELDS, field);
  return { raw: item as Record<string, unknown>, field };
}

function routePath(
  value: unknown,
  kind: ServiceKind,
  name: string,
  taken: Map<string, string>,
  field: string,
): string | null {
  if (kind === 'worker') {
    if (value !== undefined && value !== null) {
      throw new InputError(field, value, 'no path: workers are not routed by the gateway');
    }
    return null;
  }
  const path = value ?? (kind === 'web' && !taken.has('/') ? '/' : `/${name}`);
  if (typeof path !== 'string' || !ROUTE_PATH.test(path)) {
    throw new InputError(field, path, 'a path starting with "/" made of letters, digits and . _ ~ - (e.g. /api)');
  }
  const owner = taken.get(path);
  if (owner) throw new InputError(field, path, `a path not already routed (service ${owner} has it)`);
  return path;
}

/** `web`, `frontend`... are web services, `*worker*`/`jobs` workers, anything else an api. */
export function guessKind(name: string): ServiceKind {
  if (/^(web|frontend|ui|site|www)$/.test(name)) return 'web';
  if (/worker|^jobs$|^cron$/.test(name)) return 'worker';
  return 'api';
}

function rejectUnknown(raw: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new InputError(prefix ? `${prefix}.${key}` : key, raw[key], `known fields only: ${allowed.join(', ')}`);
    }
  }
}

function label(value: unknown, field: string): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value)) {
    throw new InputError(
      field,
      value,
      'a DNS label: lowercase letters, digits and "-", starting with a letter, at most 63 characters',
    );
  }
  return value;
}

function hostname(value: unknown, field: string): string {
  if (typeof value !== 'string' || !HOSTNAME.test(value)) {
    throw new InputError(field, value, 'a hostname such as example.com or app.localhost (lowercase, no scheme or port)');
  }
  return value;
}

function port(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1024 || n > 65535) {
    throw new InputError(field, value, 'an integer from 1024 to 65535');
  }
  return n;
}

/** Paths inside the repository, as the generator writes them: compose.prod.yaml, .github/workflows/. */
function skipList(value: unknown, field: string): string[] {
  const allowed = 'a list of paths inside the repository, e.g. [compose.prod.yaml, .github/workflows/deploy.yml]';
  if (!Array.isArray(value)) throw new InputError(field, value, allowed);
  return value.map((path, i) => {
    if (typeof path !== 'string' || !/^[\w.-]+(\/[\w.-]+)*\/?$/.test(path) || path.split('/').includes('..')) {
      throw new InputError(`${field}[${i}]`, path, allowed);
    }
    if (path === 'infra-stack.yaml') throw new InputError(`${field}[${i}]`, path, 'any file but infra-stack.yaml, which holds the answers');
    return path;
  });
}

/** An npm package name, scoped or not: @acme/infra-preset. */
export function packageName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 214 || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(value)) {
    throw new InputError(field, value, 'an npm package name, e.g. @acme/infra-preset');
  }
  return value;
}

/** A folder path, relative or absolute, of plain characters. */
function folder(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[\w./~-]+$/.test(value)) {
    throw new InputError(field, value, 'a folder path of letters, digits and . _ ~ - / (e.g. ../platform/templates)');
  }
  return value;
}

/** An image registry with an optional namespace: ghcr.io/acme, registry.example.com:5000/team/app. */
function registry(value: unknown, field: string): string {
  const host = String.raw`[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:\d{1,5})?`;
  const path = String.raw`(\/[a-z0-9]+([._-][a-z0-9]+)*)*`;
  if (typeof value !== 'string' || value.length > 200 || !new RegExp(`^${host}${path}$`).test(value)) {
    throw new InputError(field, value, 'a registry host with an optional path, lowercase, e.g. ghcr.io/acme (no tag, no scheme)');
  }
  return value;
}

/** An nginx version such as 1.22.1 (a bare 1.22 means 1.22.0). */
function version(value: unknown, field: string): string {
  const text = String(value);
  if (!/^1\.\d{1,2}(\.\d{1,2})?$/.test(text)) throw new InputError(field, value, 'an nginx version such as 1.30.0 or 1.22.1');
  return text.split('.').length === 2 ? `${text}.0` : text;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new InputError(field, value, 'true or false');
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InputError(field, value, allowed.join(', '));
  }
  return value as T;
}
