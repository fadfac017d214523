// The Kubernetes target (k8s/): for every gateway x queue x search combination the stack is written
// through the real pipeline, `kubectl kustomize` builds both overlays and the cluster resources
// offline, and the built resources are checked: schemas (kubernetes-models), unknown fields
// (kubernetes-types + the TypeScript compiler), the hardening rules, the network flows, what the
// overlays change, and that `add service` adds only that service's resources. The checkers are
// proven to catch broken manifests at the end (helpers/k8s.ts).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EDGE } from '../src/model/edge.js';
import { buildModel } from '../src/model/stack-model.js';
import type { StackConfig } from '../src/model/types.js';
import {
  allowed,
  hardeningProblems,
  HARDENING_RULES,
  id,
  kongPluginProblems,
  kustomizationProblems,
  kustomize,
  parseResources,
  podEndpoints,
  schemaProblems,
  secretLooking,
  secretStorageProblems,
  unknownFieldProblems,
  type Endpoint,
  type Exemptions,
  type Resource,
} from './helpers/k8s.js';
import { freePort, waitFor } from './helpers/services.js';
import { COMBINATIONS, configOf, CREATE_BIN, fixedSecrets, INFRA_STACK_BIN, readTree, renderTree, ROOT, runCli, writeStack } from './helpers/stack.js';
import { isRoot, tool } from './helpers/tools.js';
import { parseDotenv, shortDiff } from './helpers/validators.js';

const HAS_KUBECTL = tool('kubectl');
const OVERLAYS = ['staging', 'production'] as const;
const BUILDS = [...OVERLAYS, 'cluster'] as const;
type Build = (typeof BUILDS)[number];
const K8S_COMBINATIONS = [
  ...COMBINATIONS.map((c) => ({ ...c, database: 'postgres', cache: 'redis', target: 'k8s' as const })),
  // No database and no cache: no migration Job, no backups, fewer data services.
  { gateway: 'nginx', queue: 'rabbitmq', search: 'meilisearch', database: 'none', cache: 'none', target: 'k8s' as const },
  // Services that use less than everything: their flows, secrets and SQS role narrow with them.
  {
    gateway: 'kong',
    queue: 'sqs',
    search: 'opensearch',
    database: 'postgres',
    cache: 'redis',
    target: 'k8s' as const,
    services: [
      { name: 'api', kind: 'api', uses: ['database', 'cache'] },
      { name: 'web', kind: 'web', uses: [] },
      { name: 'worker', kind: 'worker', uses: ['queue', 'search'] },
    ],
  },
];

/**
 * The only departures from the hardening rules, each for a reason the image imposes. A new one
 * must be added here (and explained in src/model/k8s.ts, which renders the reason as a comment).
 */
const EXEMPTIONS: Exemptions = {
  'StatefulSet/postgres': { 'uid-gid-above-10000': "uid 70: initdb needs a passwd entry, and the alpine image has only postgres's" },
  // Its root is read-only: config/ is an emptyDir the init container seeds (no demo certificates).
  'StatefulSet/opensearch': { 'uid-gid-above-10000': "uid 1000: the image's files belong to it" },
};

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const byId = (resources: Resource[]) => new Map(resources.map((r) => [id(r), r]));
const ofKind = (resources: Resource[], kind: string) => resources.filter((r) => r.kind === kind);
const named = (resources: Resource[], kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name);

/** Which resources each service and data service must have in a built overlay. */
function expectedIds(config: StackConfig): string[] {
  const k8s = buildModel(config).k8s!;
  const ids = ['NetworkPolicy/default-deny', 'NetworkPolicy/allow-dns', 'NetworkPolicy/gateway', 'NetworkPolicy/acme-http01-solver', 'Gateway/gateway', 'HTTPRoute/https-redirect'];
  for (const s of k8s.serviceList) {
    ids.push(`ServiceAccount/${s.name}`, `ConfigMap/${s.name}-config`, `Deployment/${s.name}`, `HorizontalPodAutoscaler/${s.name}`, `PodDisruptionBudget/${s.name}`, `NetworkPolicy/${s.name}`);
    if (s.public) ids.push(`Service/${s.name}`, ...s.routes.map((r) => `HTTPRoute/${r.name}`));
    // NGINX Gateway Fabric: a RateLimitPolicy per limited route (an api's, and its auth path's).
    if (config.gateway === 'nginx') ids.push(...s.routes.filter((r) => r.rateLimit).map((r) => `RateLimitPolicy/${r.name}`));
  }
  if (config.gateway === 'nginx') ids.push('ClientSettingsPolicy/gateway');
  for (const d of k8s.data) ids.push(`StatefulSet/${d.name}`, `Service/${d.name}`, `NetworkPolicy/${d.name}`, `NetworkPolicy/uses-${d.name}`);
  if (k8s.sqs) ids.push('NetworkPolicy/uses-sqs');
  if (k8s.migrate) ids.push('Job/migrate', 'CronJob/postgres-backup', 'PersistentVolumeClaim/postgres-backups');
  if (config.gateway === 'kong')
    ids.push(...['cors', 'request-size-limiting', 'correlation-id', 'security-headers', 'api-rate-limiting', 'auth-rate-limiting'].map((p) => `KongPlugin/${p}`));
  // OpenSearch's own certificate: a namespace CA (cert-manager), not the image's demo certificates.
  if (k8s.data.some((d) => d.tls)) ids.push('Issuer/opensearch-selfsigned', 'Certificate/opensearch-ca', 'Issuer/opensearch-ca', 'Certificate/opensearch-tls');
  return ids.sort();
}

