import { describe, expect, it } from 'vitest';
import { parseServicesFlag, nameFromDir } from '../src/model/defaults.js';
import { addServiceToStackFile, parsePreset, parseStackFile, stackFileText } from '../src/model/stack-file.js';
import { assertSkipsMatch } from '../src/model/validate.js';
import { nginxFacts } from '../src/model/nginx.js';
import { buildModel } from '../src/model/stack-model.js';
import { configOf, inputError } from './helpers/stack.js';

/** configOf(overrides) fails with an InputError naming `field`, whose allowed text holds `allowed`. */
function expectRefused(_label: string, overrides: object, field: string, allowed: string): void {
  const error = inputError(() => configOf(overrides as Record<string, unknown>));
  expect(error.field).toBe(field);
  expect(error.allowed).toContain(allowed);
  expect(error.message).toMatch(new RegExp(`^Invalid ${field.replace(/[[\].]/g, '\\$&')}: `));
}

describe('validateConfig', () => {
  it('accepts the defaults and fills ports and paths', () => {
    const config = configOf();
    expect(config.services).toEqual([
      { name: 'api', kind: 'api', port: 3000, path: '/api', cache: false, uses: ['database', 'cache', 'queue', 'search'], secrets: [], env: {} },
      { name: 'web', kind: 'web', port: 3001, path: '/', cache: false, uses: ['database', 'cache', 'queue', 'search'], secrets: [], env: {} },
      { name: 'worker', kind: 'worker', port: 3002, path: null, cache: false, uses: ['database', 'cache', 'queue', 'search'], secrets: [], env: {} },
    ]);
  });

  it('keeps explicit ports free when it hands out the others', () => {
    const config = configOf({ services: [{ name: 'a' }, { name: 'b', port: 3000 }, { name: 'c' }] });
    expect(config.services.map((s) => s.port)).toEqual([3001, 3000, 3002]);
  });

  it.each([
    ['name', { name: 'My_App' }, 'name', 'DNS label'],
    ['gateway', { gateway: 'traefik' }, 'gateway', 'nginx, kong'],
    ['queue', { queue: 'kafka' }, 'queue', 'rabbitmq, sqs'],
    ['search', { search: 'elastic' }, 'search', 'meilisearch, opensearch'],
    ['target', { target: 'nomad' }, 'target', 'compose, k8s'],
    ['node', { node: '18' }, 'node', '20, 22, 24, 26'],
    ['domain with scheme', { domain: 'https://x.com' }, 'domain', 'hostname'],
    ['empty services', { services: [] }, 'services', 'non-empty'],
    ['unknown field', { colour: 'blue' }, 'colour', 'known fields only'],
    ['service port too low', { services: [{ name: 'api', port: 80 }] }, 'services.api.port', '1024 to 65535'],
    ['service port not a number', { services: [{ name: 'api', port: '3000abc' }] }, 'services.api.port', '1024 to 65535'],
    ['port of a data service', { services: [{ name: 'api', port: 5432 }] }, 'services.api.port', 'postgres'],
    ['duplicate port', { services: [{ name: 'a', port: 4000 }, { name: 'b', port: 4000 }] }, 'services.b.port', 'service a'],
    ['duplicate name', { services: [{ name: 'a' }, { name: 'a' }] }, 'services.a.name', 'no other service'],
    ['reserved name', { services: [{ name: 'redis' }] }, 'services.redis.name', 'not used by the stack'],
    ['bad kind', { services: [{ name: 'a', kind: 'cron' }] }, 'services.a.kind', 'api, web, worker'],
    ['relative path', { services: [{ name: 'a', path: 'api' }] }, 'services.a.path', 'starting with "/"'],
    ['duplicate path', { services: [{ name: 'a', path: '/x' }, { name: 'b', path: '/x' }] }, 'services.b.path', 'service a'],
    ['cached web service', { services: [{ name: 'w', kind: 'web', cache: true }] }, 'services.w.cache', 'only api services'],
    ['nginx version', { nginxVersion: '1.25; evil' }, 'nginxVersion', 'nginx version'],
    ['unknown use', { services: [{ name: 'a', uses: ['email'] }] }, 'services.a.uses', 'database, cache, queue, search'],
    ['use of what the stack lacks', { database: 'none', services: [{ name: 'a', uses: ['database'] }] }, 'services.a.uses', 'cache, queue, search'],
    ['uses not a list', { services: [{ name: 'a', uses: 'queue' }] }, 'services.a.uses', 'a list'],
    ['routed worker', { services: [{ name: 'w', kind: 'worker', path: '/w' }] }, 'services.w.path', 'workers are not routed'],
    ['unknown service field', { services: [{ name: 'a', prot: 1 }] }, 'services.a.prot', 'name, kind, port, path'],
  ])('refuses %s, naming the field and what is allowed', expectRefused);

  // Values that would break out of nginx, YAML or a shell line never reach a template.
  const hostile = [
    'api\nlisten 8080;',
    'api;',
    'api{',
    'api"',
    "api'",
    'a${HOME}',
    'api #',
    '../etc',
    'API',
    '',
    'a'.repeat(64),
  ];
  it.each(hostile)('refuses the hostile service name %j', (name) => {
    expect(inputError(() => configOf({ services: [{ name }] })).field).toBe('services.name');
  });
  it.each([
    'example.com;',
    'example.com\nserver_name evil',
    'exa"mple.com',
    'example.com}',
    '${DOMAIN}',
    'example.com:443',
    'Example.COM',
    '-bad.com',
  ])('refuses the hostile domain %j', (domain) => {
    expect(inputError(() => configOf({ domain })).field).toBe('domain');
  });
  it.each(['/api;', '/api\n', '/api{', '/a b', '/"x"', '/${X}', '/api/', '//x', '/a?b=1'])('refuses the hostile path %j', (path) => {
    expect(inputError(() => configOf({ services: [{ name: 'a', path }] })).field).toBe('services.a.path');
  });
});

