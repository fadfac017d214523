// The generated repository as one system, for every gateway x queue x search combination on both
// targets: each file may pass its own validator and still disagree with another. These tests read
// the files as their tools do and cross them: gateway upstreams against compose services, images CI
// pushes against what compose.prod.yaml and the overlays pull, what the sample reads against what
// compose, Kubernetes and PM2 give it, the production file set, and the probes against the
// endpoints the sample really serves (run with its dependencies down).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataRole } from '../src/model/types.js';
import { freePort, killOnExit, waitFor } from './helpers/services.js';
import { COMBINATIONS, configOf, writeStack } from './helpers/stack.js';
import {
  ciProducesTag,
  composeEnv,
  composeOf,
  deployedPaths,
  gatewayUpstreams,
  k8sContainerEnv,
  kustomize,
  networksOf,
  pm2Apps,
  probePath,
  pushedImages,
  sampleEndpoints,
  sampleReads,
  type Env,
} from './helpers/system.js';
import { tool } from './helpers/tools.js';
import { parseDotenv } from './helpers/validators.js';

const HAS_KUBECTL = tool('kubectl');

/** Three services with different needs: an api using everything, a web without queue and search, a queue-only worker. */
const SERVICES: { name: string; kind: 'api' | 'web' | 'worker'; port: number; uses?: DataRole[] }[] = [
  { name: 'api', kind: 'api', port: 3000 },
  { name: 'web', kind: 'web', port: 3001, uses: ['database', 'cache'] },
  { name: 'mailer', kind: 'worker', port: 3002, uses: ['queue'] },
];

/** The data service behind each role, for a combination. */
const dataFor = (combo: { queue: string; search: string }): Record<DataRole, string> => ({
  database: 'postgres',
  cache: 'redis',
  queue: combo.queue === 'sqs' ? 'elasticmq' : 'rabbitmq',
  search: combo.search,
});
/** The variable that points a service at each data service; the sample checks what is set. */
const ENDPOINT: Record<string, string> = {
  postgres: 'DATABASE_URL',
  redis: 'REDIS_URL',
  rabbitmq: 'AMQP_URL',
  elasticmq: 'AWS_ENDPOINT_URL_SQS',
  meilisearch: 'MEILI_URL',
  opensearch: 'OPENSEARCH_URL',
};
/** The secret (.env and the k8s Secret) that belongs to each data service. */
const SECRET_OF: Record<string, string> = {
  POSTGRES_PASSWORD: 'postgres',
  REDIS_PASSWORD: 'redis',
  RABBITMQ_DEFAULT_PASS: 'rabbitmq',
  MEILI_MASTER_KEY: 'meilisearch',
  OPENSEARCH_INITIAL_ADMIN_PASSWORD: 'opensearch',
};
const EMULATORS = ['elasticmq'];
const EMULATOR_IMAGES = [/elasticmq/];

