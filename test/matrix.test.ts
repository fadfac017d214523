// The gateway x queue x search matrix: every combination is generated once through the real
// pipeline and its files are checked with the real validators (REFERENCE.md section 10): YAML/JSON
// parse, compose-spec schema, docker-compose 1.29 `config`, dockerfile-utils, nginx -t, decK, plus
// the hardening facts the templates promise and that prettier would not change a byte.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMBINATIONS, configOf, prettierDiffs, renderTree, writeStack } from './helpers/stack.js';
import { tool } from './helpers/tools.js';
import {
  composeEnvVars,
  deckValidate,
  dockerComposeConfig,
  dockerfileRuleProblems,
  imageTag,
  installedNginxVersion,
  interpolate,
  kongConfigProblems,
  lintDockerfile,
  listFiles,
  mergeCompose,
  nginxTest,
  parseDotenv,
  parseError,
  parseYamlMerged,
  shortDiff,
  validateCompose,
  type ComposeConfigResult,
} from './helpers/validators.js';

const HAS = {
  dockerCompose: tool('docker-compose'),
  nginx: tool('nginx'),
  deck: tool('deck'),
};

const NGINX_HERE = HAS.nginx ? installedNginxVersion() : null;

const DATA_SERVICES = ['postgres', 'redis', 'rabbitmq', 'elasticmq', 'meilisearch', 'opensearch'];
const SECRET_KEYS = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'RABBITMQ_DEFAULT_PASS', 'MEILI_MASTER_KEY', 'OPENSEARCH_INITIAL_ADMIN_PASSWORD'];
const COMPOSE_FILES = ['compose.yaml', 'compose.override.yaml', 'compose.prod.yaml'] as const;
const COMPOSE_RUNS = {
  base: ['compose.yaml'],
  'base + override': ['compose.yaml', 'compose.override.yaml'],
  'base + prod': ['compose.yaml', 'compose.prod.yaml'],
} as const;
type RunName = keyof typeof COMPOSE_RUNS;

type Service = Record<string, unknown> & {
  restart?: string;
  image?: string;
  ports?: unknown[];
  networks?: string[] | Record<string, unknown>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown };
  deploy?: { resources?: { limits?: { memory?: unknown } } };
};
type Compose = { services: Record<string, Service>; networks?: Record<string, { internal?: boolean } | null> };

/** Things worth a line in the output but not a failure, counted by kind. */
const notes = new Map<string, number>();
const note = (text: string): void => void notes.set(text, (notes.get(text) ?? 0) + 1);
const tempDirs: string[] = [];
afterAll(() => {
  if (notes.size > 0) console.info(`matrix notes:\n  ${[...notes].map(([t, n]) => `${n} x ${t}`).join('\n  ')}`);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');
const networkNames = (s: Service): string[] => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));

/** Starts docker-compose config for the three file sets at once (2 cores); the tests await them. */
function startComposeRuns(dir: string): Record<RunName, Promise<ComposeConfigResult>> {
  const out = {} as Record<RunName, Promise<ComposeConfigResult>>;
  for (const name of Object.keys(COMPOSE_RUNS) as RunName[]) {
    const p = dockerComposeConfig(dir, [...COMPOSE_RUNS[name]]);
    p.catch(() => undefined); // awaited (and reported) by the test
    out[name] = p;
  }
  return out;
}

async function expectComposeConfigPasses(run: Promise<ComposeConfigResult>): Promise<void> {
  const r = await run;
  for (const removed of r.removed)
    note(`stripped for docker-compose 1.29 (newer than it; the schema check covers it): ${removed.replace(/services\.[^.]+\.depends_on\.[^.]+\./, 'services.*.depends_on.*.')}`);
  if (r.ok && r.stderr.trim()) console.warn(`${r.command} warned:\n${r.stderr}`);
  expect(r.ok, `${r.command} exited ${r.code}:\n${r.stderr}${r.stdout}`).toBe(true);
}

