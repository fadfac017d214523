// The generated repository as one system, for every gateway x queue x search combination on both
// targets: each file may pass its own validator and still disagree with another. These tests read
// the files as their tools do and cross them: gateway upstreams against compose services, images CI
// pushes against what compose.prod.yaml and the overlays pull, what the sample reads against what
// compose, Kubernetes and PM2 give it, the production file set, and the probes against the
// endpoints the sample really serves (run with its dependencies down).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataRole } from '../src/model/types.js';
import { fakeHttp } from './helpers/day2.js';
import { kustomize } from './helpers/k8s.js';
import { freePort, killOnExit, startPostgres, startRabbitMQ, startRedis, waitFor } from './helpers/services.js';
import { COMBINATIONS, ROOT, configOf, writeStack } from './helpers/stack.js';
import {
  DOCKER_STAND_IN,
  ciProducesTag,
  composeEnv,
  composeOf,
  deployedPaths,
  gatewayUpstreams,
  k8sContainerEnv,
  networksOf,
  pm2Apps,
  probePath,
  pushedImages,
  sampleEndpoints,
  sampleReads,
  type ComposeService,
  type Env,
} from './helpers/system.js';
import { tool } from './helpers/tools.js';
import { installedNginxVersion, interpolate, nssWrapperLibrary, parseDotenv, run } from './helpers/validators.js';

const HAS_KUBECTL = tool('kubectl');

/** Three services with different needs: an api using everything, a web without queue and search, a queue-only worker. */
const SERVICES: { name: string; kind: 'api' | 'web' | 'worker'; port: number; uses?: DataRole[] }[] = [
  { name: 'api', kind: 'api', port: 3000 },
  { name: 'web', kind: 'web', port: 3001, uses: ['database', 'cache'] },
  { name: 'mailer', kind: 'worker', port: 3002, uses: ['queue'] },
];

/** The data service behind each role, for a combination (every case has storage: s3). */
const dataFor = (combo: { queue: string; search: string }): Record<DataRole, string> => ({
  database: 'postgres',
  cache: 'redis',
  queue: combo.queue === 'sqs' ? 'elasticmq' : 'rabbitmq',
  search: combo.search,
  storage: 'seaweedfs',
});
/** The variable that points a service at each data service; the sample checks what is set. */
const ENDPOINT: Record<string, string> = {
  postgres: 'DATABASE_URL',
  redis: 'REDIS_URL',
  rabbitmq: 'AMQP_URL',
  elasticmq: 'AWS_ENDPOINT_URL_SQS',
  meilisearch: 'MEILI_URL',
  opensearch: 'OPENSEARCH_URL',
  seaweedfs: 'S3_BUCKET',
};
/** The secret (.env and the k8s Secret) that belongs to each data service. */
const SECRET_OF: Record<string, string> = {
  POSTGRES_PASSWORD: 'postgres',
  REDIS_PASSWORD: 'redis',
  RABBITMQ_DEFAULT_PASS: 'rabbitmq',
  MEILI_API_KEY: 'meilisearch',
  OPENSEARCH_INITIAL_ADMIN_PASSWORD: 'opensearch',
  OPENSEARCH_APP_PASSWORD: 'opensearch',
};
/** Secrets no service may hold, whatever it uses: the data services' own admin keys. */
const ADMIN_ONLY = ['MEILI_MASTER_KEY'];
const EMULATORS = ['elasticmq', 'seaweedfs'];
/** Opt-out flags the sample reads, whose absence is the safe default (verify TLS). */
const OPT_OUT = ['OPENSEARCH_TLS_VERIFY'];
const EMULATOR_IMAGES = [/elasticmq/, /seaweedfs/];