const usedData = (combo: { queue: string; search: string }, name: string): string[] => {
  const roles = SERVICES.find((s) => s.name === name)!.uses ?? (['database', 'cache', 'queue', 'search'] as DataRole[]);
  return roles.map((r) => dataFor(combo)[r]);
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TARGETS = ['compose', 'k8s'] as const;
const CASES = TARGETS.flatMap((target) => COMBINATIONS.map((c) => ({ ...c, target })));

describe.each(CASES)('$target: $gateway + $queue + $search', (combo) => {
  const config = configOf({ ...combo, services: SERVICES }, 'sys');
  let dir = '';
  let sample = '';
  let reads: ReturnType<typeof sampleReads>;
  beforeAll(async () => {
    dir = await writeStack(config);
    dirs.push(dir);
    sample = readFileSync(join(dir, 'services/api/src/index.js'), 'utf8');
    reads = sampleReads(sample);
  });

  /** What the sample reads for a service: always, plus each used dependency's variables. */
  const needs = (name: string): string[] => [...reads.always, ...usedData(combo, name).flatMap((d) => reads.byVariable.get(ENDPOINT[d]) ?? [`(the sample has no check for ${d})`])];

  /** Every problem with one environment as a service sees it. */
  function envProblems(where: string, name: string, env: Env, secretValues: Map<string, string>): string[] {
    const problems: string[] = [];
    for (const v of needs(name)) if (!env[v]) problems.push(`${where} ${name}: reads ${v}, not provided`);
    const used = usedData(combo, name);
    for (const [data, variable] of Object.entries(ENDPOINT)) {
      // A variable of something it does not use would switch a check on (and a secret in).
      if (!used.includes(data) && env[variable]) problems.push(`${where} ${name}: gets ${variable} but does not use ${data}`);
    }
    for (const [key, value] of secretValues) {
      if (used.includes(SECRET_OF[key])) continue;
      for (const [k, v] of Object.entries(env)) if (value && v.includes(value)) problems.push(`${where} ${name}: ${k} holds ${key}, a secret of ${SECRET_OF[key]} it does not use`);
    }
    return problems;
  }
  const dotenvSecrets = () => new Map([...parseDotenv(readFileSync(join(dir, '.env'), 'utf8'))].filter(([k]) => k in SECRET_OF));

  it('the sample has a check for every data service, and serves /livez, /readyz and /health', () => {
    for (const variable of Object.values(ENDPOINT)) expect([...reads.byVariable.keys()]).toContain(variable);
    expect(sampleEndpoints(sample)).toEqual(expect.arrayContaining(['/livez', '/readyz', '/health']));
  });

  it('every upstream the gateway routes to is a compose service on a network it shares with the gateway, listening on that port', () => {
    const compose = composeOf(dir, ['compose.prod.yaml']);
    const gateway = compose.services.gateway;
    const upstreams = gatewayUpstreams(dir, combo.gateway, config.domain);
    expect(upstreams.map((u) => u.host).sort()).toEqual(['api', 'web']);
    for (const { host, port } of upstreams) {
      const s = compose.services[host];
      expect(s, `${host} is not a compose service`).toBeDefined();
      expect(networksOf(s).filter((n) => networksOf(gateway).includes(n)), `${host} shares no network with the gateway`).not.toEqual([]);
      expect(composeEnv(dir, s).PORT, `${host} listens on PORT`).toBe(String(port));
    }
  });

  it('the images CI pushes are the ones compose.prod.yaml pulls, at a tag the deploy sets from a CI tag', () => {
    const pushed = pushedImages(dir);
    expect(pushed.names).toHaveLength(SERVICES.length);
    const prod = composeOf(dir, ['compose.prod.yaml']);
    for (const s of SERVICES) {
      const image = prod.services[s.name].image!;
      const [name, tag] = image.split(/:(?=\$\{)/);
      expect(pushed.names).toContain(name);
      expect(tag).toMatch(/^\$\{IMAGE_TAG:\?/); // set by scripts/deploy.sh to the release deploy.yml picked
    }
    // deploy.yml's release: sha-<7> of the commit, the form metadata-action's `type=sha` pushes.
    const deploy = readFileSync(join(dir, '.github/workflows/deploy.yml'), 'utf8');
    expect(deploy).toContain('tag=${INPUT_TAG:-sha-${HEAD_SHA:0:7}}');
    expect(ciProducesTag(pushed.tags, 'sha-1a2b3c4')).toBe(true);
  });

  it('the production file set has no build context and no emulator; only production files reach a server', () => {
    const prod = composeOf(dir, ['compose.prod.yaml']);
    for (const [name, s] of Object.entries(prod.services)) {
      expect(s.build, `${name} builds in production`).toBeUndefined();
      expect(EMULATORS, `${name} is an emulator`).not.toContain(name);
      for (const emulator of EMULATOR_IMAGES) expect(s.image ?? '', `${name} runs an emulator image`).not.toMatch(emulator);
      for (const dep of Object.keys(s.depends_on ?? {})) expect(prod.services[dep], `${name} waits for ${dep}, not in production`).toBeDefined();
    }
    if (combo.target === 'compose') {
      const paths = deployedPaths(dir);
      expect(paths).toEqual(expect.arrayContaining(['compose.yaml', 'compose.prod.yaml', 'scripts/']));
      for (const p of paths) expect(p).not.toMatch(/^(compose\.override\.yaml|services\/|elasticmq\/|\.\/?$)/);
    }
  });

  it('compose (production) gives each service what the sample reads, and no secret it does not use', () => {
    const prod = composeOf(dir, ['compose.prod.yaml']);
    const problems = SERVICES.flatMap((s) => envProblems('compose', s.name, composeEnv(dir, prod.services[s.name]), dotenvSecrets()));
    expect(problems).toEqual([]);
  });

  it('PM2 gives each service what the sample reads, and no secret it does not use', () => {
    const apps = pm2Apps(dir);
    expect(apps.map((a) => a.name)).toEqual(SERVICES.map((s) => s.name));
    const problems = apps.flatMap((a) => envProblems('pm2', a.name, a.env, dotenvSecrets()));
    expect(problems).toEqual([]);
  });

  it('compose healthchecks and the Dockerfile HEALTHCHECK ask /readyz on the service port', () => {
    const compose = composeOf(dir, []);
    for (const s of SERVICES) {
      const check = probePath((compose.services[s.name].healthcheck?.test ?? []).join(' '));
      expect(check).toEqual({ port: s.port, path: '/readyz' });
      const dockerfile = readFileSync(join(dir, 'services', s.name, 'Dockerfile'), 'utf8');
      expect(probePath(/HEALTHCHECK[\s\S]*?CMD (.+)/.exec(dockerfile)![1])).toEqual({ port: s.port, path: '/readyz' });
    }
  });

  if (combo.target === 'k8s') {
    describe.skipIf(!HAS_KUBECTL)('the overlays, as kubectl kustomize builds them', () => {
      it.each(['staging', 'production'])('%s: routes, images, environment and probes agree with the rest', (overlay) => {
        const docs = kustomize(dir, overlay);
        const of = (kind: string) => docs.filter((d) => d.kind === kind);
        const pushed = pushedImages(dir);
        const secrets = new Map([...parseDotenv(readFileSync(join(dir, `k8s/overlays/${overlay}/secrets.env`), 'utf8'))].filter(([k]) => k in SECRET_OF));
        const problems: string[] = [];
        for (const s of SERVICES) {
          const deployment = of('Deployment').find((d) => d.metadata.name === s.name);
          if (!deployment) {
            problems.push(`no Deployment ${s.name}`);
            continue;
          }
          const container = deployment.spec.template.spec.containers[0];
          // Images: the name CI pushes, a tag CI produces.
          const [name, tag] = container.image.split(/:(?=[^:/]+$)/);
          if (!pushed.names.includes(name)) problems.push(`${s.name}: pulls ${name}, CI pushes ${pushed.names.join(', ')}`);
          if (!ciProducesTag(pushed.tags, tag)) problems.push(`${s.name}: tag ${tag} is not one CI produces (${pushed.tags.join('; ')})`);
          // Environment: what the sample reads; only its own secrets.
          const { env, secretKeys, secretRefs } = k8sContainerEnv(docs, deployment);
          problems.push(...envProblems(`k8s ${overlay}`, s.name, env, new Map()));
          for (const key of secretKeys) if (key in SECRET_OF && !usedData(combo, s.name).includes(SECRET_OF[key])) problems.push(`${s.name}: reads Secret key ${key} it does not use`);
          for (const ref of secretRefs) problems.push(`${s.name}: takes the whole Secret ${ref}`);
          for (const [key, value] of secrets) if (JSON.stringify(deployment).includes(value)) problems.push(`${s.name}: ${key}'s value is in the Deployment`);
          // Probes: liveness and startup ask whether the process answers, readiness whether it can serve.
          const port = container.ports.find((p: { name: string }) => p.name === 'http');
          if (env.PORT !== String(port?.containerPort)) problems.push(`${s.name}: PORT ${env.PORT} but the http port is ${port?.containerPort}`);
          const paths = { startup: container.startupProbe, liveness: container.livenessProbe, readiness: container.readinessProbe };
          const expected = { startup: '/livez', liveness: '/livez', readiness: '/readyz' };
          for (const [probe, spec] of Object.entries(paths)) {
            if (spec?.httpGet?.path !== expected[probe as keyof typeof expected] || spec.httpGet.port !== 'http')
              problems.push(`${s.name}: ${probe}Probe ${JSON.stringify(spec?.httpGet)}, expected ${expected[probe as keyof typeof expected]} on http`);
          }
        }
        // Routes: each HTTPRoute backend is a Service whose target port is the Deployment's PORT.
        for (const route of of('HTTPRoute')) {
          for (const ref of route.spec.rules.flatMap((r: { backendRefs?: unknown[] }) => r.backendRefs ?? [])) {
            const svc = of('Service').find((d) => d.metadata.name === ref.name);
            const port = svc?.spec.ports.find((p: { port: number }) => p.port === ref.port);
            const deployment = of('Deployment').find((d) => d.metadata.name === ref.name);
            const containerPort = deployment?.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === port?.targetPort);
            if (!svc || !port || !containerPort) problems.push(`HTTPRoute ${route.metadata.name}: backend ${ref.name}:${ref.port} reaches no container port`);
          }
        }
        // The migration Job runs the api image CI pushes too.
        for (const job of of('Job')) {
          const image: string = job.spec.template.spec.containers[0].image;
          if (!pushed.names.includes(image.split(/:(?=[^:/]+$)/)[0])) problems.push(`Job ${job.metadata.name}: pulls ${image}`);
        }
        expect(problems).toEqual([]);
      });
    });
  }
});

describe('the probes against the sample itself, its dependencies down', () => {
  it("liveness 200, readiness 503: with the api's compose environment, whose hosts do not resolve here", async () => {
    const config = configOf({ queue: 'rabbitmq', search: 'meilisearch', services: SERVICES }, 'probe');
    const dir = await writeStack(config);
    dirs.push(dir);
    const compose = composeOf(dir, ['compose.prod.yaml']);
    const port = await freePort();
    const env = { ...composeEnv(dir, compose.services.api), PORT: String(port), HOST: '127.0.0.1', HEALTH_TIMEOUT_MS: '1500', PATH: process.env.PATH ?? '' };
    const child = killOnExit(spawn(process.execPath, [join(dir, 'services/api/src/index.js')], { env, stdio: 'ignore' }));
    try {
      const status = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status, () => 0);
      await waitFor(async () => (await status('/livez')) === 200, 10_000, { what: 'the sample to listen' });
      expect(await status('/readyz')).toBe(503);
      expect(await status('/health')).toBe(503);
      // The compose healthcheck's own command, pointed at this port: it fails while the dependencies are down.
      const test = compose.services.api.healthcheck!.test!.slice(1).map((a) => a.replace(':3000/', `:${port}/`));
      expect(spawnSync(test[0], test.slice(1), { timeout: 10_000 }).status).toBe(1);
      const live = test.map((a) => a.replace('/readyz', '/livez'));
      expect(spawnSync(live[0], live.slice(1), { timeout: 10_000 }).status).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