async function expectNginxTestPasses(confDir: string): Promise<void> {
  const r = await nginxTest(confDir);
  for (const c of r.certificates) note(`nginx -t: certificate path absent here, tested with a self-signed pair: ${c.replace(/live\/[^/]+\//, 'live/<domain>/')}`);
  expect(r.hosts.length, 'no upstream hosts found in the config').toBeGreaterThan(0);
  expect(r.ok, `nginx -t exited ${r.code} (hosts: ${r.hosts.join(', ')}):\n${r.stderr}`).toBe(true);
}

/** Schema-validates each compose file alone and the two merged sets. */
function expectComposeSchemaValid(dir: string): void {
  const docs = Object.fromEntries(COMPOSE_FILES.map((f) => [f, parseYamlMerged(read(dir, f))]));
  const sets: Record<string, unknown> = {
    ...docs,
    'compose.yaml + compose.override.yaml': mergeCompose(docs['compose.yaml'], docs['compose.override.yaml']),
    'compose.yaml + compose.prod.yaml': mergeCompose(docs['compose.yaml'], docs['compose.prod.yaml']),
  };
  const failures = Object.entries(sets).flatMap(([name, doc]) => validateCompose(doc).map((e) => `${name}: ${e}`));
  expect(failures, failures.join('\n')).toEqual([]);
}

