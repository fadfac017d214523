import { appSecrets, appSettings, assertSecretsAreNotSettings } from './app-settings.js';
import { FIRST_SERVICE_PORT, NODE_VERSIONS, RESERVED_NAMES, RESERVED_PREFIXES } from './catalog.js';
import { dataServicesOf } from './data-services.js';
import { InputError } from './errors.js';
import { atLeast, OLDEST_NGINX } from './nginx.js';
import { debugPortOf, fixedHostPorts, hostPorts, type HostPort } from './ports.js';
import { authPrefixOf, GATEWAY_PATHS, routePrefixOf } from './routes.js';
import {
  CACHES,
  DATABASES,
  GATEWAYS,
  HOOKS,
  MONITORINGS,
  STORAGES,
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
/** Labels of letters, digits and "-"; the last one not all digits, so never an IP address. */
const HOSTNAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*(?![0-9]+$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Segments of URL-safe characters; none starts with "." (dot segments, and dotfiles the gateway denies). */
const ROUTE_PATH = /^\/([A-Za-z0-9_~-][A-Za-z0-9._~-]*(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*)?$/;

/**
 * Limits of the names derived from the answers. The stack name makes the k8s namespaces
 * <name>-staging and <name>-production, and <name>-<service> names each image and SQS role:
 * DNS labels of at most 63 characters. The domain names nginx/conf.d/<domain>.conf: room is left
 * in a 255-byte file name for ".conf", ".infra-stack-new" and a temporary suffix.
 */
const MAX_NAME = 63 - '-production'.length;
const MAX_SERVICE_IMAGE = 63;
const MAX_DOMAIN = 200;
/** Route paths stay well within an HTTPRoute's 1024 characters, with the "/auth/" an api adds. */
const MAX_PATH = 1000;
/** A Docker image name (registry/path, without the tag) is at most 255 characters. */
const MAX_IMAGE_NAME = 255;

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
  'monitoring',
  'storage',
  'nginxVersion',
  'registry',
  'templates',
  'preset',
  'skip',
  'services',
] as const;
const SERVICE_FIELDS = ['name', 'kind', 'port', 'path', 'cache', 'uses', 'secrets', 'env'] as const;

/**
 * Turns raw answers into a StackConfig or throws an InputError naming the field,
 * the value and what is allowed. Every string that reaches a template passes here.
 */
export function validateConfig(raw: RawConfig): StackConfig {
  rejectUnknown(raw, STACK_FIELDS, '');
  const name = label(raw.name, 'name', MAX_NAME, 'so the k8s namespace <name>-production stays a 63-character DNS label');
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
    monitoring: oneOf(raw.monitoring ?? 'none', MONITORINGS, 'monitoring'),
    storage: oneOf(raw.storage ?? 'none', STORAGES, 'storage'),
    services: [],
  };
  if (raw.nginxVersion !== undefined) config.nginxVersion = version(raw.nginxVersion, 'nginxVersion');
  if (raw.registry !== undefined) config.registry = registry(raw.registry, 'registry');
  if (raw.templates !== undefined) config.templates = folder(raw.templates, 'templates');
  if (raw.preset !== undefined) config.preset = packageName(raw.preset, 'preset');
  if (raw.skip !== undefined) config.skip = skipList(raw.skip, 'skip');
  config.services = services(raw.services, config);
  assertDerivedNames(config);
  assertHostPortsFree(config);
  assertTemplateSafe(config);
  return config;
}

/** Names built from two answers (image names, IAM roles) stay within their limits. */
function assertDerivedNames(config: StackConfig): void {
  for (const s of config.services) {
    const derived = `${config.name}-${s.name}`;
    if (derived.length > MAX_SERVICE_IMAGE) {
      throw new InputError(
        `services.${s.name}.name`,
        s.name,
        `a name of at most ${MAX_SERVICE_IMAGE - config.name.length - 1} characters here: ${config.name}-<service> names its image and must stay a ${MAX_SERVICE_IMAGE}-character DNS label`,
      );
    }
    const image = `${config.registry ?? `ghcr.io/${config.name}`}/${derived}`;
    if (image.length > MAX_IMAGE_NAME) {
      throw new InputError('registry', config.registry, `a registry short enough that the image ${image.slice(0, 40)}... stays within ${MAX_IMAGE_NAME} characters`);
    }
  }
}

/** Two things published on one host port: `docker compose up` would fail. Blame the answer a person can change. */
function assertHostPortsFree(config: StackConfig): void {
  const owners = new Map<number, HostPort>();
  for (const entry of hostPorts(config)) {
    const first = owners.get(entry.port);
    owners.set(entry.port, first ?? entry);
    if (!first) continue;
    const [blamed, holder] = entry.field ? [entry, first] : [first, entry];
    const allowed = `a port from 1024 to 65535 not used by ${holder.owner} (every host port is published once)`;
    if (blamed.field) throw new InputError(blamed.field, entry.port, allowed);
    // Fixed against fixed: only an inspector port (9229 + position) can reach a data service's, with very many services.
    throw new InputError('services', config.services.length, `fewer services: port ${entry.port} would be published by ${first.owner} and ${entry.owner}`);
  }
}

/** Characters that could end a directive, a YAML scalar or a shell word, or start interpolation. */
const UNSAFE = /[\n\r;{}"'`$\\]/;

/**
 * The last line of defence behind the field rules above: no string that reaches a template
 * may carry a character that could break out of the file it is written into.
 */
function assertTemplateSafe(value: unknown, at: [container: object, key: string][] = []): void {
  if (typeof value === 'string' && UNSAFE.test(value)) {
    throw new InputError(fieldAt(at), value, 'no newline, ";", "{", "}", quotes, "$" or "\\"');
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      at.push([value, key]);
      assertTemplateSafe(inner, at);
      at.pop();
    }
  }
}

/** The field a walk reached (`services.billing.path`), named only when it is refused: 200 services hold thousands of values. */
function fieldAt(at: [container: object, key: string][]): string {
  return at
    .map(([container, key], i) => (Array.isArray(container) ? itemLabel(container[Number(key)], key) : i === 0 ? key : `.${key}`))
    .join('');
}

/** A list item by its name where it has one (`services.billing`), else by position. */
function itemLabel(item: unknown, index: string): string {
  const name = (item as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[a-z0-9-]+$/.test(name) ? `.${name}` : `[${index}]`;
}

function services(value: unknown, stack: StackConfig): ServiceConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InputError('services', value, 'a non-empty list of services (name, kind, port, path)');
  }
  const roles = dataServicesOf(stack).map((d) => d.role);
  const paths = new Map<string, string>();
  const names = new Set<string>();
  const result: ServiceConfig[] = [];
  const raws = value.map((item) => rawService(item));
  // Ports asked for explicitly, the stack's own and the inspectors' stay free: an auto-assigned port never takes one.
  const taken = new Set<number>([...fixedHostPorts(stack).map((p) => p.port), ...value.map((_, i) => debugPortOf(i))]);
  for (const { raw, field } of raws) {
    if (raw.port !== undefined) taken.add(port(raw.port, `${field}.port`));
  }

  for (const { raw, field } of raws) {
    const name = raw.name as string;
    if ((RESERVED_NAMES as readonly string[]).includes(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      const taken = [...RESERVED_NAMES, ...RESERVED_PREFIXES.map((prefix) => `${prefix}*`)];
      throw new InputError(`${field}.name`, name, `a name not used by the stack itself (${taken.join(', ')})`);
    }
    if (names.has(name)) throw new InputError(`${field}.name`, name, 'a name used by no other service');
    names.add(name);

    const kind = raw.kind === undefined ? guessKind(name) : oneOf(raw.kind, SERVICE_KINDS, `${field}.kind`);
    let p: number;
    if (raw.port === undefined) {
      p = FIRST_SERVICE_PORT;
      while (taken.has(p)) p++;
      taken.add(p);
    } else {
      p = port(raw.port, `${field}.port`);
    }

    const path = routePath(raw.path, kind, name, paths, `${field}.path`);
    if (path) paths.set(path, name);
    const cache = raw.cache === undefined ? false : bool(raw.cache, `${field}.cache`);
    if (cache && kind !== 'api') throw new InputError(`${field}.cache`, cache, 'false: only api services are cached');
    const secrets = appSecrets(raw.secrets, `${field}.secrets`);
    const env = appSettings(raw.env, secrets, `${field}.env`);
    result.push({ name, kind, port: p, path, cache, uses: uses(raw.uses, roles, `${field}.uses`), secrets, env });
  }
  assertAuthPathsFree(result);
  assertSecretsAreNotSettings(result);
  return result;
}

/** An api's auth endpoints (<path>/auth/) get a location of their own: no other service may be routed there. */
function assertAuthPathsFree(services: ServiceConfig[]): void {
  const byPrefix = new Map(services.map((s) => [routePrefixOf(s.path), s])); // paths are unique by now
  for (const api of services.filter((s) => s.kind === 'api')) {
    const auth = authPrefixOf(api.path!);
    const other = byPrefix.get(auth);
    if (other) {
      throw new InputError(`services.${other.name}.path`, other.path, `a path other than ${auth.slice(0, -1)}: the auth endpoints of api ${api.name}`);
    }
  }
}

/** The data roles a service connects to: all the stack has by default, or a subset of them. */
function uses(value: unknown, roles: DataRole[], field: string): DataRole[] {
  if (value === undefined) return roles;
  const allowed = `a list of what the stack has: ${roles.join(', ') || '(nothing)'}`;
  if (!Array.isArray(value)) throw new InputError(field, value, allowed);
  const picked = value.map((role) => {
    if (!roles.includes(role as DataRole)) throw new InputError(field, role, allowed);
    return role as DataRole;
  });
  // The stack's order, without repeats: files do not change when the list is reordered.
  return roles.filter((role) => picked.includes(role));
}

/** A service as raw answers, and the field its errors name: `services.<name>`, never a position. */
function rawService(item: unknown): { raw: Record<string, unknown>; field: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new InputError('services', item, 'a list of objects with name, kind, port and path');
  }
  const raw = item as Record<string, unknown>;
  const name = label(raw.name, 'services.name', 63);
  const field = `services.${name}`;
  rejectUnknown(raw, SERVICE_FIELDS, field);
  return { raw, field };
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
    throw new InputError(
      field,
      path,
      'a path starting with "/" such as /api: segments of letters, digits and . _ ~ -, none empty or starting with "." (no //, /./, /../)',
    );
  }
  if (path.length > MAX_PATH) throw new InputError(field, path, `a path of at most ${MAX_PATH} characters (an HTTPRoute path value takes 1024)`);
  if (GATEWAY_PATHS.includes(path)) throw new InputError(field, path, `a path the gateway does not answer itself (${GATEWAY_PATHS.join(', ')})`);
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