describe('uses', () => {
  it('narrows what a service connects to, in the stack order, and the model follows', () => {
    const config = configOf({ services: [{ name: 'mailer', kind: 'worker', uses: ['queue', 'database', 'queue'] }, { name: 'api' }] });
    expect(config.services[0].uses).toEqual(['database', 'queue']);
    const model = buildModel(config);
    const mailer = model.services[0];
    expect(mailer.uses).toEqual(['postgres', 'rabbitmq']);
    expect(Object.keys(Object.fromEntries(mailer.environment))).toEqual(expect.arrayContaining(['DATABASE_URL', 'AMQP_URL']));
    expect(Object.fromEntries(mailer.environment).REDIS_URL).toBeUndefined();
    expect(mailer.notUsedVars).toEqual(['REDIS_URL', 'MEILI_URL']);
    expect(model.services[1].notUsedVars).toEqual([]);
  });

  it('is written to infra-stack.yaml only when it narrows', () => {
    const text = stackFileText(configOf({ services: [{ name: 'mailer', uses: ['queue'] }, { name: 'api' }] }));
    expect(text).toMatch(/name: mailer\n(.*\n)*?\s+uses:\n\s+- queue\n/);
    expect(text.match(/uses:/g)).toHaveLength(1);
    expect(parseStackFile(text).services[0].uses).toEqual(['queue']);
  });
});

describe('parseServicesFlag', () => {
  it('reads name[:kind[:port]]', () => {
    expect(parseServicesFlag('api:api:3000,web:web,worker')).toEqual([
      { name: 'api', kind: 'api', port: '3000' },
      { name: 'web', kind: 'web' },
      { name: 'worker' },
    ]);
  });
  it.each(['api::3000', 'a:b:c:d', ',', 'api,,web'])('refuses %j', (text) => {
    expect(inputError(() => parseServicesFlag(text)).allowed).toContain('name[:kind[:port]]');
  });
  it('guesses kinds from names', () => {
    const config = configOf({ services: parseServicesFlag('frontend,mail-worker,billing') });
    expect(config.services.map((s) => s.kind)).toEqual(['web', 'worker', 'api']);
  });
});

describe('nameFromDir', () => {
  it('derives a DNS label from a directory', () => {
    expect(nameFromDir('/tmp/My Shop_2')).toBe('my-shop-2');
    expect(nameFromDir('./42things')).toBe('things');
  });
});