/** Built ids without the generated ConfigMap/Secret (their names carry a content hash) and the Namespace. */
const stableIds = (resources: Resource[]) =>
  resources
    .filter((r) => r.kind !== 'Namespace' && !(r.kind === 'Secret' || (r.kind === 'ConfigMap' && r.metadata.name.startsWith('stack-config-'))))
    .map(id)
    .sort();

/** Writes a stack and builds its overlays and cluster resources (kubectl kustomize, in parallel). */
async function buildStack(config: StackConfig): Promise<{ dir: string; built: Record<Build, Resource[]> }> {
  const dir = await writeStack(config);
  tempDirs.push(dir);
  const [staging, production, cluster] = await Promise.all(BUILDS.map((b) => kustomize(join(dir, 'k8s', b === 'cluster' ? 'cluster' : `overlays/${b}`))));
  return { dir, built: { staging, production, cluster } };
}

describe.each(K8S_COMBINATIONS)('k8s: $gateway + $queue + $search, database $database, cache $cache', (combo) => {
  const config = configOf(combo);
  const model = buildModel(config);
  const k8s = model.k8s!;
  let dir = '';
  let files = new Map<string, string>();
  let built = {} as Record<Build, Resource[]>;

  beforeAll(async () => {
    if (HAS_KUBECTL) ({ dir, built } = await buildStack(config));
    else {
      dir = await writeStack(config);
      tempDirs.push(dir);
    }
    files = readTree(dir);
  });

  it('renders prettier-clean YAML and README (prettier is a no-op on every k8s file)', async () => {
    const [raw, formatted] = await Promise.all([renderTree(config, false), renderTree(config, true)]);
    const paths = [...raw.keys()].filter((p) => p.startsWith('k8s/') || p === 'README.md');
    expect(paths.filter((p) => p.endsWith('.yaml')).length).toBeGreaterThan(10);
    const diffs = paths.filter((p) => formatted.get(p)!.content !== raw.get(p)!.content).map((p) => `${p}\n${shortDiff(raw.get(p)!.content, formatted.get(p)!.content)}`);
    expect(diffs, diffs.join('\n\n')).toEqual([]);
    expect(raw.get('README.md')!.content).toMatch(/## Kubernetes[\s\S]*Gateway API implementation[\s\S]*cert-manager[\s\S]*### Managed data services/);
  });

  it('writes the kustomize layout with modern fields only; the data services are a Component', () => {
    const kustomizations = [...files.keys()].filter((p) => p.endsWith('kustomization.yaml')).sort();
    expect(kustomizations).toEqual([
      'k8s/base/kustomization.yaml',
      'k8s/cluster/kustomization.yaml',
      'k8s/components/data-services/kustomization.yaml',
      'k8s/overlays/production/kustomization.yaml',
      'k8s/overlays/staging/kustomization.yaml',
    ]);
    const problems = kustomizations.flatMap((p) => kustomizationProblems(p, files.get(p)!));
    expect(problems, problems.join('\n')).toEqual([]);
    for (const o of OVERLAYS) {
      const overlay = parse(files.get(`k8s/overlays/${o}/kustomization.yaml`)!);
      expect(overlay.components).toEqual(['../../components/data-services']);
      expect(overlay.resources).toContain('../../base');
    }
    const services = k8s.serviceList.map((s) => `k8s/base/services/${s.name}.yaml`);
    expect([...files.keys()].filter((p) => p.startsWith('k8s/base/services/')).sort()).toEqual(services.sort());
    // SQS is AWS SQS on Kubernetes: no ElasticMQ anywhere under k8s/.
    expect([...files].filter(([p, text]) => p.startsWith('k8s/') && /elasticmq/i.test(text)).map(([p]) => p)).toEqual([]);
  });

  it('commits no secret: no Secret in YAML, secrets only in git-ignored secrets.env files', () => {
    const secrets = Object.values(fixedSecrets(model.env));
    expect(secrets.length).toBeGreaterThan(0);
    const ignored = (p: string) => p === '.env' || /^k8s\/overlays\/[^/]+\/secrets\.env$/.test(p);
    const leaks = [...files].filter(([p, text]) => !ignored(p) && secrets.some((s) => text.includes(s))).map(([p]) => p);
    expect(leaks).toEqual([]);
    expect(files.get('k8s/.gitignore')).toMatch(/^overlays\/\*\/secrets\.env$/m);
    const committed = [...files].filter(([p]) => p.startsWith('k8s/') && p.endsWith('.yaml')).flatMap(([, text]) => parseResources(text));
    expect(committed.filter((r) => r.kind === 'Secret').map(id)).toEqual([]);
    expect(secretStorageProblems(committed, [])).toEqual([]);
    for (const o of OVERLAYS) {
      const env = parseDotenv(files.get(`k8s/overlays/${o}/secrets.env`)!);
      const example = parseDotenv(files.get(`k8s/overlays/${o}/secrets.env.example`)!);
      expect([...env.keys()]).toEqual(k8s.secretKeys);
      expect([...example.keys()]).toEqual(k8s.secretKeys);
      expect([...example.values()].every((v) => v === '')).toBe(true);
      expect([...env.values()].every((v) => v.length >= 16)).toBe(true);
    }
  });

  describe.skipIf(!HAS_KUBECTL)('built with kubectl kustomize', () => {
    it('builds both overlays and the cluster resources, with every resource the stack needs', () => {
      for (const o of OVERLAYS) {
        expect(stableIds(built[o]), o).toEqual(expectedIds(config));
        expect(ofKind(built[o], 'Namespace').map((r) => r.metadata.name)).toEqual([`${config.name}-${o}`]);
        expect(ofKind(built[o], 'Secret').map((r) => r.metadata.name)).toEqual([expect.stringMatching(/^secrets-[a-z0-9]{10}$/)]);
        // Workers get no Service or route.
        for (const w of k8s.serviceList.filter((s) => !s.public)) {
          expect(named(built[o], 'Service', w.name)).toBeUndefined();
          expect(named(built[o], 'HTTPRoute', w.name)).toBeUndefined();
        }
      }
      expect(built.cluster.map(id).sort()).toEqual(
        ['ClusterIssuer/letsencrypt-production', 'ClusterIssuer/letsencrypt-staging', ...(config.gateway === 'kong' ? ['GatewayClass/kong'] : [])].sort(),
      );
      expect([...built.staging, ...built.production].filter((r) => r.kind === 'Ingress')).toEqual([]);
    });

    it('every resource validates against its Kubernetes schema', () => {
      const problems = BUILDS.flatMap((b) => schemaProblems(built[b]).map((p) => `${b}: ${p}`));
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('no resource has a field its type does not know (TypeScript excess-property check)', async () => {
      const problems = await unknownFieldProblems(BUILDS.map((b) => ({ label: b, resources: built[b] })));
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('every workload meets the hardening rules (exemptions only as listed)', () => {
      for (const o of OVERLAYS) {
        const problems = hardeningProblems(built[o], EXEMPTIONS);
        expect(problems, problems.join('\n')).toEqual([]);
        expect(secretStorageProblems(built[o], ['secrets']), o).toEqual([]);
      }
      // The exemptions are the model's, and each is explained in the rendered file.
      const declared = k8s.data.filter((d) => d.security.exemption);
      expect(declared.map((d) => `StatefulSet/${d.name}`).sort()).toEqual(Object.keys(EXEMPTIONS).filter((w) => k8s.data.some((d) => `StatefulSet/${d.name}` === w)).sort());
      for (const d of declared) expect(files.get(`k8s/components/data-services/${d.name}.yaml`)).toContain(d.security.exemption!);
      // Postgres 18 keeps its data one level below the volume (REFERENCE.md section 3).
      const postgres = named(built.staging, 'StatefulSet', 'postgres');
      if (postgres) expect(postgres.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql' });
      for (const s of ofKind(built.staging, 'StatefulSet')) {
        expect(named(built.staging, 'Service', s.spec.serviceName)?.spec.clusterIP, s.metadata.name).toBe('None');
        expect(s.spec.volumeClaimTemplates).toHaveLength(1);
      }
    });

    it('network policies allow exactly the flows the stack needs, and nothing else', () => {
      const resources = built.staging;
      const policies = ofKind(resources, 'NetworkPolicy');
      const namespace = `${config.name}-staging`;
      const pods = podEndpoints(resources);
      const other = (name: string, ns: string, labels: Record<string, string> = {}): Endpoint => ({ name, namespace: ns, labels, namespaceLabels: { 'kubernetes.io/metadata.name': ns } });
      const proxy = other('gateway proxy', namespace, { 'gateway.networking.k8s.io/gateway-name': 'gateway' });
      const controller = other('gateway controller', k8s.gateway.controllerNamespace);
      const stranger = other('a pod of another namespace', 'default');
      const dns = other('kube-dns', 'kube-system', { 'k8s-app': 'kube-dns' });
      const internet: Endpoint = { ...other('the internet', ''), external: true };
      // sqs.us-east-1.amazonaws.com resolves to public addresses such as this one.
      const awsPublic: Endpoint = { ...other('an AWS public endpoint', ''), external: true, ip: '52.46.128.10' };
      const privateTargets: Endpoint[] = ['10.0.3.7', '172.20.0.10', '192.168.1.1', '100.64.0.5', '169.254.169.254'].map((ip) => ({ ...other(`private ${ip}`, ''), external: true, ip }));
      // cert-manager starts HTTP-01 solver pods in the namespace while it gets a certificate.
      const solver: Endpoint = { ...other('acme solver', namespace, { 'acme.cert-manager.io/http01-solver': 'true' }), ports: { http: 8089 } };

      const actual: string[] = [];
      for (const from of [...pods, proxy, controller, stranger]) {
        for (const to of [...pods, solver]) {
          for (const port of Object.values(to.ports ?? {})) if (from !== to && allowed(policies, from, to, port)) actual.push(`${from.name} -> ${to.name}:${port}`);
        }
      }
      const expected: string[] = [];
      const pod = (name: string) => pods.find((p) => p.name.endsWith(`/${name}`))!;
      for (const s of k8s.serviceList) {
        const self = pods.find((p) => p.name === `Deployment/${s.name}`)!;
        if (s.public) for (const from of [proxy, controller]) expected.push(`${from.name} -> ${self.name}:${s.port}`);
        for (const d of model.services.find((x) => x.name === s.name)!.uses.filter((u) => u !== 'elasticmq')) expected.push(`${self.name} -> ${pod(d).name}:${pod(d).ports![Object.keys(pod(d).ports!)[0]]}`);
      }
      for (const from of [proxy, controller]) expected.push(`${from.name} -> ${solver.name}:8089`);
      if (k8s.migrate) {
        const postgres = pod('postgres');
        for (const job of ['Job/migrate', 'CronJob/postgres-backup']) expected.push(`${job} -> ${postgres.name}:5432`);
      }
      expect(actual.sort()).toEqual(expected.sort());

      // Every pod resolves names; only the services that use SQS reach out (HTTPS to AWS).
      for (const p of pods) {
        expect(allowed(policies, p, dns, 53, 'UDP'), p.name).toBe(true);
        expect(allowed(policies, p, internet, 443), p.name).toBe(p.labels[`${k8s.flowPrefix}/uses-sqs`] === 'true');
        expect(allowed(policies, p, awsPublic, 443), p.name).toBe(p.labels[`${k8s.flowPrefix}/uses-sqs`] === 'true');
        // Never the VPC, the pod network or the instance metadata service, on 443 either.
        for (const target of privateTargets) expect(allowed(policies, p, target, 443), `${p.name} -> ${target.name}`).toBe(false);
        expect(allowed(policies, p, internet, 80), p.name).toBe(false);
      }
      const sqsUsers = model.services.filter((x) => x.uses.includes('elasticmq')).length;
      expect(pods.filter((p) => p.labels[`${k8s.flowPrefix}/uses-sqs`] === 'true').length).toBe(sqsUsers);
    });

    it('overlays set namespace, domain, issuer, replicas, resources, image tags and their own Secret', () => {
      for (const o of k8s.overlays) {
        const resources = built[o.name];
        expect(resources.filter((r) => r.kind !== 'Namespace').every((r) => r.metadata.namespace === o.namespace)).toBe(true);
        expect(named(resources, 'Namespace', o.namespace)!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
        const gateway = named(resources, 'Gateway', 'gateway')!;
        expect(gateway.metadata.annotations!['cert-manager.io/cluster-issuer']).toBe(o.issuer);
        expect(gateway.spec.listeners.map((l: { hostname: string }) => l.hostname)).toEqual([o.domain, o.domain]);
        for (const route of ofKind(resources, 'HTTPRoute')) expect(route.spec.hostnames, route.metadata.name).toEqual([o.domain]);
        for (const hpa of ofKind(resources, 'HorizontalPodAutoscaler')) expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([o.replicas.min, o.replicas.max]);
        for (const d of ofKind(resources, 'Deployment')) {
          const c = d.spec.template.spec.containers[0];
          expect(c.resources.requests).toMatchObject({ cpu: o.resources.cpu, memory: o.resources.memory });
          expect(c.resources.limits.memory).toBe(o.resources.memoryLimit);
          expect(c.image).toBe(`${k8s.registry}/${config.name}-${d.metadata.name}:${k8s.imageTag}`);
        }
        const secret = ofKind(resources, 'Secret')[0];
        const env = parseDotenv(readFileSync(join(dir, 'k8s/overlays', o.name, 'secrets.env'), 'utf8'));
        expect(Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))).toEqual(Object.fromEntries(env));
        const stackConfig = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('stack-config-'))!;
        for (const [key, value] of o.config) expect(stackConfig.data[key]).toBe(value);
        if (config.gateway === 'kong') expect(named(resources, 'KongPlugin', 'cors')!.config.origins).toEqual([`https://${o.domain}`]);
      }
      expect(k8s.overlays.map((o) => o.namespace)).toEqual([`${config.name}-staging`, `${config.name}-production`]);
      expect(k8s.overlays[1].replicas.min).toBeGreaterThan(k8s.overlays[0].replicas.min);
    });

    it('the edge is Gateway API with cert-manager TLS; Kong gets the plugins of compose as KongPlugins', () => {
      const resources = built.production;
      const gateway = named(resources, 'Gateway', 'gateway')!;
      expect(gateway.spec.gatewayClassName).toBe(config.gateway === 'kong' ? 'kong' : 'nginx');
      expect(gateway.spec.listeners.map((l: { name: string; port: number; protocol: string }) => `${l.name}:${l.port}:${l.protocol}`)).toEqual(['http:80:HTTP', 'https:443:HTTPS']);
      expect(gateway.spec.listeners[1].tls.certificateRefs).toEqual([{ kind: 'Secret', name: 'gateway-tls' }]);
      // The edge of the compose gateways on every route: the same headers, body limit and rate limits.
      const common = ['cors', 'correlation-id', 'request-size-limiting', 'security-headers'];
      for (const s of k8s.serviceList.filter((x) => x.public)) {
        expect(s.routes.map((r) => r.path)).toEqual(s.kind === 'api' ? [s.path, `${s.path === '/' ? '' : s.path}/auth`] : [s.path]);
        for (const [i, r] of s.routes.entries()) {
          const route = named(resources, 'HTTPRoute', r.name)!;
          expect(route.spec.parentRefs).toEqual([{ name: 'gateway', sectionName: 'https' }]);
          const rule = route.spec.rules[0];
          expect(route.spec.rules).toHaveLength(1);
          expect(rule.matches).toEqual([{ path: { type: 'PathPrefix', value: r.path } }]);
          expect(rule.backendRefs).toEqual([{ name: s.name, port: s.port }]);
          const plugins = route.metadata.annotations?.['konghq.com/plugins'];
          const limit = named(resources, 'RateLimitPolicy', r.name);
          if (config.gateway === 'kong') {
            const expected = s.kind === 'api' ? [...common, i === 0 ? 'api-rate-limiting' : 'auth-rate-limiting'] : common;
            expect(plugins?.split(',').sort()).toEqual(expected.sort());
            expect(rule.filters).toBeUndefined(); // the security-headers plugin sends them
          } else {
            expect(plugins).toBeUndefined();
            const set = rule.filters.find((f: { type: string }) => f.type === 'ResponseHeaderModifier').responseHeaderModifier.set;
            expect(set.map((h: { name: string; value: string }) => [h.name, h.value])).toEqual(EDGE.headers);
            if (s.kind === 'api') {
              expect(limit!.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: r.name }]);
              expect(limit!.spec.rateLimit.local.rules[0]).toMatchObject(
                i === 0 ? { rate: `${EDGE.apiRateLimit.perSecond}r/s`, burst: EDGE.apiRateLimit.burst } : { rate: `${EDGE.authRateLimit.perMinute}r/m`, burst: EDGE.authRateLimit.burst },
              );
            } else expect(limit, 'web pages are not rate-limited').toBeUndefined();
          }
        }
        expect(named(resources, 'Service', s.name)!.spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: s.port, targetPort: 'http' }] });
      }
      if (config.gateway === 'nginx') {
        expect(named(resources, 'ClientSettingsPolicy', 'gateway')!.spec).toEqual({
          targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gateway' },
          body: { maxSize: `${EDGE.maxBodyMegabytes}m` },
        });
      }
      const redirect = named(resources, 'HTTPRoute', 'https-redirect')!;
      expect(redirect.spec.rules[0].filters[0]).toEqual({ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } });
      const issuers = Object.fromEntries(ofKind(built.cluster, 'ClusterIssuer').map((r) => [r.metadata.name, r.spec.acme]));
      expect(issuers['letsencrypt-staging'].server).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
      expect(issuers['letsencrypt-production'].server).toBe('https://acme-v02.api.letsencrypt.org/directory');
      expect(issuers['letsencrypt-production'].solvers[0].http01.gatewayHTTPRoute.parentRefs).toEqual([{ name: 'gateway', kind: 'Gateway', sectionName: 'http' }]);
      if (config.gateway === 'kong') {
        expect(named(built.cluster, 'GatewayClass', 'kong')!.spec.controllerName).toBe('konghq.com/kic-gateway-controller');
        // The same plugins as compose's kong/kong.yml: global ones, and the rate limits of api services and auth routes.
        type Plugins = { plugins?: { name: string }[] };
        const kongYml = parse(files.get('kong/kong.yml')!) as Plugins & { services: (Plugins & { routes: Plugins[] })[] };
        const inKongYml = [...kongYml.plugins!, ...kongYml.services.flatMap((s) => [...(s.plugins ?? []), ...s.routes.flatMap((r) => r.plugins ?? [])])];
        expect(new Set(ofKind(resources, 'KongPlugin').map((p) => p.plugin))).toEqual(new Set(inKongYml.map((p) => p.name)));
      }
      if (combo.queue === 'sqs') {
        // The IAM role only on the service accounts of services that use the queue.
        for (const s of model.services) {
          const role = named(resources, 'ServiceAccount', s.name)!.metadata.annotations?.['eks.amazonaws.com/role-arn'];
          if (s.uses.includes('elasticmq')) expect(role, s.name).toMatch(/^arn:aws:iam::\d{12}:role\//);
          else expect(role, s.name).toBeUndefined();
        }
        // The endpoint only in the settings of the services that use the queue (it switches their check on).
        for (const s of model.services) {
          const own = named(resources, 'ConfigMap', `${s.name}-config`)!;
          if (s.uses.includes('elasticmq')) expect(own.data.AWS_ENDPOINT_URL_SQS, s.name).toMatch(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com$/);
          else expect(own.data.AWS_ENDPOINT_URL_SQS, s.name).toBeUndefined();
        }
      }
    });

    it('an environment on managed services drops the data-services component with one line', async () => {
      const overlay = join(dir, 'k8s/overlays/staging');
      const managed = join(dir, 'k8s/overlays/managed');
      cpSync(overlay, managed, { recursive: true });
      const text = readFileSync(join(managed, 'kustomization.yaml'), 'utf8');
      writeFileSync(join(managed, 'kustomization.yaml'), text.replace(/\ncomponents:\n(?:\s+#.*\n)*\s+- \.\.\/\.\.\/components\/data-services\n/, '\n'));
      const resources = await kustomize(managed);
      expect(ofKind(resources, 'StatefulSet')).toEqual([]);
      expect(ofKind(resources, 'CronJob')).toEqual([]);
      expect(ofKind(resources, 'Deployment').map((r) => r.metadata.name).sort()).toEqual(k8s.serviceList.map((s) => s.name).sort());
      expect(schemaProblems(resources)).toEqual([]);
    });
  });
});

describe.skipIf(!HAS_KUBECTL)('add service on the k8s target', () => {
  const base = { target: 'k8s', gateway: 'kong', queue: 'sqs', search: 'opensearch' };
  const services = [
    { name: 'api', kind: 'api' },
    { name: 'web', kind: 'web' },
    { name: 'worker', kind: 'worker' },
  ];

  it("adds that service's resources and changes no other resource", async () => {
    const before = await buildStack(configOf({ ...base, services }));
    const after = await buildStack(
      configOf({ ...base, services: [...services, { name: 'billing', kind: 'api', port: 3100 }, { name: 'mailer', kind: 'worker' }] }),
    );
    for (const o of OVERLAYS) {
      const old = byId(before.built[o]);
      const now = byId(after.built[o]);
      const added = [...now.keys()].filter((k) => !old.has(k)).sort();
      const removed = [...old.keys()].filter((k) => !now.has(k));
      const changed = [...now.keys()].filter((k) => old.has(k) && JSON.stringify(old.get(k)) !== JSON.stringify(now.get(k)));
      const of = (name: string, routed: boolean) => [
        `ConfigMap/${name}-config`,
        `Deployment/${name}`,
        `HorizontalPodAutoscaler/${name}`,
        // An api: its auth path is a route of its own, limited harder (a RateLimitPolicy each on nginx).
        ...(routed ? [`HTTPRoute/${name}`, `HTTPRoute/${name}-auth`] : []),
        ...(routed && base.gateway !== 'kong' ? [`RateLimitPolicy/${name}`, `RateLimitPolicy/${name}-auth`] : []),
        `NetworkPolicy/${name}`,
        `PodDisruptionBudget/${name}`,
        ...(routed ? [`Service/${name}`] : []),
        `ServiceAccount/${name}`,
      ];
      expect(added, o).toEqual([...of('billing', true), ...of('mailer', false)].sort());
      expect(removed, o).toEqual([]);
      expect(changed, o).toEqual([]);
    }
  });

  it('infra-stack add service changes only the kustomizations that list it and its own file', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'infra-stack-k8s-add-')), 'shop');
    tempDirs.push(dirname(dir));
    const created = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--target', 'k8s']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const before = readTree(dir);
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'billing', '--kind', 'api', '--port', '3100', '--dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = readTree(dir);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => p.startsWith('k8s/') && before.get(p) !== after.get(p)).sort();
    expect(changed).toEqual([
      'k8s/base/kustomization.yaml',
      'k8s/base/services/billing.yaml',
      'k8s/overlays/production/kustomization.yaml',
      'k8s/overlays/staging/kustomization.yaml',
    ]);
  });
});