function label(value: unknown, field: string, max: number, why = ''): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > max) {
    throw new InputError(
      field,
      value,
      `a DNS label: lowercase letters, digits and "-", starting with a letter, at most ${max} characters${why ? ` (${why})` : ''}`,
    );
  }
  return value;
}

function hostname(value: unknown, field: string): string {
  if (typeof value !== 'string' || !HOSTNAME.test(value) || value.length > MAX_DOMAIN) {
    throw new InputError(
      field,
      value,
      `a hostname such as example.com or app.localhost (lowercase, no scheme, port or IP address, at most ${MAX_DOMAIN} characters)`,
    );
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
  const allowed = 'a list of paths relative to the repository, as the generator writes them, e.g. [compose.prod.yaml, .github/workflows/]';
  if (!Array.isArray(value)) throw new InputError(field, value, allowed);
  return value.map((path) => {
    const segments = typeof path === 'string' ? path.replace(/\/$/, '').split('/') : [];
    const plain = segments.every((s) => /^[\w.-]+$/.test(s) && s !== '.' && s !== '..');
    if (typeof path !== 'string' || !plain) {
      const normal = typeof path === 'string' ? normalSkip(path) : null;
      throw new InputError(field, path, normal ? `${normal} (${allowed.replace(', e.g.', '; e.g.')})` : allowed);
    }
    if (path === 'infra-stack.yaml') throw new InputError(field, path, 'any file but infra-stack.yaml, which holds the answers');
    return path;
  });
}

/** The plain form of a skip entry a person wrote as a shell path (./a, /a, a//b), if it stays inside. */
function normalSkip(path: string): string | null {
  const parts: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return null;
    parts.push(segment);
  }
  return parts.length > 0 ? parts.join('/') + (path.endsWith('/') ? '/' : '') : null;
}