describe('infra-stack.yaml', () => {
  it('round-trips the answers', () => {
    const config = configOf({ gateway: 'kong', queue: 'sqs' });
    expect(parseStackFile(stackFileText(config))).toEqual(config);
  });

  it('names the file and the field of a hand-edit mistake', () => {
    const text = stackFileText(configOf()).replace('gateway: nginx', 'gateway: apache');
    const error = inputError(() => parseStackFile(text));
    expect(error.field).toBe('infra-stack.yaml gateway');
    expect(error.value).toBe('apache');
  });

  it('gives answers a newer generator added their defaults, so an upgrade re-renders', () => {
    const text = stackFileText(configOf({ gateway: 'kong' })).replace(/^node: .*\n/m, '').replace(/^cache: .*\n/m, '');
    const config = parseStackFile(text);
    expect(config.node).toBe('24');
    expect(config.cache).toBe('redis');
    expect(config.gateway).toBe('kong');
  });

  it('refuses broken YAML with its parser message', () => {
    expect(inputError(() => parseStackFile('name: [unclosed')).field).toBe('infra-stack.yaml');
  });

  it('adds a service and keeps the person comments', () => {
    const text = stackFileText(configOf()).replace('gateway: nginx', 'gateway: nginx # chosen by the platform team');
    const billing = {
      name: 'billing',
      kind: 'api',
      port: 3100,
      path: '/billing',
      cache: true,
      uses: ['database', 'queue'],
      secrets: ['JWT_ACCESS_SECRET'],
      env: { LOG_LEVEL: 'debug' },
    } as const;
    const added = addServiceToStackFile(text, { ...billing, uses: [...billing.uses], secrets: [...billing.secrets] }, configOf());
    expect(added).toContain('# chosen by the platform team');
    expect(parseStackFile(added).services.at(-1)).toEqual(billing);
  });
});

describe('buildModel', () => {
  it('computes each fact once: routes, data services, env and families', () => {
    const model = buildModel(configOf({ queue: 'sqs', search: 'opensearch', gateway: 'kong' }));
    expect(model.routes.map((r) => r.path)).toEqual(['/api', '/']);
    expect(model.data.map((d) => d.name)).toEqual(['postgres', 'redis', 'elasticmq', 'opensearch']);
    expect(model.families).toEqual(expect.arrayContaining(['kong', 'sqs', 'sample']));
    expect(model.families).not.toContain('nginx');
    const api = model.services[0];
    // Production reaches AWS SQS; ElasticMQ is development's (compose.override.yaml).
    expect(Object.fromEntries(api.environment)).toMatchObject({
      PORT: '3000',
      AWS_ENDPOINT_URL_SQS: 'https://sqs.${AWS_REGION:?set AWS_REGION in .env}.amazonaws.com',
      OPENSEARCH_URL: 'https://opensearch:9200',
    });
    expect(Object.fromEntries(api.devEnvironment)).toMatchObject({ AWS_ENDPOINT_URL_SQS: 'http://elasticmq:9324' });
    expect(api.devWaitsFor).toEqual(['elasticmq']);
    expect(api.waitsFor).not.toContain('elasticmq');
    expect(api.uses).toEqual(['postgres', 'redis', 'elasticmq', 'opensearch']);
  });

  it('drops the database and cache when turned off', () => {
    const model = buildModel(configOf({ database: 'none', cache: 'none' }));
    expect(model.data.map((d) => d.name)).toEqual(['rabbitmq', 'meilisearch']);
    const env = Object.fromEntries(model.services[0].environment);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });
});

describe('nginxFacts', () => {
  it.each([
    ['1.22.1', false, true],
    ['1.23.1', false, true],
    ['1.23.2', false, false],
    ['1.25.0', false, false],
    ['1.25.1', true, false],
    ['1.30.0', true, false],
  ])('nginx %s: http2 directive %s, session tickets off %s (Mozilla 6.0)', (version, http2Directive, sessionTicketsOff) => {
    const facts = nginxFacts(configOf({ nginxVersion: version }));
    expect(facts.http2Directive).toBe(http2Directive);
    expect(facts.sessionTicketsOff).toBe(sessionTicketsOff);
  });

  it('offers the hybrid post-quantum group only on the pinned image (OpenSSL 3.5)', () => {
    expect(nginxFacts(configOf()).ecdhCurve).toBe('X25519MLKEM768:X25519:prime256v1:secp384r1');
    expect(nginxFacts(configOf({ nginxVersion: '1.28.0' })).ecdhCurve).toBe('X25519:prime256v1:secp384r1');
  });
});