describe('k8s answers', () => {
  it('registry: a registry host with an optional path, default ghcr.io/<name>', () => {
    expect(buildModel(configOf({ target: 'k8s' })).k8s!.registry).toBe('ghcr.io/demo');
    const custom = buildModel(configOf({ target: 'k8s', registry: 'registry.example.com:5000/team' })).k8s!;
    expect(custom.serviceList[0].image).toBe('registry.example.com:5000/team/demo-api:0.1.0');
    for (const bad of ['https://ghcr.io/acme', 'ghcr.io/Acme', 'ghcr.io/acme:1.0', 'ghcr.io/acme/', '', 42]) {
      expect(() => configOf({ registry: bad }), String(bad)).toThrow(/Invalid registry/);
    }
  });

  it('the compose target renders no k8s file and no k8s README section', async () => {
    const tree = await renderTree(configOf({ target: 'compose' }));
    expect([...tree.keys()].filter((p) => p.startsWith('k8s/'))).toEqual([]);
    expect(tree.get('README.md')!.content).not.toContain('## Kubernetes');
    expect(buildModel(configOf({})).k8s).toBeNull();
  });

  it('create-infra-stack --target k8s --registry writes the answer and the images', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'infra-stack-k8s-cli-')), 'shop');
    tempDirs.push(dirname(dir));
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--target', 'k8s', '--registry', 'registry.example.com/team']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parse(readFileSync(join(dir, 'infra-stack.yaml'), 'utf8')).registry).toBe('registry.example.com/team');
    expect(readFileSync(join(dir, 'k8s/base/services/api.yaml'), 'utf8')).toContain('image: registry.example.com/team/shop-api:0.1.0');
    expect(runCli(CREATE_BIN, [`${dir}-2`, '--yes', '--registry', 'HTTPS://x']).stderr).toMatch(/Invalid registry/);
  });
});

