import { DEFAULT_NODE_VERSION } from './catalog.js';
import { InputError } from './errors.js';
import type { RawConfig } from './validate.js';

/** The answers `--yes` takes for whatever was not given. */
export function defaultAnswers(name: string): RawConfig {
  return {
    name,
    domain: `${name}.localhost`,
    node: DEFAULT_NODE_VERSION,
    gateway: 'nginx',
    queue: 'rabbitmq',
    search: 'meilisearch',
    target: 'compose',
    database: 'postgres',
    cache: 'redis',
    sample: true,
    processManager: 'node',
    hooks: 'pre-commit',
    monitoring: 'none',
    storage: 'none',
    services: [
      { name: 'api', kind: 'api' },
      { name: 'web', kind: 'web' },
      { name: 'worker', kind: 'worker' },
    ],
  };
}

/**
 * Parses `--services api:api:3000,web:web,worker` into raw services:
 * name[:kind[:port]], validated later with everything else.
 */
export function parseServicesFlag(text: string): Record<string, unknown>[] {
  const items = text.split(',').map((s) => s.trim());
  return items.map((item, i) => {
    const parts = item.split(':');
    if (parts.length > 3 || parts.some((p) => p === '')) {
      throw new InputError(`--services item ${i + 1}`, item, 'name[:kind[:port]], e.g. api:api:3000,web:web,worker:worker');
    }
    const [name, kind, port] = parts;
    return { name, ...(kind ? { kind } : {}), ...(port ? { port } : {}) };
  });
}

/** A project name from a directory: lowercased, anything else than [a-z0-9-] becomes "-". */
export function nameFromDir(dir: string): string {
  const base = dir.split(/[\\/]/).filter(Boolean).pop() ?? 'app';
  return base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '') || 'app';
}
