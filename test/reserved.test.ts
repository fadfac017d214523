// What the stack keeps for itself, checked against what it renders. A service's resources are
// named after it: any resource the stack has, of a kind a service also makes, must carry a name
// no service may take (else kustomize refuses to build, or compose merges two services into one).
// Every host port the compose files publish is one validation knows, so none is published twice.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { InputError } from '../src/model/errors.js';
import { hostPorts } from '../src/model/ports.js';
import { configOf, renderTree } from './helpers/stack.js';

const PROBE = 'probe';

/** kind/name of every k8s resource in the tree. */
function k8sResources(tree: Map<string, { content: string }>): { file: string; kind: string; name: string }[] {
  return [...tree]
    .filter(([path]) => path.startsWith('k8s/') && path.endsWith('.yaml') && !path.endsWith('kustomization.yaml'))
    .flatMap(([file, { content }]) =>
      parseAllDocuments(content)
        .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
        .filter((r) => r?.kind && r.metadata?.name)
        .map((r) => ({ file, kind: r!.kind!, name: r!.metadata!.name! })),
    );
}

function refused(name: string, overrides: Record<string, unknown>): boolean {
  try {
    configOf({ ...overrides, services: [{ name }, { name: 'web', kind: 'web' }] });
    return false;
  } catch (error) {
    if (error instanceof InputError) return true;
    throw error;
  }
}

describe('names the stack keeps for itself', () => {
  it.each([
    { gateway: 'nginx', queue: 'rabbitmq' },
    { gateway: 'kong', queue: 'sqs', search: 'opensearch' },
  ])('k8s %j: no service name can take a resource of the stack', async (answers) => {
    const overrides = { target: 'k8s', ...answers };
    const tree = await renderTree(configOf({ ...overrides, services: [{ name: PROBE }, { name: 'web', kind: 'web' }] }));
    // The name patterns a service uses per kind: "probe", "probe-config".
    const patterns = new Map<string, string[]>();
    for (const r of k8sResources(tree).filter((r) => r.file === `k8s/base/services/${PROBE}.yaml`)) {
      patterns.set(r.kind, [...(patterns.get(r.kind) ?? []), r.name.replace(PROBE, '<service>')]);
    }
    expect([...patterns.keys()]).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap', 'NetworkPolicy', 'HTTPRoute']));
    const own = k8sResources(tree).filter((r) => !r.file.startsWith('k8s/base/services/') && patterns.has(r.kind));
    expect(own.length).toBeGreaterThan(5);
    const open: string[] = [];
    for (const r of own) {
      for (const pattern of patterns.get(r.kind)!) {
        const [head, tail] = pattern.split('<service>');
        if (!r.name.startsWith(head) || !r.name.endsWith(tail)) continue;
        const service = r.name.slice(head.length, r.name.length - tail.length);
        if (/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(service) && !refused(service, overrides)) open.push(`${r.kind} ${r.name} (${r.file})`);
      }
    }
    expect(open).toEqual([]);
  });

  it('compose: no service name can take a service or volume of the stack', async () => {
    for (const answers of [{ gateway: 'nginx' }, { gateway: 'kong', queue: 'sqs', search: 'opensearch' }]) {
      const tree = await renderTree(configOf({ ...answers, services: [{ name: PROBE }] }));
      const compose = parse(tree.get('compose.yaml')!.content) as { services: Record<string, unknown> };
      const own = Object.keys(compose.services).filter((name) => name !== PROBE);
      expect(own.length).toBeGreaterThan(3);
      expect(own.filter((name) => !refused(name, answers))).toEqual([]);
    }
  });
});

/** Host ports published by the compose files ("127.0.0.1:5432:5432", "80:80", or the long form). */
function publishedPorts(tree: Map<string, { content: string }>): number[] {
  const ports: number[] = [];
  for (const [path, { content }] of tree) {
    if (!/^compose[.\w]*\.yaml$/.test(path)) continue;
    const doc = parse(content, { merge: true }) as { services?: Record<string, { ports?: unknown[] }> };
    for (const service of Object.values(doc.services ?? {})) {
      for (const entry of service.ports ?? []) {
        if (typeof entry === 'object' && entry !== null) ports.push(Number((entry as { published: unknown }).published));
        else ports.push(Number(String(entry).split(':').at(-2)));
      }
    }
  }
  return ports;
}

describe('host ports', () => {
  it.each([
    { gateway: 'nginx', queue: 'rabbitmq' },
    { gateway: 'kong', queue: 'sqs', search: 'opensearch', database: 'none' },
  ])('%j: every port the compose files publish is known to validation, and published once', async (answers) => {
    const config = configOf({ ...answers, services: [{ name: 'api' }, { name: 'web', kind: 'web' }, { name: 'jobs', kind: 'worker', port: 9300 }] });
    const published = publishedPorts(await renderTree(config));
    expect(published.length).toBeGreaterThan(6);
    expect(new Set(published).size).toBe(published.length);
    expect(published.every((port) => Number.isInteger(port))).toBe(true);
    expect(new Set(published)).toEqual(new Set(hostPorts(config).map((p) => p.port)));
  });
});