/** renderTree with prettier on every file must equal the unformatted output, file by file. */
describe.each(COMBINATIONS)('$gateway + $queue + $search', (combo) => {
  const config = configOf(combo);
  let dir = '';
  let compose: Compose;
  let composeRuns: Record<RunName, Promise<ComposeConfigResult>> | undefined;
  let appServices: string[] = [];

  beforeAll(async () => {
    dir = await writeStack(config);
    tempDirs.push(dir);
    compose = parseYamlMerged(read(dir, 'compose.yaml')) as Compose;
    appServices = readdirSync(join(dir, 'services')).sort();
    if (HAS.dockerCompose) composeRuns = startComposeRuns(dir);
  });
  // Even when a filter skips the compose tests: let the runs finish and remove their temp copies.
  afterAll(async () => {
    await Promise.allSettled(Object.values(composeRuns ?? {}));
  });

  it('1. every .yaml/.yml/.json file parses', () => {
    const files = listFiles(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files).toContain('compose.yaml');
    const failures = files.flatMap((f) => {
      const err = parseError(f, read(dir, f));
      return err ? [`${f}: ${err}`] : [];
    });
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('2. compose files, alone and merged, match the compose-spec schema', () => {
    expectComposeSchemaValid(dir);
  });

  describe.skipIf(!HAS.dockerCompose)('3. docker-compose 1.29 config -q', () => {
    for (const name of Object.keys(COMPOSE_RUNS) as RunName[]) {
      it(name, async () => {
        await expectComposeConfigPasses(composeRuns![name]);
      });
    }
  });

  it('4. Dockerfiles lint clean and follow the production rules', () => {
    expect(appServices.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const service of appServices) {
      const path = `services/${service}/Dockerfile`;
      const text = read(dir, path);
      for (const d of lintDockerfile(text)) failures.push(`${path}:${d.line}: ${d.severity}: ${d.message} (dockerfile-utils code ${d.code})`);
      for (const p of dockerfileRuleProblems(text)) failures.push(`${path}: ${p}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  if (combo.gateway === 'nginx') {
    describe.skipIf(!HAS.nginx)('5. nginx', () => {
      // The config as generated targets the pinned image (nginx 1.30: `http2 on;`, OpenSSL 3.5
      // groups), which Debian's nginx 1.22 rejects; nginxVersion renders it for the nginx at hand.
      it(`nginx -t accepts the config rendered for the installed nginx (nginxVersion ${NGINX_HERE ?? '?'})`, async () => {
        const tree = await renderTree(configOf({ ...combo, nginxVersion: NGINX_HERE }), false);
        const confDir = join(mkdtempSync(join(tmpdir(), 'nginx-here-')), 'nginx');
        tempDirs.push(dirname(confDir));
        for (const [path, file] of tree) {
          if (!path.startsWith('nginx/')) continue;
          mkdirSync(dirname(join(confDir, path.slice('nginx/'.length))), { recursive: true });
          writeFileSync(join(confDir, path.slice('nginx/'.length)), file.content);
        }
        await expectNginxTestPasses(confDir);
      });
    });
  } else {
    describe('6. kong', () => {
      it.skipIf(!HAS.deck)('deck validate accepts kong/kong.yml (without _transform)', async () => {
        const r = await deckValidate(join(dir, 'kong', 'kong.yml'));
        expect(r.ok, `deck validate exited ${r.code}:\n${r.stderr}${r.stdout}`).toBe(true);
      });

      it('format 3.0, services with urls and route paths, bundled plugins with known fields', () => {
        const problems = kongConfigProblems(parseYamlMerged(read(dir, 'kong/kong.yml')));
        expect(problems, problems.join('\n')).toEqual([]);
      });
    });
  }

  it('7. compose variables are documented in .env.example and set in .env; no secrets in .env.example', () => {
    const example = parseDotenv(read(dir, '.env.example'));
    const env = parseDotenv(read(dir, '.env'));
    const used = [...new Set(COMPOSE_FILES.flatMap((f) => composeEnvVars(read(dir, f))))].sort();
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((v) => !example.has(v)), 'compose variables missing from .env.example').toEqual([]);
    expect([...example.keys()].filter((k) => !env.get(k)), '.env.example keys missing or empty in .env').toEqual([]);
    const ignore = read(dir, '.gitignore').split(/\r?\n/).map((l) => l.trim());
    expect(ignore.some((l) => ['.env', '/.env', '**/.env'].includes(l)), '.env is not in .gitignore').toBe(true);
    expect(ignore, '.gitignore re-includes .env').not.toContain('!.env');
    const leaked = SECRET_KEYS.filter((k) => example.has(k) && example.get(k) !== '');
    expect(leaked, 'secret values in .env.example').toEqual([]);
  });

  describe('8. compose hardening', () => {
    it('every long-running service has a healthcheck test; every service an image with a real tag', () => {
      const env = parseDotenv(read(dir, '.env'));
      const problems: string[] = [];
      for (const [name, s] of Object.entries(compose.services)) {
        const test = s.healthcheck?.test;
        // A one-shot set-up (restart "no") is waited for as completed, not healthy.
        if (s.restart !== 'no' && (!test || (Array.isArray(test) && test.length === 0))) problems.push(`${name}: no healthcheck.test`);
        if (typeof s.image !== 'string') {
          problems.push(`${name}: no image`);
          continue;
        }
        const image = interpolate(s.image, env);
        const tag = imageTag(image);
        if (!tag || tag === 'latest') problems.push(`${name}: image ${s.image} (-> ${image}) has tag ${tag ?? '(none)'}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('dependencies wait for service_healthy (a one-shot set-up: service_completed_successfully)', () => {
      const problems: string[] = [];
      for (const [name, s] of Object.entries(compose.services)) {
        if (!s.depends_on) continue;
        if (Array.isArray(s.depends_on)) problems.push(`${name}: depends_on is a list (no condition)`);
        else
          for (const [dep, opts] of Object.entries(s.depends_on)) {
            const expected = compose.services[dep]?.restart === 'no' ? 'service_completed_successfully' : 'service_healthy';
            if (opts?.condition !== expected) problems.push(`${name} -> ${dep}: condition ${String(opts?.condition)}, expected ${expected}`);
            if (!(dep in compose.services)) problems.push(`${name} -> ${dep}: no such service`);
          }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('data services are unpublished, on the internal backend network only; only the gateway publishes ports', () => {
      expect(compose.networks?.backend?.internal).toBe(true);
      const data = Object.keys(compose.services).filter((s) => DATA_SERVICES.includes(s));
      expect(data.length).toBeGreaterThan(0);
      for (const name of data) {
        expect(compose.services[name].ports ?? [], `${name} publishes ports`).toEqual([]);
        expect(networkNames(compose.services[name]), `${name} networks`).toEqual(['backend']);
      }
      const publishing = Object.entries(compose.services)
        .filter(([, s]) => (s.ports ?? []).length > 0)
        .map(([n]) => n);
      expect(publishing).toEqual(['gateway']);
    });

    it('app services are read-only, drop all capabilities, no-new-privileges, one init, memory-limited', () => {
      const problems: string[] = [];
      for (const name of appServices) {
        const s = compose.services[name];
        if (!s) {
          problems.push(`${name}: in services/ but not in compose.yaml`);
          continue;
        }
        if (s.read_only !== true) problems.push(`${name}: read_only is ${String(s.read_only)}`);
        if (JSON.stringify(s.cap_drop) !== '["ALL"]') problems.push(`${name}: cap_drop is ${JSON.stringify(s.cap_drop)}`);
        if (!Array.isArray(s.security_opt) || !s.security_opt.includes('no-new-privileges:true'))
          problems.push(`${name}: security_opt is ${JSON.stringify(s.security_opt)}`);
        // Exactly one init: the image's tini ENTRYPOINT, so not Docker's too.
        if (s.init !== false) problems.push(`${name}: init is ${String(s.init)} (the image runs tini)`);
        if (!s.deploy?.resources?.limits?.memory) problems.push(`${name}: no deploy.resources.limits.memory`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('the queue and search services match the combination', () => {
      const names = Object.keys(compose.services);
      expect(names.includes('rabbitmq')).toBe(combo.queue === 'rabbitmq');
      // ElasticMQ stands in for SQS in development only (compose.override.yaml).
      expect(names.includes('elasticmq')).toBe(false);
      expect(names.includes('meilisearch')).toBe(combo.search === 'meilisearch');
      expect(names.includes('opensearch')).toBe(combo.search === 'opensearch');
      expect(names).toContain('gateway');
      expect(compose.services.gateway.image).toMatch(combo.gateway === 'nginx' ? /^nginx:/ : /^kong:/);
    });
  });

  it('9. prettier is a no-op on the built-in output', async () => {
    const diffs = await prettierDiffs(config);
    expect(diffs, `prettier would change ${diffs.length} file(s):\n${diffs.join('\n\n')}`).toEqual([]);
  });
});

describe('a 50-service stack', () => {
  const config = configOf({
    services: Array.from({ length: 50 }, (_, i) => ({ name: `svc${i + 1}`, kind: i % 10 === 9 ? 'worker' : 'api' })),
  });
  let dir = '';
  let composeRuns: Record<RunName, Promise<ComposeConfigResult>> | undefined;

  beforeAll(async () => {
    dir = await writeStack(config);
    tempDirs.push(dir);
    if (HAS.dockerCompose) composeRuns = startComposeRuns(dir);
  });
  // Even when a filter skips the compose tests: let the runs finish and remove their temp copies.
  afterAll(async () => {
    await Promise.allSettled(Object.values(composeRuns ?? {}));
  });

  it('has 50 services in compose.yaml', () => {
    const compose = parseYamlMerged(read(dir, 'compose.yaml')) as Compose;
    expect(Object.keys(compose.services).filter((s) => /^svc\d+$/.test(s))).toHaveLength(50);
  });

  it('2. compose files, alone and merged, match the compose-spec schema', () => {
    expectComposeSchemaValid(dir);
  });

  describe.skipIf(!HAS.dockerCompose)('3. docker-compose 1.29 config -q', () => {
    for (const name of Object.keys(COMPOSE_RUNS) as RunName[]) {
      it(name, async () => {
        await expectComposeConfigPasses(composeRuns![name]);
      });
    }
  });

  it('9. prettier is a no-op on the built-in output', async () => {
    const diffs = await prettierDiffs(config);
    expect(diffs, `prettier would change ${diffs.length} file(s):\n${diffs.join('\n\n')}`).toEqual([]);
  });
});

describe('validators catch errors', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'validators-neg-'));
    tempDirs.push(tmp);
  });

  it('validateCompose reports an unknown service key and a wrong type', () => {
    expect(validateCompose({ services: { api: { image: 'x:1' } } })).toEqual([]);
    const errors = validateCompose({ services: { api: { image: 'x:1', bogus: true, cap_drop: 'ALL' } } });
    expect(errors.join('\n')).toContain('/services/api: must NOT have additional properties (bogus)');
    expect(errors.join('\n')).toContain('/services/api/cap_drop: must be array');
  });

  it('mergeCompose merges like compose: maps deep, lists appended, healthcheck.test replaced', () => {
    const merged = mergeCompose(
      { services: { a: { image: 'a:1', ports: ['1:1'], environment: { A: '1' }, healthcheck: { test: ['CMD', 'x'] } } } },
      { services: { a: { ports: ['1:1', '2:2'], environment: ['B=2'], healthcheck: { test: ['CMD', 'y'] } } } },
    );
    expect(merged).toEqual({
      services: { a: { image: 'a:1', ports: ['1:1', '2:2'], environment: { A: '1', B: '2' }, healthcheck: { test: ['CMD', 'y'] } } },
    });
  });

  it('parseError reports broken YAML and JSON', () => {
    expect(parseError('a.yaml', 'a: [1, 2')).toBeTruthy();
    expect(parseError('a.yaml', 'a: 1\na: 2\n')).toBeTruthy(); // duplicate key
    expect(parseError('a.json', '{"a": 1,}')).toBeTruthy();
    expect(parseError('a.yaml', 'x: &h {a: 1}\ny:\n  <<: *h\n')).toBeNull();
  });

  it.skipIf(!HAS.dockerCompose)('dockerComposeConfig fails on an unset required variable and a missing build context', async () => {
    const dir = join(tmp, 'compose');
    mkdirSync(dir);
    writeFileSync(join(dir, '.env'), 'TAG=1\n');
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  a:\n    image: "x:${TAG}"\n    environment:\n      P: "${NOPE:?set NOPE}"\n');
    writeFileSync(join(dir, 'compose.build.yaml'), 'services:\n  a:\n    build: ./missing\n');
    writeFileSync(join(dir, 'compose.ok.yaml'), 'services:\n  b:\n    image: "x:${TAG}"\n');
    const unset = await dockerComposeConfig(dir, ['compose.yaml']);
    expect(unset.ok).toBe(false);
    expect(unset.stderr).toContain('set NOPE');
    const noContext = await dockerComposeConfig(dir, ['compose.ok.yaml', 'compose.build.yaml']);
    expect(noContext.ok, noContext.stderr).toBe(false);
    expect((await dockerComposeConfig(dir, ['compose.ok.yaml'])).ok).toBe(true);
  });

  it.skipIf(!HAS.dockerCompose)('docker-compose 1.29 rejects depends_on.restart unless downlevelled', async () => {
    const dir = join(tmp, 'compose-restart');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'compose.yaml'),
      'services:\n  db:\n    image: "x:1"\n  a:\n    image: "x:1"\n    depends_on:\n      db:\n        condition: service_healthy\n        restart: true\n',
    );
    const raw = await dockerComposeConfig(dir, ['compose.yaml'], { downlevel: false });
    expect(raw.ok).toBe(false);
    expect(raw.stderr).toContain("services.a.depends_on contains unsupported option: 'restart'");
    const down = await dockerComposeConfig(dir, ['compose.yaml']);
    expect(down.ok, down.stderr).toBe(true);
    expect(down.removed).toEqual(['compose.yaml: services.a.depends_on.db.restart']);
  });

  it.skipIf(!HAS.nginx)('nginxTest fails on an unknown directive, an unresolvable upstream and a bad certificate', async () => {
    const good = join(tmp, 'nginx-good');
    mkdirSync(join(good, 'conf.d'), { recursive: true });
    writeFileSync(
      join(good, 'nginx.conf'),
      'events {}\nhttp {\n  include mime.types;\n  include conf.d/*.conf;\n}\n',
    );
    writeFileSync(join(good, 'conf.d', 'default.conf'), 'upstream api { server api:3000; }\nserver { listen 127.0.0.1:18080; location / { proxy_pass http://api; } }\n');
    const ok = await nginxTest(good);
    expect(ok.ok, ok.stderr).toBe(true);
    expect(ok.hosts).toEqual(['api']);

    const bad = join(tmp, 'nginx-bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'nginx.conf'), 'events {}\nhttp {\n  bogus_directive on;\n}\n');
    const r = await nginxTest(bad);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('unknown directive "bogus_directive"');

    // Without the nss_wrapper host map the same good config fails: nginx really resolves upstreams.
    const unresolved = await nginxTest(good, { resolveHosts: false });
    expect(unresolved.ok).toBe(false);
    expect(unresolved.stderr).toContain('host not found in upstream "api:3000"');

    // Certificates the config names but this machine lacks get a self-signed pair; a broken one still fails.
    const tls = join(tmp, 'nginx-tls');
    mkdirSync(tls);
    const tlsServer = (cert: string): string =>
      `events {}\nhttp {\n  server {\n    listen 127.0.0.1:18443 ssl;\n    ssl_certificate ${cert}/fullchain.pem;\n    ssl_certificate_key ${cert}/privkey.pem;\n  }\n}\n`;
    writeFileSync(join(tls, 'nginx.conf'), tlsServer('certs/live/x.localhost'));
    const withCerts = await nginxTest(tls);
    expect(withCerts.ok, withCerts.stderr).toBe(true);
    expect(withCerts.certificates).toEqual(['certs/live/x.localhost/fullchain.pem', 'certs/live/x.localhost/privkey.pem']);
    mkdirSync(join(tls, 'broken'));
    writeFileSync(join(tls, 'broken', 'fullchain.pem'), 'not a certificate\n');
    writeFileSync(join(tls, 'broken', 'privkey.pem'), 'not a key\n');
    writeFileSync(join(tls, 'nginx.conf'), tlsServer('broken'));
    const broken = await nginxTest(tls);
    expect(broken.ok).toBe(false);
    expect(broken.stderr).toContain('cannot load certificate');
  });

  it('lintDockerfile reports errors; dockerfileRuleProblems reports broken production rules', () => {
    const diags = lintDockerfile('FROM node:24-alpine\nFOO bar\nHEALTHCHECK --bogus=1 CMD true\nCMD ["node", "x.js"]\n');
    expect(diags.map((d) => d.message)).toEqual(expect.arrayContaining(['Unknown instruction: FOO', 'Unknown flag: bogus']));
    const problems = dockerfileRuleProblems('FROM node:latest\nRUN npm ci\nENV NODE_ENV production\nCMD node server.js\n').join('\n');
    for (const expected of [
      'ARG NODE_VERSION',
      'image uses latest',
      'not pinned',
      '/root/.npm',
      'CMD is not JSON form',
      'USER before the final CMD must be "node"',
      'HEALTHCHECK',
      'NODE_ENV=production',
      'ENTRYPOINT must run an init',
    ])
      expect(problems).toContain(expected);
    // The old prod stage: built in `build`, shipped only src/ (a TypeScript service lost its dist/).
    const srcOnly = 'FROM node:24 AS build\nRUN npm run build\nFROM node:24\nCOPY --from=build /usr/src/app/src ./src\n';
    expect(dockerfileRuleProblems(srcOnly).join('\n')).toContain('its output is not copied');
  });

  it('composeEnvVars skips $$ escapes; interpolate and imageTag resolve image references', () => {
    const text = 'services:\n  a:\n    # ${IN_COMMENT}\n    image: "${REG:-local}/a:${TAG:?x}"\n    healthcheck:\n      test: ["CMD-SHELL", "echo $${ESCAPED} $$PLAIN"]\n    environment:\n      B: $BARE\n';
    expect(composeEnvVars(text)).toEqual(['BARE', 'REG', 'TAG']);
    expect(interpolate('${REG:-local}/a:${TAG:-dev}', { TAG: '' })).toBe('local/a:dev');
    expect(interpolate('${REG-x}/a', { REG: '' })).toBe('/a');
    expect(() => interpolate('${TAG:?set TAG}', {})).toThrow('set TAG');
    expect(imageTag('ghcr.io:443/org/a:1.2@sha256:abc')).toBe('1.2');
    expect(imageTag('localhost:5000/a')).toBeNull();
    expect(parseDotenv('# c\nA=1\nexport B="two"\nC=\n')).toEqual(new Map([['A', '1'], ['B', 'two'], ['C', '']]));
  });

  it('kongConfigProblems reports format, routes, unknown plugins and unknown fields', () => {
    const problems = kongConfigProblems({
      _format_version: '1.1',
      services: [{ name: 'a', url: 'http://a:1', routes: [{ name: 'r', paths: [] }] }, { name: 'b', host: 'b' }],
      plugins: [
        { name: 'rate-limiting', config: { minute: 1, limits: 3 } },
        { name: 'not-a-plugin' },
        { name: 'cors', config: { origins: ['*'] } },
        { name: 'response-transformer', config: { add: { headers: ['X-A: 1', 'no-colon'], body: [] } } },
      ],
    });
    expect(problems).toEqual([
      '_format_version must be the string "3.0" (found "1.1")',
      'service a, route r: no paths starting with /',
      'service b: no http(s) url',
      'service b: no routes',
      'plugins: plugin "rate-limiting" has unknown config field "limits"',
      'plugins: plugin "not-a-plugin" is not bundled with Kong 3.9',
      'plugins: plugin "response-transformer" config.add.headers entry "no-colon" is not "name:value"',
      'plugins: plugin "response-transformer" has unknown config field "add.body"',
    ]);
  });

  it.skipIf(!HAS.deck)('deckValidate fails on an unknown entity field', async () => {
    const file = join(tmp, 'kong.yml');
    writeFileSync(file, '_format_version: "3.0"\n_transform: true\nservices:\n  - name: a\n    url: http://a:1\n    routes:\n      - name: r\n        paths: ["/"]\n');
    const ok = await deckValidate(file);
    expect(ok.ok, ok.stderr).toBe(true);
    writeFileSync(file, '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://a:1\n    bogus_field: 1\n');
    const r = await deckValidate(file);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('bogus_field');
  });

  it('shortDiff shows the first differing lines', () => {
    expect(shortDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\n')).toBe('@@ line 2 @@\n  a\n- b\n+ B\n  c\n  d');
    expect(shortDiff('1\n2\n3\n4\n5\n6\n7\n', '1\nX\n3\n4\n5\n6\nY\n', { maxHunks: 1 })).toBe(
      '@@ line 2 @@\n  1\n- 2\n+ X\n  3\n  4\n(1 more changed hunk(s))',
    );
    expect(shortDiff('a\nb\n', 'a\nb\nc\n')).toBe('@@ line 3 @@\n  a\n  b\n+ c\n  ');
    expect(shortDiff('same', 'same')).toBe('(identical)');
  });
});
