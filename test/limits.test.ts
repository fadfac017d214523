// A stack at every length limit validation allows still builds: the names it derives stay valid
// for the tools that read them (kubectl kustomize, the k8s schemas, nginx -t).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kustomize, schemaProblems } from './helpers/k8s.js';
import { tool } from './helpers/tools.js';
import { configOf, writeStack } from './helpers/stack.js';
import { installedNginxVersion, nginxTest } from './helpers/validators.js';

const HAS = { kubectl: tool('kubectl'), nginx: tool('nginx') };

const NAME = 'n'.repeat(52);
const SERVICE = 's'.repeat(63 - NAME.length - 1);
const DOMAIN = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(8)}`;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('a stack at the limits: 52-character name, 63-character <name>-<service>, 200-character domain', () => {
  it.skipIf(!HAS.kubectl)('k8s: both overlays build, every resource is valid, every namespace a DNS label', async () => {
    const config = configOf({ target: 'k8s', queue: 'sqs', gateway: 'kong', domain: DOMAIN, services: [{ name: SERVICE }, { name: 'web', kind: 'web' }] }, NAME);
    const dir = await writeStack(config);
    for (const overlay of ['staging', 'production']) {
      const resources = await kustomize(join(dir, 'k8s/overlays', overlay));
      expect(schemaProblems(resources)).toEqual([]);
      const namespaces = new Set(resources.map((r) => r.metadata.namespace).filter(Boolean));
      expect([...namespaces]).toEqual([`${NAME}-${overlay}`]);
      for (const ns of namespaces) expect(ns).toMatch(DNS_LABEL);
      const roles = resources.flatMap((r) => Object.entries((r.metadata as { annotations?: Record<string, string> }).annotations ?? {}))
        .filter(([key]) => key === 'eks.amazonaws.com/role-arn')
        .map(([, arn]) => arn.split('/').pop()!);
      expect(roles.length).toBeGreaterThan(0);
      for (const role of roles) expect(role.length).toBeLessThanOrEqual(64); // IAM role names
    }
  });

  it.skipIf(!HAS.nginx)('nginx -t accepts conf.d/<200-character domain>.conf', async () => {
    const version = installedNginxVersion()!;
    const dir = await writeStack(configOf({ domain: DOMAIN, nginxVersion: version, services: [{ name: SERVICE }, { name: 'web', kind: 'web' }] }, NAME));
    const r = await nginxTest(join(dir, 'nginx'));
    expect(r.ok, r.stderr).toBe(true);
  });
});