const usedData = (combo: { queue: string; search: string }, name: string): string[] => {
  const roles = SERVICES.find((s) => s.name === name)!.uses ?? (['database', 'cache', 'queue', 'search', 'storage'] as DataRole[]);
  return roles.map((r) => dataFor(combo)[r]);
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TARGETS = ['compose', 'k8s'] as const;
// Every optional feature on, so the files of storage and monitoring are crossed with the rest too.
const CASES = TARGETS.flatMap((target) => COMBINATIONS.map((c) => ({ ...c, target, storage: 's3' as const, monitoring: 'prometheus' as const })));

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
    for (const v of needs(name)) if (!env[v] && !OPT_OUT.includes(v)) problems.push(`${where} ${name}: reads ${v}, not provided`);
    const used = usedData(combo, name);
    for (const [data, variable] of Object.entries(ENDPOINT)) {
      // A variable of something it does not use would switch a check on (and a secret in).
      if (!used.includes(data) && env[variable]) problems.push(`${where} ${name}: gets ${variable} but does not use ${data}`);
    }
    for (const [key, value] of secretValues) {
      if (!ADMIN_ONLY.includes(key) && used.includes(SECRET_OF[key])) continue;
      for (const [k, v] of Object.entries(env)) if (value && v.includes(value)) problems.push(`${where} ${name}: ${k} holds ${key}, ${ADMIN_ONLY.includes(key) ? 'an admin secret' : `a secret of ${SECRET_OF[key]} it does not use`}`);
    }
    return problems;
  }
  const dotenvSecrets = () => new Map([...parseDotenv(readFileSync(join(dir, '.env'), 'utf8'))].filter(([k]) => k in SECRET_OF || ADMIN_ONLY.includes(k)));

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
    // What `up` starts: a service behind a profile (monitoring, certbot) only when asked for.
    const started = Object.entries(prod.services).filter(([, s]) => !s.profiles);
    expect(started.map(([name]) => name)).toEqual(expect.arrayContaining(['postgres', 'gateway', ...SERVICES.map((s) => s.name)]));
    expect(prod.services.seaweedfs, 'the S3 stand-in is development only').toBeUndefined();
    for (const [name, s] of started) {
      expect(s.build, `${name} builds in production`).toBeUndefined();
      expect(EMULATORS, `${name} is an emulator`).not.toContain(name);
      for (const emulator of EMULATOR_IMAGES) expect(s.image ?? '', `${name} runs an emulator image`).not.toMatch(emulator);
      for (const dep of Object.keys(s.depends_on ?? {})) expect(prod.services[dep], `${name} waits for ${dep}, not in production`).toBeDefined();
    }
    if (combo.target === 'compose') {
      const paths = deployedPaths(dir);
      expect(paths).toEqual(expect.arrayContaining(['compose.yaml', 'compose.prod.yaml', 'scripts/']));
      expect(paths, 'the monitoring profile needs its configuration on the server').toContain('monitoring/');
      for (const p of paths) expect(p).not.toMatch(/^(compose\.override\.yaml|services\/|elasticmq\/|seaweedfs\/|\.\/?$)/);
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
      it.each(['staging', 'production'])('%s: routes, images, environment and probes agree with the rest', async (overlay) => {
        const docs = await kustomize(join(dir, 'k8s/overlays', overlay));
        const of = (kind: string) => docs.filter((d) => d.kind === kind);
        const pushed = pushedImages(dir);
        const secrets = new Map([...parseDotenv(readFileSync(join(dir, `k8s/overlays/${overlay}/secrets.env`), 'utf8'))].filter(([k]) => k in SECRET_OF || ADMIN_ONLY.includes(k)));
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
          for (const key of secretKeys) {
            if (ADMIN_ONLY.includes(key)) problems.push(`${s.name}: reads the admin secret ${key}`);
            else if (key in SECRET_OF && !usedData(combo, s.name).includes(SECRET_OF[key])) problems.push(`${s.name}: reads Secret key ${key} it does not use`);
          }
          for (const ref of secretRefs) problems.push(`${s.name}: takes the whole Secret ${ref}`);
          // OpenSearch in the cluster: its own user and a verified certificate, never admin with verification off.
          if (env.OPENSEARCH_URL) {
            if (env.OPENSEARCH_TLS_VERIFY === 'false') problems.push(`${s.name}: OpenSearch TLS verification off`);
            if (env.OPENSEARCH_USERNAME === 'admin' || secretKeys.includes('OPENSEARCH_INITIAL_ADMIN_PASSWORD')) problems.push(`${s.name}: logs in to OpenSearch as admin`);
            const ca = env.NODE_EXTRA_CA_CERTS;
            const mounted = container.volumeMounts?.some((m: { mountPath: string }) => ca?.startsWith(`${m.mountPath}/`));
            if (!ca || !mounted) problems.push(`${s.name}: no mounted CA to verify OpenSearch with (NODE_EXTRA_CA_CERTS ${ca})`);
          }
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

// The production path end to end where its processes run here: the services under PM2 (`--env
// production`), behind the generated nginx, on TLS with the certificate scripts/dev-certs.sh makes,
// talking to real PostgreSQL, Redis and RabbitMQ (Meilisearch: a stand-in that answers /health).
// nginx and PM2 run in a network namespace, so nginx can bind 80 and 443 and the services their
// own ports; the data services stay on this host's loopback, reached through a unix socket each
// (a file path is the same in both namespaces).
const E2E_TOOLS = ['nginx', 'ip', 'curl', 'openssl', 'redis-server', 'rabbitmq-server', 'initdb'];
describe.skipIf(!E2E_TOOLS.every((t) => tool(t)))('production path: PM2 behind the generated nginx, over TLS', () => {
  const DOMAIN = 'e2e.localhost';
  const ns = `infra-stack-sys-${process.pid}`;
  const PM2_BIN = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
  const stops: (() => Promise<unknown> | unknown)[] = [];
  let dir = '';
  let pm2Home = '';

  // Asynchronous: a blocked event loop would stall the stand-in Meilisearch this process serves.
  const inNs = (command: string, args: string[]) => run('ip', ['netns', 'exec', ns, command, ...args], { env: { ...process.env, PM2_HOME: pm2Home }, timeoutMs: 60_000 });
  const curl = (...args: string[]) =>
    inNs('curl', ['-sS', '--max-time', '10', '--cacert', join(dir, 'certs/live', DOMAIN, 'fullchain.pem'), '--resolve', `${DOMAIN}:443:127.0.0.1`, '--resolve', `${DOMAIN}:80:127.0.0.1`, ...args]);

  beforeAll(async () => {
    const version = installedNginxVersion();
    if (!version) throw new Error('nginx -v printed no version');
    const starting = Promise.allSettled([startPostgres(), startRedis(`r-${process.pid}`), startRabbitMQ(), fakeHttp((p) => (p === '/health' ? 200 : 404))]);
    stops.push(async () => Promise.all((await starting).map((r) => (r.status === 'fulfilled' ? ('stop' in r.value ? r.value.stop() : r.value.close()) : null))));
    const config = configOf({ gateway: 'nginx', queue: 'rabbitmq', search: 'meilisearch', domain: DOMAIN, nginxVersion: version, services: SERVICES }, 'e2e');
    dir = await writeStack(config);
    dirs.push(dir);
    const certs = spawnSync('sh', ['scripts/dev-certs.sh'], { cwd: dir, encoding: 'utf8' });
    expect(certs.status, certs.stderr).toBe(0);
    const results = await starting;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [pg, redis, rabbit, meili] = results.map((r) => (r as PromiseFulfilledResult<{ url: string; port: number }>).value);
    // .env as on a host: the URLs of the data services (ports as they are here).
    const env = readFileSync(join(dir, '.env'), 'utf8')
      .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${pg.url}`)
      .replace(/^REDIS_URL=.*$/m, `REDIS_URL=${redis.url}`)
      .replace(/^AMQP_URL=.*$/m, `AMQP_URL=${rabbit.url}`)
      .replace(/^MEILI_URL=.*$/m, `MEILI_URL=${meili.url}`);
    writeFileSync(join(dir, '.env'), env);

    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    stops.push(() => spawnSync('ip', ['netns', 'del', ns]));
    expect((await inNs('ip', ['link', 'set', 'lo', 'up'])).code).toBe(0);

    // Each data service port: loopback in the namespace -> a unix socket -> loopback here.
    const sockets = mkdtempSync(join(tmpdir(), 'sys-bridge-'));
    stops.push(() => rmSync(sockets, { recursive: true, force: true }));
    const pairs = [pg, redis, rabbit, meili].map((s): [number, string] => [s.port, join(sockets, `${s.port}.sock`)]);
    const outside = killOnExit(spawn(process.execPath, ['-e', BRIDGE, JSON.stringify(pairs.map(([port, sock]) => [sock, port]))], { stdio: 'ignore' }));
    stops.push(() => outside.kill('SIGKILL'));
    await waitFor(() => pairs.every(([, sock]) => existsSync(sock)), 10_000, { what: 'the unix sockets' });
    const inside = killOnExit(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', BRIDGE, JSON.stringify(pairs)], { stdio: 'ignore' }));
    stops.push(() => inside.kill('SIGKILL'));

    // PM2 in the namespace, as on a production host.
    pm2Home = mkdtempSync(join(tmpdir(), 'sys-pm2-'));
    stops.push(() => rmSync(pm2Home, { recursive: true, force: true }));
    stops.push(() => inNs(process.execPath, [PM2_BIN, 'kill']));
    const started = spawnSync('ip', ['netns', 'exec', ns, process.execPath, PM2_BIN, 'start', 'ecosystem.config.cjs', '--env', 'production'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: pm2Home, PM2_HOME: pm2Home },
    });
    expect(started.status, started.stdout + started.stderr).toBe(0);

    // The generated nginx (rendered for this nginx), its files where its relative paths expect them.
    const prefix = mkdtempSync(join(tmpdir(), 'sys-nginx-'));
    stops.push(() => rmSync(prefix, { recursive: true, force: true }));
    cpSync(join(dir, 'nginx'), prefix, { recursive: true });
    cpSync(join(dir, 'certs'), join(prefix, 'certs'), { recursive: true });
    cpSync('/etc/nginx/mime.types', join(prefix, 'mime.types'));
    writeFileSync(join(prefix, 'hosts'), '127.0.0.1 api\n127.0.0.1 web\n127.0.0.1 localhost\n');
    const log = join(prefix, 'nginx.log');
    const nginx = killOnExit(
      spawn('ip', ['netns', 'exec', ns, 'nginx', '-e', 'stderr', '-c', join(prefix, 'nginx.conf'), '-p', `${prefix}/`, '-g', 'daemon off;'], {
        env: { ...process.env, LD_PRELOAD: nssWrapperLibrary(), NSS_WRAPPER_HOSTS: join(prefix, 'hosts') },
        stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
      }),
    );
    stops.push(() => nginx.kill('SIGQUIT'));
    await waitFor(async () => (await curl('-o', '/dev/null', '-w', '%{http_code}', `https://${DOMAIN}/api/readyz`)).stdout === '200', 60_000, {
      what: 'nginx, PM2 and the services to be ready',
    }).catch((error: Error) => {
      const logs = ['api', 'web', 'mailer'].map((n) => `${n}: ${readIfThere(join(dir, 'logs', `${n}-error.log`))}${readIfThere(join(dir, 'logs', `${n}-out.log`))}`);
      throw new Error(`${error.message}\nnginx log:\n${readIfThere(log)}\n${logs.join('\n')}`);
    });
  }, 180_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }, 60_000);

  it.each([
    ['api', '/api/'],
    ['web', '/'],
  ])('%s: its route answers through TLS (HTTP/2, the dev CA), with the forwarding headers', async (name, prefix) => {
    const r = await curl('--http2', '-w', '\n%{http_version} %{http_code}', `https://${DOMAIN}${prefix}whoami`);
    const [body, status] = r.stdout.split('\n');
    expect(status, r.stderr).toBe('2 200');
    expect(JSON.parse(body)).toMatchObject({ service: name, headers: { 'x-forwarded-proto': 'https', host: DOMAIN } });
  });

  it.each([
    ['api', '/api/'],
    ['web', '/'],
  ])('%s: ready through the gateway: its database, cache and queue answer over the production path', async (_name, prefix) => {
    const r = await curl('-w', '\n%{http_code}', `https://${DOMAIN}${prefix}readyz`);
    const [body, status] = r.stdout.split('\n');
    expect(status, body).toBe('200');
    expect(Object.values(JSON.parse(body).checks).every((c) => (c as { ok: boolean }).ok)).toBe(true);
  });

  it('the worker, not routed, is ready on its own port; every service is online under PM2 in production mode', async () => {
    const r = await inNs('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:3002/readyz']);
    expect(r.stdout).toBe('200');
    const list = JSON.parse((await inNs(process.execPath, [PM2_BIN, 'jlist'])).stdout) as { name: string; pm2_env: { status: string; NODE_ENV?: string; env?: Env } }[];
    expect([...new Set(list.map((p) => p.name))].sort()).toEqual(['api', 'mailer', 'web']);
    for (const p of list) expect(p.pm2_env.status, p.name).toBe('online');
  });

  it('port 80 redirects to https; /healthz answers on both', async () => {
    expect((await curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://${DOMAIN}/api/whoami`)).stdout).toBe(`308 https://${DOMAIN}/api/whoami`);
    expect((await curl('-o', '/dev/null', '-w', '%{http_code}', `https://${DOMAIN}/healthz`)).stdout).toBe('200');
    expect((await curl('-o', '/dev/null', '-w', '%{http_code}', `http://${DOMAIN}/healthz`)).stdout).toBe('200');
  });
});

/** A TCP/unix-socket relay (`node -e BRIDGE '[[from, to], ...]'`, each a loopback port or a socket path), run as its own process. */
const BRIDGE = `const net = require('node:net');
const at = (x) => (typeof x === 'number' ? { port: x, host: '127.0.0.1' } : { path: x });
for (const [from, to] of JSON.parse(process.argv[1]))
  net.createServer((c) => { const u = net.connect(at(to)); c.pipe(u).pipe(c); u.on('error', () => c.destroy()); c.on('error', () => u.destroy()); }).listen(at(from));`;

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

// The generated CI's infrastructure job, its run: blocks executed here as GitHub would (bash -e),
// in a fresh checkout (no .env, no secrets.env), with `docker` standing in for the engine.
describe.skipIf(!['docker-compose', 'nginx', 'deck', 'kubectl', 'bash'].every((t) => tool(t)))('ci.yml infrastructure job, run here', () => {
  async function runJob(dir: string): Promise<{ code: number | null; output: string; calls: string[] }> {
    const bin = mkdtempSync(join(tmpdir(), 'sys-docker-'));
    dirs.push(bin);
    writeFileSync(join(bin, 'docker'), DOCKER_STAND_IN, { mode: 0o755 });
    const log = join(bin, 'calls');
    writeFileSync(log, '');
    const steps: { name: string; run?: string }[] = parse(readFileSync(join(dir, '.github/workflows/ci.yml'), 'utf8')).jobs['infra-validate'].steps;
    let output = '';
    for (const step of steps.filter((s) => s.run)) {
      // The stack's .env decides compose's values, not a COMPOSE_* of the test runner.
      const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSE_')));
      Object.assign(env, { PATH: `${bin}:${process.env.PATH}`, DOCKER_LOG: log, DOCKER_TMP: bin, NSS_WRAPPER_LIB: nssWrapperLibrary() });
      // Output to files: nginx opens /dev/stderr, which a pipe (a socket here) cannot be.
      const r = await run('bash', ['-e', '-c', step.run!], { cwd: dir, env, timeoutMs: 120_000, outputDir: bin });
      output += `${step.name}:\n${r.stdout}${r.stderr}`;
      if (r.code !== 0) return { code: r.code, output, calls: readFileSync(log, 'utf8').trim().split('\n') };
    }
    return { code: 0, output, calls: readFileSync(log, 'utf8').trim().split('\n') };
  }
  /** A stack as a fresh clone has it: the git-ignored .env, secrets.env and certs/ absent. */
  async function checkout(overrides: Record<string, unknown>): Promise<string> {
    const dir = await writeStack(configOf({ services: SERVICES, nginxVersion: installedNginxVersion()!, ...overrides }, 'infra'));
    dirs.push(dir);
    for (const ignored of ['.env', 'certs', 'k8s/overlays/staging/secrets.env', 'k8s/overlays/production/secrets.env']) rmSync(join(dir, ignored), { recursive: true, force: true });
    return dir;
  }

  it('nginx + k8s: every compose file set, nginx -t on the mounted config, every overlay: all pass', async () => {
    const dir = await checkout({ gateway: 'nginx', target: 'k8s', queue: 'sqs', search: 'opensearch' });
    const r = await runJob(dir);
    expect(r.code, r.output).toBe(0);
    expect(r.calls).toEqual([
      'compose -f compose.yaml config --quiet',
      'compose -f compose.yaml -f compose.override.yaml config --quiet',
      'compose -f compose.yaml -f compose.prod.yaml config --quiet',
      expect.stringMatching(/^run --rm .* --add-host api:127\.0\.0\.1 --add-host web:127\.0\.0\.1 nginx:[\d.]+-alpine nginx -t$/),
    ]);
    expect(r.output).toContain('kubectl kustomize, for each overlay');
  });

  it('kong + compose: kong.yml checked (decK here, `kong config parse` in CI)', async () => {
    const dir = await checkout({ gateway: 'kong', target: 'compose' });
    const r = await runJob(dir);
    expect(r.code, r.output).toBe(0);
    expect(r.calls.at(-1)).toMatch(/^run --rm -e KONG_DATABASE=off -v \S+\/kong:\/kong:ro kong:[\d.]+ kong config parse \/kong\/kong\.yml$/);
  });

  it('fails on a broken gateway config, a broken overlay and a broken compose file', async () => {
    const dir = await checkout({ gateway: 'nginx', target: 'k8s' });
    const conf = join(dir, `nginx/conf.d/${configOf({}, 'infra').domain}.conf`);
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('proxy_pass http://api;', 'proxy_pass http://billing:3100;'));
    const nginx = await runJob(dir);
    expect(nginx.code).not.toBe(0);
    expect(nginx.output).toMatch(/host not found in upstream "billing/);
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('proxy_pass http://billing:3100;', 'proxy_pass http://api;'));
    writeFileSync(join(dir, 'k8s/overlays/staging/kustomization.yaml'), `${readFileSync(join(dir, 'k8s/overlays/staging/kustomization.yaml'), 'utf8')}\nresources:\n  - missing.yaml\n`);
    const overlay = await runJob(dir);
    expect(overlay.code).not.toBe(0);
    expect(overlay.output).toMatch(/missing\.yaml/);
    writeFileSync(join(dir, 'compose.prod.yaml'), `${readFileSync(join(dir, 'compose.prod.yaml'), 'utf8')}\n  oops: [\n`);
    const compose = await runJob(dir);
    expect(compose.code).not.toBe(0);
    expect(compose.calls).toHaveLength(3);
  });
});