/**
 * Each `skip:` entry names something the generator writes (a file, or a folder ending in "/"):
 * an entry that matches nothing is a typo that would silently skip nothing.
 */
export function assertSkipsMatch(skip: readonly string[], generated: readonly string[]): void {
  for (const entry of skip) {
    if (generated.some((path) => (entry.endsWith('/') ? path.startsWith(entry) : path === entry))) continue;
    const folder = generated.some((path) => path.startsWith(`${entry}/`));
    const top = [...new Set(generated.map((path) => (path.includes('/') ? `${path.split('/')[0]}/` : path)))].sort();
    throw new InputError(
      'skip',
      entry,
      folder ? `a folder written as ${entry}/ (with the slash)` : `a file or folder/ the generator writes: ${top.join(', ')}`,
    );
  }
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
  const host = String.raw`([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?`;
  // Path components as Docker reads them: separators ".", "_", "__" or a run of "-".
  const path = String.raw`(\/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*`;
  const match = typeof value === 'string' ? new RegExp(`^${host}(:(?<port>[1-9]\\d{0,4}))?${path}$`).exec(value) : null;
  if (!match || Number(match.groups?.port ?? 1) > 65535) {
    throw new InputError(
      field,
      value,
      'a registry host, an optional port from 1 to 65535 and an optional path, lowercase, e.g. ghcr.io/acme or localhost:5000 (no tag, no scheme)',
    );
  }
  return value as string;
}

/** An nginx version such as 1.22.1 (a bare 1.22 means 1.22.0), from the oldest the templates support. */
function version(value: unknown, field: string): string {
  if (typeof value === 'number') {
    throw new InputError(field, value, `a quoted version such as "1.20.0": YAML reads an unquoted 1.20 as the number ${value}`);
  }
  const allowed = `an nginx version from ${OLDEST_NGINX}, such as 1.30.0 or 1.22.1`;
  if (typeof value !== 'string' || !/^1\.(0|[1-9]\d?)(\.(0|[1-9]\d?))?$/.test(value)) throw new InputError(field, value, allowed);
  const full = value.split('.').length === 2 ? `${value}.0` : value;
  if (!atLeast(full, OLDEST_NGINX)) throw new InputError(field, value, allowed);
  return full;
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