describe('values that would break a generated stack', () => {
  it.each([
    ['a service port on a Node inspector port', { services: [{ name: 'api', port: 9229 }, { name: 'web' }] }, 'services.api.port', 'the Node inspector of service api'],
    ['a port the inspector of a later service takes', { services: [{ name: 'api' }, { name: 'web', port: 9230 }] }, 'services.web.port', 'the Node inspector of service web'],
    ['a dashboard port', { queue: 'sqs', services: [{ name: 'api', port: 9325 }] }, 'services.api.port', 'elasticmq'],
    ['nginxVersion read by YAML as a float', { nginxVersion: 1.2 }, 'nginxVersion', 'a quoted version such as "1.20.0"'],
    ['nginx older than the templates support', { nginxVersion: '1.12.2' }, 'nginxVersion', 'from 1.13.0'],
    ['nginx 1.0', { nginxVersion: '1.0' }, 'nginxVersion', 'from 1.13.0'],
    ['nginx version with a leading zero', { nginxVersion: '1.022.1' }, 'nginxVersion', 'from 1.13.0'],
    ['a registry port above 65535', { registry: 'localhost:99999' }, 'registry', 'port from 1 to 65535'],
    ['a registry port 0', { registry: 'localhost:0' }, 'registry', 'port from 1 to 65535'],
    ['a registry with a scheme', { registry: 'https://ghcr.io/acme' }, 'registry', 'no scheme'],
    ['a registry host label over 63 characters', { registry: `${'a'.repeat(64)}.io` }, 'registry', 'registry host'],
    ['a registry making image names over 255 characters', { registry: `ghcr.io/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}/${'d'.repeat(60)}` }, 'registry', '255 characters'],
    ['an IP address as the domain', { domain: '10.0.0.1' }, 'domain', 'no scheme, port or IP address'],
    ['a 201-character domain', { domain: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(9)}` }, 'domain', 'at most 200 characters'],
    ['a name that makes a 64-character namespace', { name: 'a'.repeat(53) }, 'name', '<name>-production'],
    ['a service whose image name passes 63 characters', { name: 'a'.repeat(40), services: [{ name: 'b'.repeat(23) }] }, `services.${'b'.repeat(23)}.name`, 'at most 22 characters'],
    ['the path /..', { services: [{ name: 'a', path: '/..' }] }, 'services.a.path', 'starting with "."'],
    ['the path /a/../..', { services: [{ name: 'a', path: '/a/../..' }] }, 'services.a.path', 'no //, /./, /../'],
    ['the path /./a', { services: [{ name: 'a', path: '/./a' }] }, 'services.a.path', 'no //, /./, /../'],
    ['an encoded dot segment', { services: [{ name: 'a', path: '/%2e%2e' }] }, 'services.a.path', 'letters, digits'],
    ['a dotfile path the gateway denies', { services: [{ name: 'a', path: '/.well-known' }] }, 'services.a.path', 'starting with "."'],
    ['a double slash', { services: [{ name: 'a', path: '/a//b' }] }, 'services.a.path', 'none empty'],
    ['a path over 1000 characters', { services: [{ name: 'a', path: `/${'p'.repeat(1000)}` }] }, 'services.a.path', 'at most 1000 characters'],
    ['the gateway health path', { services: [{ name: 'a', path: '/healthz' }] }, 'services.a.path', '/healthz'],
    ['the auth endpoints of an api', { services: [{ name: 'api', path: '/api' }, { name: 'login', kind: 'web', path: '/api/auth' }] }, 'services.login.path', 'auth endpoints of api api'],
    ['the auth endpoints of a root api', { services: [{ name: 'api', path: '/' }, { name: 'auth' }] }, 'services.auth.path', 'auth endpoints of api api'],
    ['a name a k8s network policy of the stack has', { services: [{ name: 'default-deny' }] }, 'services.default-deny.name', 'not used by the stack'],
    ['a uses-* name', { services: [{ name: 'uses-redis' }] }, 'services.uses-redis.name', 'uses-*'],
    ['a name compose reads as an extension', { services: [{ name: 'x-api' }] }, 'services.x-api.name', 'x-*'],
    ['the name whose ConfigMap is stack-config', { services: [{ name: 'stack' }] }, 'services.stack.name', 'not used by the stack'],
  ])('refuses %s, naming the field and what is allowed', expectRefused);

  it('accepts the limits themselves: a 52-character name, a 200-character domain, nginx 1.13', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(8)}`;
    const config = configOf({ name: 'a'.repeat(52), domain, nginxVersion: '1.13', registry: 'localhost:65535/team__a/b--c.d', services: [{ name: 'b'.repeat(10) }] });
    expect(config.domain).toHaveLength(200);
    expect(config.nginxVersion).toBe('1.13.0');
    expect(buildModel({ ...config, target: 'k8s' }).k8s!.overlays.map((o) => o.namespace.length)).toEqual([60, 63]);
  });

  it('hands out ports around every published one, and no host port is published twice', () => {
    const config = configOf({ queue: 'sqs', services: Array.from({ length: 12 }, (_, i) => ({ name: `s${i}`, ...(i === 0 ? { port: 9228 } : {}) })) });
    const ports = [...config.services.flatMap((s, i) => [s.port, 9229 + i]), 80, 443, 5432, 6379, 9324, 9325, 7700];
    expect(new Set(ports).size).toBe(ports.length);
    expect(buildModel(config).services.map((s) => s.debugPort)).toEqual(config.services.map((_, i) => 9229 + i));
  });

  it('a stack with more services than inspector ports below elasticmq is refused, not published twice', () => {
    const services = Array.from({ length: 96 }, (_, i) => ({ name: `s${i}` }));
    expect(inputError(() => configOf({ queue: 'sqs', services })).allowed).toContain('fewer services');
  });
});

describe('skip entries', () => {
  const generated = ['compose.yaml', 'compose.prod.yaml', 'nginx/nginx.conf', '.github/workflows/ci.yml'];
  it.each([
    ['./compose.prod.yaml', 'compose.prod.yaml'],
    ['/etc/passwd', 'etc/passwd'],
    ['nginx//nginx.conf', 'nginx/nginx.conf'],
  ])('refuses %j and suggests %j', (entry, normal) => {
    const error = inputError(() => configOf({ skip: [entry] }));
    expect(error.field).toBe('skip');
    expect(error.allowed).toMatch(new RegExp(`^${normal.replaceAll('.', '\\.')} \\(`));
  });
  it.each(['../x', 'a/../../b', '.', '..'])('refuses %j, which leaves the repository', (entry) => {
    expect(inputError(() => configOf({ skip: [entry] })).allowed).toMatch(/^a list of paths relative to the repository/);
  });
  it('refuses an entry that matches nothing generated, listing what is', () => {
    const error = inputError(() => assertSkipsMatch(['compose.prod.yml'], generated));
    expect(error.value).toBe('compose.prod.yml');
    expect(error.allowed).toContain('.github/, compose.prod.yaml, compose.yaml, nginx/');
  });
  it('tells a folder written without its slash', () => {
    expect(inputError(() => assertSkipsMatch(['nginx'], generated)).allowed).toBe('a folder written as nginx/ (with the slash)');
  });
  it('accepts files and folders the generator writes', () => {
    expect(() => assertSkipsMatch(['compose.prod.yaml', '.github/', '.github/workflows/ci.yml'], generated)).not.toThrow();
  });
});

describe('YAML from a person', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');

  it('refuses an alias bomb at once, naming the file', () => {
    const started = performance.now();
    const error = inputError(() => parseStackFile(bomb));
    // Expanded, it is 9^9 nodes: minutes, not seconds. A loaded machine still refuses well inside 5 s.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.field).toBe('infra-stack.yaml');
    expect(error.allowed).toContain('aliases');
    expect(inputError(() => parsePreset(bomb, 'team.yaml')).field).toBe('preset team.yaml');
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    expect(inputError(() => parseStackFile(`name: ${'['.repeat(20_000)}${']'.repeat(20_000)}`)).field).toBe('infra-stack.yaml');
  });

  it('accepts a few shared anchors', () => {
    const text = stackFileText(configOf()).replace(/services:[\s\S]*$/, 'services:\n  - { name: a, uses: &u [queue] }\n  - { name: b, uses: *u }\n');
    expect(parseStackFile(text).services.map((s) => s.uses)).toEqual([['queue'], ['queue']]);
  });
});