describe('the sample service runs as the k8s uid (10001) with nothing writable', () => {
  // Needs root to own the files.
  it.skipIf(!isRoot())('serves /health from root-owned, read-only files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-stack-uid-'));
    tempDirs.push(dir);
    const app = join(dir, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    const sources = readdirSync(join(ROOT, 'templates/sample/services/__service__/src'));
    for (const file of sources) cpSync(join(ROOT, 'templates/sample/services/__service__/src', file), join(app, 'src', file));
    // As in the image: files readable by everyone, writable by their owner only (here root).
    const modes: [string, number][] = [[dir, 0o755], [app, 0o755], [join(app, 'src'), 0o755], ...sources.map((f): [string, number] => [join(app, 'src', f), 0o644])];
    for (const [path, mode] of modes) chmodSync(path, mode);
    const port = await freePort();
    const child = spawn('setpriv', ['--reuid=10001', '--regid=10001', '--clear-groups', '--', process.execPath, 'src/index.js'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', SERVICE_NAME: 'api', SERVICE_KIND: 'api', HOME: '/nonexistent', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    try {
      const get = () =>
        new Promise<number>((resolve, reject) => {
          http.get(`http://127.0.0.1:${port}/health`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
        });
      // Until it listens (or exits): a slow machine may take seconds to start node.
      const status = await waitFor(() => (child.exitCode === null ? get().catch(() => 0) : -1), 20_000, { intervalMs: 50, what: 'the sample to listen' });
      expect(status, output).toBe(200);
      expect(output).toMatch(/listening/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('the checkers catch broken manifests', () => {
  let good: Resource[] = [];
  const clone = (): Resource[] => structuredClone(good);
  const deployment = (rs: Resource[]) => rs.find((r) => r.kind === 'Deployment')!;
  const pod = (rs: Resource[]) => deployment(rs).spec.template.spec;
  const container = (rs: Resource[]) => pod(rs).containers[0];

  beforeAll(async () => {
    // One service's file and the namespace policies, as rendered (no kubectl needed).
    const tree = await renderTree(configOf({ target: 'k8s', gateway: 'kong' }));
    good = ['k8s/base/services/api.yaml', 'k8s/base/network-policies.yaml', 'k8s/base/kong-plugins.yaml'].flatMap((p) => parseResources(tree.get(p)!.content));
  });

  it('passes the rendered manifests (the control)', async () => {
    expect(schemaProblems(good)).toEqual([]);
    expect(await unknownFieldProblems([{ label: 'good', resources: good }])).toEqual([]);
    expect(hardeningProblems(good)).toEqual([]);
  });

  it('schemas: a wrong type and a missing required field', () => {
    const rs = clone();
    deployment(rs).spec.revisionHistoryLimit = 'five';
    rs.find((r) => r.kind === 'HTTPRoute')!.spec.parentRefs = [{ sectionName: 'https' }];
    const problems = schemaProblems(rs);
    expect(problems.join('\n')).toMatch(/Deployment\/api: .*revisionHistoryLimit must be integer/);
    expect(problems.join('\n')).toMatch(/HTTPRoute\/api: .*must have required property 'name'/);
  });

  it('unknown fields, which the schemas let through, are caught by the TypeScript check', async () => {
    const rs = clone();
    container(rs).imagePullPolcy = 'Always';
    rs.find((r) => r.kind === 'HTTPRoute')!.spec.rules[0].backendRefs[0].prot = 80;
    rs.find((r) => r.kind === 'PodDisruptionBudget')!.spec.unhealthyPodEvictionPolicyy = 'AlwaysAllow';
    rs.find((r) => r.kind === 'KongPlugin')!.configs = {};
    expect(schemaProblems(rs).filter((p) => !p.startsWith('KongPlugin'))).toEqual([]); // kubernetes-models does not see them
    const problems = (await unknownFieldProblems([{ label: 'broken', resources: rs }])).join('\n');
    expect(problems).toMatch(/broken Deployment\/api: .*'imagePullPolcy' does not exist/);
    expect(problems).toMatch(/broken HTTPRoute\/api: .*'prot' does not exist/);
    expect(problems).toMatch(/broken PodDisruptionBudget\/api: .*'unhealthyPodEvictionPolicyy' does not exist/);
    expect(problems).toMatch(/broken KongPlugin\/\S+: .*'configs' does not exist/);
  });

  it("NGINX Gateway Fabric's policies: the CRD rules and unknown fields", async () => {
    const tree = await renderTree(configOf({ target: 'k8s', gateway: 'nginx' }));
    const policies = ['k8s/base/services/api.yaml', 'k8s/base/gateway.yaml']
      .flatMap((p) => parseResources(tree.get(p)!.content))
      .filter((r) => r.apiVersion === 'gateway.nginx.org/v1alpha1');
    expect(policies.map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual(['ClientSettingsPolicy/gateway', 'RateLimitPolicy/api', 'RateLimitPolicy/api-auth']);
    expect(schemaProblems(policies)).toEqual([]);
    expect(await unknownFieldProblems([{ label: 'good', resources: policies }])).toEqual([]);
    const broken = structuredClone(policies);
    const limit = broken.find((r) => r.metadata.name === 'api')!;
    limit.spec.rateLimit.local.rules[0].rate = '10/s';
    limit.spec.targetRefs[0].kind = 'Service';
    limit.spec.rateLimit.local.rules[0].limit = 5;
    broken.find((r) => r.kind === 'ClientSettingsPolicy')!.spec.body.maxSize = '16MB';
    const problems = schemaProblems(broken).join('\n');
    expect(problems).toMatch(/RateLimitPolicy\/api: rate 10\/s is not/);
    expect(problems).toMatch(/RateLimitPolicy\/api: target Service\/api is not/);
    expect(problems).toMatch(/ClientSettingsPolicy\/gateway: body.maxSize 16MB is not a size/);
    expect((await unknownFieldProblems([{ label: 'broken', resources: broken }])).join('\n')).toMatch(/RateLimitPolicy\/api: .*'limit' does not exist/);
  });

  it("KongPlugin config fields are checked against Kong's plugin schemas", () => {
    const cors = structuredClone(good.find((r) => r.kind === 'KongPlugin' && r.plugin === 'cors')!);
    expect(kongPluginProblems(cors)).toEqual([]);
    cors.config.origin = ['https://x'];
    expect(kongPluginProblems(cors)).toEqual(['KongPlugin/cors: config.origin is not a field of cors']);
    expect(kongPluginProblems({ ...cors, plugin: 'no-such-plugin' })[0]).toMatch(/not bundled/);
  });

  // One mutation per hardening rule: each must be reported under that rule's id.
  const BREAKS: Record<string, (rs: Resource[]) => void> = {
    'run-as-non-root': (rs) => delete pod(rs).securityContext.runAsNonRoot,
    'uid-gid-above-10000': (rs) => (pod(rs).securityContext.runAsUser = 1000),
    'read-only-root': (rs) => (pod(rs).volumes = []),
    'no-privilege-escalation': (rs) => (container(rs).securityContext.allowPrivilegeEscalation = true),
    'drop-all-capabilities': (rs) => (container(rs).securityContext.capabilities.add = ['NET_ADMIN']),
    'seccomp-runtime-default': (rs) => (pod(rs).securityContext.seccompProfile = { type: 'Unconfined' }),
    resources: (rs) => delete container(rs).resources.limits.memory,
    probes: (rs) => delete container(rs).startupProbe,
    'no-service-account-token': (rs) => (pod(rs).automountServiceAccountToken = true),
    'pinned-image': (rs) => (container(rs).image = 'ghcr.io/demo/demo-api:latest'),
    'image-pull-always': (rs) => (container(rs).imagePullPolicy = 'IfNotPresent'),
    replicas: (rs) => (rs.find((r) => r.kind === 'HorizontalPodAutoscaler')!.spec.minReplicas = 1),
    'pod-disruption-budget': (rs) => (rs.find((r) => r.kind === 'PodDisruptionBudget')!.spec.unhealthyPodEvictionPolicy = 'IfHealthyBudget'),
    spread: (rs) => delete pod(rs).topologySpreadConstraints,
    'network-policy': (rs) => rs.splice(0, rs.length, ...rs.filter((r) => r.kind !== 'NetworkPolicy')),
    'secrets-by-reference': (rs) => container(rs).env.push({ name: 'STRIPE_API_KEY', value: 'sk_live_123' }),
  };

  it('has a breaking case for every hardening rule', () => {
    expect(Object.keys(BREAKS).sort()).toEqual(HARDENING_RULES.map((r) => r.id).sort());
  });

  it.each(Object.keys(BREAKS))('hardening: %s', (rule) => {
    const rs = clone();
    BREAKS[rule](rs);
    const problems = hardeningProblems(rs);
    expect(problems.length, `no problem reported for ${rule}`).toBeGreaterThan(0);
    expect(problems.every((p) => p.includes(`[${rule}]`)), problems.join('\n')).toBe(true);
  });

  it('secrets: literal values in ConfigMaps or env, Secrets written in YAML', () => {
    expect(secretLooking('DATABASE_URL', 'postgres://app:hunter2@postgres:5432/app')).toBe(true);
    expect(secretLooking('DATABASE_URL', 'postgres://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@postgres:5432/app')).toBe(false);
    expect(secretLooking('REDIS_PASSWORD', 'x')).toBe(true);
    expect(secretLooking('MEILI_URL', 'http://meilisearch:7700')).toBe(false);
    const leaky: Resource[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { JWT_SECRET: 'abc' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'abc' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'secrets-g2b5k7hm4t' }, data: {} },
    ];
    expect(secretStorageProblems(leaky, ['secrets'])).toEqual([
      'ConfigMap/settings: JWT_SECRET looks like a secret',
      'Secret/db: a Secret written in YAML, not generated from a git-ignored file',
    ]);
  });

  it('kustomizations: deprecated fields', () => {
    const text = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncommonLabels: {a: b}\npatchesStrategicMerge: [x.yaml]\n';
    expect(kustomizationProblems('k8s/base/kustomization.yaml', text)).toEqual([
      'k8s/base/kustomization.yaml: deprecated field commonLabels',
      'k8s/base/kustomization.yaml: deprecated field patchesStrategicMerge',
    ]);
  });

  it('network flows: without policies everything is allowed, with default deny nothing', () => {
    const a: Endpoint = { name: 'a', namespace: 'ns', labels: { app: 'a' }, namespaceLabels: {}, ports: { http: 80 } };
    const b: Endpoint = { ...a, name: 'b', labels: { app: 'b' } };
    expect(allowed([], a, b, 80)).toBe(true);
    const deny = good.filter((r) => r.metadata.name === 'default-deny').map((r) => ({ ...r, metadata: { ...r.metadata, namespace: 'ns' } }));
    expect(allowed(deny, a, b, 80)).toBe(false);
  });
});

describe('OpenSearch on k8s: a read-only root, its own certificate, a least-privilege user for the services', () => {
  it("the init container seeds config/ and writes users and roles that parse, with the Secret's passwords hashed", async () => {
    const tree = await renderTree(configOf({ target: 'k8s', search: 'opensearch' }));
    const docs = parseResources(tree.get('k8s/components/data-services/opensearch.yaml')!.content);
    const sts = docs.find((r) => r.kind === 'StatefulSet')!;
    const [init] = sts.spec.template.spec.initContainers;
    const [main] = sts.spec.template.spec.containers;
    for (const c of [init, main]) expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true);
    expect(main.image).toMatch(/^opensearchproject\/opensearch:\d+\.\d+\.\d+$/); // an exact release
    const mounts = Object.fromEntries(main.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
    expect(mounts).toMatchObject({ config: '/usr/share/opensearch/config', logs: '/usr/share/opensearch/logs', tmp: '/tmp', tls: '/usr/share/opensearch/config/certs' });
    const env = Object.fromEntries(main.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ DISABLE_INSTALL_DEMO_CONFIG: 'true', 'plugins.security.ssl.http.pemcert_filepath': 'certs/tls.crt', 'plugins.security.nodes_dn': 'CN=opensearch' });
    const cert = docs.find((r) => r.kind === 'Certificate' && r.metadata.name === 'opensearch-tls')!;
    expect(cert.spec).toMatchObject({ commonName: 'opensearch', privateKey: { encoding: 'PKCS8' } });
    expect(cert.spec.dnsNames).toContain('opensearch');

    // The script as it runs, on stand-in folders and a stand-in hash tool (no Java here).
    const tmp = mkdtempSync(join(tmpdir(), 'opensearch-init-'));
    tempDirs.push(tmp);
    mkdirSync(join(tmp, 'image/opensearch-security'), { recursive: true });
    writeFileSync(join(tmp, 'image/opensearch.yml'), 'cluster.name: docker-cluster\n');
    writeFileSync(join(tmp, 'image/opensearch-security/internal_users.yml'), 'admin: {hash: "demo"}\n');
    mkdirSync(join(tmp, 'seed'));
    writeFileSync(join(tmp, 'hash.sh'), '#!/bin/sh\necho "**************************************************************************"\necho "hashed:$2"\n', { mode: 0o755 });
    const script: string = init.command[2]
      .replaceAll('/usr/share/opensearch/plugins/opensearch-security/tools/hash.sh', join(tmp, 'hash.sh'))
      .replaceAll('/usr/share/opensearch/config', join(tmp, 'image'))
      .replaceAll('/seed', join(tmp, 'seed'));
    const r = spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, OPENSEARCH_INITIAL_ADMIN_PASSWORD: 'Os1-admin', OPENSEARCH_APP_PASSWORD: 'Os1-app' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const yml = (f: string) => parse(readFileSync(join(tmp, 'seed/opensearch-security', f), 'utf8'));
    expect(readFileSync(join(tmp, 'seed/opensearch.yml'), 'utf8')).toContain('cluster.name'); // the image's config, copied
    expect(yml('internal_users.yml')).toEqual({
      _meta: { type: 'internalusers', config_version: 2 },
      admin: { hash: 'hashed:Os1-admin', reserved: true, backend_roles: ['admin'] },
      app: { hash: 'hashed:Os1-app', reserved: true },
    });
    expect(yml('roles.yml').app).toEqual({
      reserved: true,
      cluster_permissions: ['cluster_monitor', 'cluster_composite_ops'],
      index_permissions: [{ index_patterns: ['demo-*'], allowed_actions: ['crud', 'create_index', 'manage'] }],
    });
    expect(yml('roles_mapping.yml').app).toEqual({ reserved: true, users: ['app'] });
  });
});