// Meilisearch: the services hold a key scoped to what they do, created at start with the master key
// (which no service holds). Its value is derived (HMAC-SHA256 of the key's uid under the master key,
// as Meilisearch computes it), so .env, secrets.env and the set-up steps must agree on the uid.
describe('Meilisearch: a scoped key for the services, created with the master key', () => {
  it('.env, compose, the k8s postStart and secrets.env agree on the key; the set-up answers 201 and 409 as done', async () => {
    const dir = await writeStack(configOf({ search: 'meilisearch', target: 'k8s', services: SERVICES }, 'meili'));
    dirs.push(dir);
    const dotenv = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    const compose = composeOf(dir, ['compose.prod.yaml']);
    const setup = compose.services['meilisearch-key'] as ComposeService & { command: string[]; environment: Env };
    const body = JSON.parse(/--data '([^']+)'/.exec(setup.command[0])![1]);
    const hmac = (master: string) => createHmac('sha256', master).update(body.uid).digest('hex');
    expect(body).toMatchObject({ uid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), indexes: ['*'], expiresAt: null });
    expect(body.actions).not.toContain('keys.*'); // no key management, dumps or snapshots for the services
    expect(body.actions.some((a: string) => a === '*' || a.startsWith('keys') || a.startsWith('dumps'))).toBe(false);
    expect(dotenv.get('MEILI_API_KEY')).toBe(hmac(dotenv.get('MEILI_MASTER_KEY')!));
    expect(composeEnv(dir, compose.services.api).MEILI_API_KEY).toBe(dotenv.get('MEILI_API_KEY'));
    for (const overlay of ['staging', 'production']) {
      const secrets = parseDotenv(readFileSync(join(dir, `k8s/overlays/${overlay}/secrets.env`), 'utf8'));
      expect(secrets.get('MEILI_API_KEY'), overlay).toBe(hmac(secrets.get('MEILI_MASTER_KEY')!));
    }
    const statefulSet = parse(readFileSync(join(dir, 'k8s/components/data-services/meilisearch.yaml'), 'utf8').split(/^---$/m)[1]);
    const postStart: string = statefulSet.spec.template.spec.containers[0].lifecycle.postStart.exec.command[2];
    expect(postStart).toContain(`--data '${JSON.stringify(body)}'`);

    // The compose set-up's own command against a stand-in for Meilisearch's POST /keys.
    const master = dotenv.get('MEILI_MASTER_KEY')!;
    const seen: unknown[] = [];
    let answer = 201;
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        seen.push({ path: req.url, method: req.method, auth: req.headers.authorization, body: JSON.parse(data) });
        res.writeHead(req.headers.authorization === `Bearer ${master}` ? answer : 401).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const script = interpolate(setup.command[0], {}).replace('http://meilisearch:7700', url);
      // Asynchronous: the stand-in answers from this process.
      const once = (key = master) => run('sh', ['-c', script], { env: { PATH: process.env.PATH, MEILI_MASTER_KEY: key }, timeoutMs: 20_000 });
      expect((await once()).code).toBe(0);
      answer = 409; // it exists: each start runs the set-up again
      expect((await once()).code).toBe(0);
      answer = 500;
      expect((await once()).code).not.toBe(0);
      expect(seen[0]).toEqual({ path: '/keys', method: 'POST', auth: `Bearer ${master}`, body });
      answer = 201;
      expect((await once('not-it')).code).not.toBe(0);
    } finally {
      server.close();
    }
  });
});
