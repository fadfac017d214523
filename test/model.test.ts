import { describe, expect, it } from 'vitest';
import { parseServicesFlag, nameFromDir } from '../src/model/defaults.js';
import { InputError } from '../src/model/errors.js';
import { addServiceToStackFile, parseStackFile, stackFileText } from '../src/model/stack-file.js';
import { nginxFacts } from '../src/model/nginx.js';
import { buildModel } from '../src/model/stack-model.js';
import { configOf } from './helpers/stack.js';

/** The InputError a bad value raises, so each case can check field, value and allowed. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, none was thrown');
}

describe('validateConfig', () => {
  it('accepts the defaults and fills ports and paths', () => {
    const config = configOf();
    expect(config.services).toEqual([
      { name: 'api', kind: 'api', port: 3000, path: '/api', cache: false, uses: ['database', 'cache', 'queue', 'search'] },
      { name: 'web', kind: 'web', port: 3001, path: '/', cache: false, uses: ['database', 'cache', 'queue', 'search'] },
      { name: 'worker', kind: 'worker', port: 3002, path: null, cache: false, uses: ['database', 'cache', 'queue', 'search'] },
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
    ['service port too low', { services: [{ name: 'api', port: 80 }] }, 'services[0].port', '1024 to 65535'],
    ['service port not a number', { services: [{ name: 'api', port: '3000abc' }] }, 'services[0].port', '1024 to 65535'],
    ['port of a data service', { services: [{ name: 'api', port: 5432 }] }, 'services[0].port', 'postgres'],
    ['duplicate port', { services: [{ name: 'a', port: 4000 }, { name: 'b', port: 4000 }] }, 'services[1].port', 'service a'],
    ['duplicate name', { services: [{ name: 'a' }, { name: 'a' }] }, 'services[1].name', 'no other service'],
    ['reserved name', { services: [{ name: 'redis' }] }, 'services[0].name', 'not used by the stack'],
    ['bad kind', { services: [{ name: 'a', kind: 'cron' }] }, 'services[0].kind', 'api, web, worker'],
    ['relative path', { services: [{ name: 'a', path: 'api' }] }, 'services[0].path', 'starting with "/"'],
    ['duplicate path', { services: [{ name: 'a', path: '/x' }, { name: 'b', path: '/x' }] }, 'services[1].path', 'service a'],
    ['cached web service', { services: [{ name: 'w', kind: 'web', cache: true }] }, 'services[0].cache', 'only api services'],
    ['nginx version', { nginxVersion: '1.25; evil' }, 'nginxVersion', 'nginx version'],
    ['unknown use', { services: [{ name: 'a', uses: ['email'] }] }, 'services[0].uses[0]', 'database, cache, queue, search'],
    ['use of what the stack lacks', { database: 'none', services: [{ name: 'a', uses: ['database'] }] }, 'services[0].uses[0]', 'cache, queue, search'],
    ['uses not a list', { services: [{ name: 'a', uses: 'queue' }] }, 'services[0].uses', 'a list'],
    ['routed worker', { services: [{ name: 'w', kind: 'worker', path: '/w' }] }, 'services[0].path', 'workers are not routed'],
    ['unknown service field', { services: [{ name: 'a', prot: 1 }] }, 'services[0].prot', 'name, kind, port, path'],
  ])('refuses %s, naming the field and what is allowed', (_label, overrides, field, allowed) => {
    const error = inputError(() => configOf(overrides as Record<string, unknown>));
    expect(error.field).toBe(field);
    expect(error.allowed).toContain(allowed);
    expect(error.message).toMatch(new RegExp(`^Invalid ${field.replace(/[[\]]/g, '\\$&')}: `));
  });

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
    expect(inputError(() => configOf({ services: [{ name }] })).field).toBe('services[0].name');
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
    expect(inputError(() => configOf({ services: [{ name: 'a', path }] })).field).toBe('services[0].path');
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
    const billing = { name: 'billing', kind: 'api', port: 3100, path: '/billing', cache: true, uses: ['database', 'queue'] } as const;
    const added = addServiceToStackFile(text, { ...billing, uses: [...billing.uses] }, configOf());
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
