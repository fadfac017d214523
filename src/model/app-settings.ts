import { InputError } from './errors.js';
import type { EnvGroup } from './env.js';
import type { ServiceConfig } from './types.js';

/**
 * A service's own secrets and settings (infra-stack.yaml `secrets:` and `env:`): what a team
 * otherwise adds by hand to compose, the k8s Secret and PM2 for each service.
 */

/** An environment variable name every shell, compose and Kubernetes accept, upper case. */
const NAME = /^[A-Z][A-Z0-9_]{0,99}$/;

/** Names the stack sets itself: a service's own would shadow them or leak into them. */
const RESERVED = ['PORT', 'HOST', 'HOME', 'PATH', 'SERVICE_NAME', 'SERVICE_KIND', 'DATABASE_URL', 'REDIS_URL', 'AMQP_URL'];
const RESERVED_PREFIXES = [
  'NODE_',
  'NPM_',
  'PM2_',
  'IMAGE_',
  'COMPOSE_',
  'DOCKER_',
  'POSTGRES_',
  'PG',
  'REDIS',
  'RABBITMQ_',
  'AMQP_',
  'AWS_',
  'SQS_',
  'S3_',
  'MEILI_',
  'OPENSEARCH_',
  'GRAFANA_',
  'PROMETHEUS_',
  'BACKUP_',
  'KONG_',
  'NGINX_',
];

/** Upper bound of a plain setting's value: a setting, not a file. */
const MAX_VALUE = 1000;

function variableName(value: unknown, field: string): string {
  const allowed = `an upper-case variable name (A-Z, 0-9, _; starting with a letter), not the stack's own (${RESERVED.join(', ')}, or starting with ${RESERVED_PREFIXES.join(', ')})`;
  if (typeof value !== 'string' || !NAME.test(value) || RESERVED.includes(value) || RESERVED_PREFIXES.some((p) => value.startsWith(p))) {
    throw new InputError(field, value, allowed);
  }
  return value;
}

/** `secrets: [JWT_ACCESS_SECRET, ...]`: names only; values are generated, never written here. */
export function appSecrets(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InputError(field, value, 'a list of variable names, e.g. [JWT_ACCESS_SECRET]');
  const names = value.map((name, i) => variableName(name, `${field}[${i}]`));
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new InputError(field, repeated, 'each name once');
  return names;
}

/** `env: {LOG_LEVEL: info}`: plain settings; a secret goes in `secrets:` instead. */
export function appSettings(value: unknown, secrets: string[], field: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(field, value, 'a mapping of variable names to values, e.g. {LOG_LEVEL: info}');
  }
  const settings: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    const name = variableName(key, `${field}.${key}`);
    if (secrets.includes(name)) throw new InputError(`${field}.${key}`, key, 'a name not also in secrets');
    if (!['string', 'number', 'boolean'].includes(typeof raw) || String(raw).length > MAX_VALUE) {
      throw new InputError(`${field}.${key}`, raw, `a string, number or boolean of at most ${MAX_VALUE} characters`);
    }
    settings[name] = String(raw);
  }
  return settings;
}

/** A name is a secret of one service and a plain setting of another: .env and PM2 would mix them up. */
export function assertSecretsAreNotSettings(services: ServiceConfig[]): void {
  const secrets = new Set(services.flatMap((s) => s.secrets));
  services.forEach((s) => {
    for (const key of Object.keys(s.env)) {
      if (secrets.has(key)) throw new InputError(`services.${s.name}.env.${key}`, key, "a name that is no service's secret");
    }
  });
}

/**
 * The services' secrets as .env shows them: one random value per name (32 bytes), shared by the
 * services that declare the same name (a token signed by one and checked by another).
 */
export function appSecretGroup(services: ServiceConfig[]): EnvGroup | null {
  const names = [...new Set(services.flatMap((s) => s.secrets))];
  if (names.length === 0) return null;
  return {
    title: 'App secrets (infra-stack.yaml services[].secrets)',
    vars: names.map((key) => {
      const users = services.filter((s) => s.secrets.includes(key)).map((s) => s.name);
      return { key, value: '', comment: `Required: 32 random bytes, given only to ${users.join(', ')}`, secret: 'key' as const };
    }),
  };
}

/**
 * For each service, the secrets of the others: blanked for it where one .env feeds them all (PM2
 * on a host). Every service's list from one pass over the stack's secrets, not one per service.
 */
export function otherServicesSecrets(services: ServiceConfig[]): (service: ServiceConfig) => string[] {
  const all = [...new Set(services.flatMap((s) => s.secrets))];
  return (service) => all.filter((name) => !service.secrets.includes(name));
}
