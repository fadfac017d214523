// A service's own secrets and settings (infra-stack.yaml `secrets:` and `env:`): validated names,
// fresh 32-byte values in .env and each k8s secrets.env, and each reaching only the services that
// declare it on every path: compose (docker-compose config), k8s (kubectl kustomize), PM2 (the
// ecosystem file evaluated by Node).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envKeys } from '../src/engine/plan.js';
import { kustomize, type Resource } from './helpers/k8s.js';
import { configOf, INFRA_STACK_BIN, inputError, prettierDiffs, readTree, runCli, writeStack } from './helpers/stack.js';
import { tempDirs } from './helpers/temp.js';
import { tool } from './helpers/tools.js';
import { dockerComposeConfig } from './helpers/validators.js';

const HAS = { dockerCompose: tool('docker-compose'), kubectl: tool('kubectl') };
const { removeLater } = tempDirs();

const SERVICES = [
  { name: 'api', kind: 'api', secrets: ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET'], env: { LOG_LEVEL: 'info', FEATURE_X: true } },
  { name: 'auth', kind: 'api', secrets: ['JWT_ACCESS_SECRET'] },
  { name: 'web', kind: 'web' },
  { name: 'worker', kind: 'worker', env: { CONCURRENCY: 4 } },
];


/** KEY=value lines of an env file. */
const envValues = (text: string) =>
  Object.fromEntries(text.split('\n').flatMap((line) => (/^[A-Z]/.test(line) ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]] : [])));

describe('secrets: and env: are validated', () => {
  it.each([
    [{ secrets: ['jwt_secret'] }, 'services.api.secrets[0]'],
    [{ secrets: 'JWT_SECRET' }, 'services.api.secrets'],
    [{ secrets: ['DATABASE_URL'] }, 'services.api.secrets[0]'],
    [{ secrets: ['AWS_SECRET_ACCESS_KEY'] }, 'services.api.secrets[0]'],
    [{ secrets: ['A', 'A'] }, 'services.api.secrets'],
    [{ secrets: ['A-B'] }, 'services.api.secrets[0]'],
    [{ env: { 'LOG LEVEL': 'x' } }, 'services.api.env.LOG LEVEL'],
    [{ env: { PORT: '1' } }, 'services.api.env.PORT'],
    [{ env: { NODE_OPTIONS: '--inspect' } }, 'services.api.env.NODE_OPTIONS'],
    [{ env: { A: { nested: 1 } } }, 'services.api.env.A'],
    [{ env: ['A=1'] }, 'services.api.env'],
    [{ env: { A: 'x'.repeat(1001) } }, 'services.api.env.A'],
    [{ env: { A: '${HOME}' } }, 'services.api.env.A'],
    [{ env: { A: 'a"b' } }, 'services.api.env.A'],
    [{ secrets: ['A'], env: { A: 'x' } }, 'services.api.env.A'],
  ])('%j is refused at %s', (fields, field) => {
    expect(inputError(() => configOf({ services: [{ name: 'api', ...fields }] })).field).toBe(field);
  });

  it("a name that is one service's secret and another's setting is refused", () => {
    const error = inputError(() => configOf({ services: [{ name: 'api', secrets: ['TOKEN'] }, { name: 'web', env: { TOKEN: 'x' } }] }));
    expect(error.field).toBe('services.web.env.TOKEN');
  });

  it('add service --secrets with a bad name: one line naming the flag field, exit 2, nothing written', async () => {
    const dir = await writeStack(configOf());
    removeLater(dir);
    const before = readTree(dir);
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'auth', '--secrets', 'JWT_SECRET,redis_url', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('secrets[1]');
    expect(r.stderr).toContain('redis_url');
    const bad = runCli(INFRA_STACK_BIN, ['add', 'service', 'auth', '--env', 'NOEQUALS', '--dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--env');
    expect(readTree(dir)).toEqual(before);
  });

  it('update refuses --secrets and --env (they belong to add service)', () => {
    const r = runCli(INFRA_STACK_BIN, ['update', '--secrets', 'A', '--dir', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secrets goes with `add service`');
  });
});

describe.each(['compose', 'k8s'] as const)('app secrets and settings, target %s', (target) => {
  const config = configOf({ target, services: SERVICES });
  let dir: string;
  const file = (path: string) => readFileSync(join(dir, path), 'utf8');

  it('.env has a fresh 32-byte value per secret, once even when two services share it; .env.example lists them empty', async () => {
    dir = await writeStack(config);
    removeLater(dir);
    // writeStack uses fixed test secrets: a real CLI run shows the random ones.
    const created = join(dir, 'cli');
    const r = runCli(join(INFRA_STACK_BIN, '..', 'create-infra-stack.cjs'), [
      created,
      '--yes',
      '--no-git',
      '--no-install',
      '--target',
      target,
      '--preset',
      writePreset(dir),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const env = envValues(readFileSync(join(created, '.env'), 'utf8'));
    for (const key of ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET']) {
      expect(Buffer.from(env[key], 'base64url').length).toBe(32);
    }
    expect(env.JWT_ACCESS_SECRET).not.toBe(env.JWT_REFRESH_SECRET);
    expect(envKeys(readFileSync(join(created, '.env'), 'utf8')).filter((k) => k === 'JWT_ACCESS_SECRET')).toHaveLength(1);
    const example = envValues(file('.env.example'));
    expect(example).toMatchObject({ JWT_ACCESS_SECRET: '', JWT_REFRESH_SECRET: '' });
    expect(file('.env.example')).toContain('given only to api, auth');
    if (target === 'k8s') {
      const staging = envValues(readFileSync(join(created, 'k8s/overlays/staging/secrets.env'), 'utf8'));
      const production = envValues(readFileSync(join(created, 'k8s/overlays/production/secrets.env'), 'utf8'));
      expect(Buffer.from(production.JWT_ACCESS_SECRET, 'base64url').length).toBe(32);
      // Each environment its own value, none the same as development's.
      expect(new Set([env.JWT_ACCESS_SECRET, staging.JWT_ACCESS_SECRET, production.JWT_ACCESS_SECRET]).size).toBe(3);
      expect(envValues(readFileSync(join(created, 'k8s/overlays/staging/secrets.env.example'), 'utf8')).JWT_REFRESH_SECRET).toBe('');
    }
  });

  it('compose: only the declaring services get each secret, required with ${VAR:?}; settings reach their service', async () => {
    const compose = parse(file('compose.yaml')) as { services: Record<string, { environment: Record<string, string> }> };
    const env = (name: string) => compose.services[name].environment;
    expect(env('api')).toMatchObject({
      LOG_LEVEL: 'info',
      FEATURE_X: 'true',
      JWT_ACCESS_SECRET: '${JWT_ACCESS_SECRET:?set JWT_ACCESS_SECRET in .env}',
      JWT_REFRESH_SECRET: '${JWT_REFRESH_SECRET:?set JWT_REFRESH_SECRET in .env}',
    });
    expect(Object.keys(env('auth'))).toContain('JWT_ACCESS_SECRET');
    expect(Object.keys(env('auth'))).not.toContain('JWT_REFRESH_SECRET');
    expect(env('worker').CONCURRENCY).toBe('4');
    for (const other of ['web', 'worker', 'postgres', 'gateway']) {
      expect(JSON.stringify(compose.services[other])).not.toContain('JWT_');
    }
  });

  it.skipIf(!HAS.dockerCompose)('docker-compose config passes with .env, and refuses to start without the secret', async () => {
    expect((await dockerComposeConfig(dir, ['compose.yaml'])).ok).toBe(true);
    const original = file('.env');
    try {
      writeFileSync(join(dir, '.env'), original.replace(/^JWT_REFRESH_SECRET=.*$/m, ''));
      const r = await dockerComposeConfig(dir, ['compose.yaml']);
      expect(r.ok).toBe(false);
      expect(r.stderr).toContain('set JWT_REFRESH_SECRET in .env');
    } finally {
      writeFileSync(join(dir, '.env'), original);
    }
  });

  it('PM2 on a host: each app sees its own secrets from .env and the others blanked; its settings set', () => {
    const require = createRequire(import.meta.url);
    const { apps } = require(join(dir, 'ecosystem.config.cjs')) as { apps: { name: string; env: Record<string, string> }[] };
    const app = (name: string) => apps.find((a) => a.name === name)!.env;
    const values = envValues(file('.env'));
    expect(app('api').JWT_REFRESH_SECRET).toBe(values.JWT_REFRESH_SECRET);
    expect(app('api').JWT_ACCESS_SECRET).toBe(values.JWT_ACCESS_SECRET);
    expect(app('api').LOG_LEVEL).toBe('info');
    expect(app('auth').JWT_ACCESS_SECRET).toBe(values.JWT_ACCESS_SECRET);
    expect(app('auth').JWT_REFRESH_SECRET).toBe('');
    expect(app('auth').LOG_LEVEL).toBeUndefined();
    for (const name of ['web', 'worker']) {
      expect(app(name).JWT_ACCESS_SECRET).toBe('');
      expect(app(name).JWT_REFRESH_SECRET).toBe('');
    }
    expect(app('worker').CONCURRENCY).toBe('4');
  });

  it.skipIf(target !== 'k8s' || !HAS.kubectl)('k8s: the Secret holds them; only the declaring Deployments reference them; settings in their ConfigMap', async () => {
    for (const overlay of ['staging', 'production']) {
      const resources = await kustomize(join(dir, 'k8s/overlays', overlay));
      const secret = resources.find((r) => r.kind === 'Secret' && r.metadata.name.startsWith('secrets-')) as Resource & { data: Record<string, string> };
      const values = envValues(file(`k8s/overlays/${overlay}/secrets.env`));
      expect(Buffer.from(secret.data.JWT_ACCESS_SECRET, 'base64').toString()).toBe(values.JWT_ACCESS_SECRET);
      const refs = (name: string) => {
        const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === name)!;
        return JSON.stringify(deployment).match(/"key":"JWT_[A-Z_]+"/g) ?? [];
      };
      expect(refs('api').sort()).toEqual(['"key":"JWT_ACCESS_SECRET"', '"key":"JWT_REFRESH_SECRET"']);
      expect(refs('auth')).toEqual(['"key":"JWT_ACCESS_SECRET"']);
      expect(refs('web')).toEqual([]);
      expect(refs('worker')).toEqual([]);
      const apiConfig = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('api-config')) as Resource & { data: Record<string, string> };
      expect(apiConfig.data.LOG_LEVEL).toBe('info');
      // No committed file holds a value: only the git-ignored secrets.env.
      expect(readFileSync(join(dir, 'k8s/base/services/api.yaml'), 'utf8')).not.toContain(values.JWT_ACCESS_SECRET);
    }
  });

  it('a secret added to infra-stack.yaml later: update appends it to .env (every other byte kept), then changes nothing', async () => {
    const stackFile = join(dir, 'infra-stack.yaml');
    const envBefore = file('.env');
    writeFileSync(stackFile, file('infra-stack.yaml').replace('  - name: web\n', '  - name: web\n    secrets: [SESSION_SECRET]\n'));
    const r = runCli(INFRA_STACK_BIN, ['update', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const envAfter = file('.env');
    expect(envAfter.startsWith(envBefore)).toBe(true);
    expect(Buffer.from(envValues(envAfter).SESSION_SECRET, 'base64url').length).toBe(32);
    expect((parse(file('compose.yaml')) as { services: Record<string, { environment: Record<string, string> }> }).services.web.environment.SESSION_SECRET).toBe(
      '${SESSION_SECRET:?set SESSION_SECRET in .env}',
    );
    const again = runCli(INFRA_STACK_BIN, ['update', '--dir', dir, '--json']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envAfter);
  });

  it('the output with secrets and settings is prettier-clean (PM2 file, compose, k8s)', async () => {
    const diffs = await prettierDiffs(config);
    expect(diffs, diffs.join('\n\n')).toEqual([]);
  });

  it('add service --secrets --env records them in infra-stack.yaml and renders them for the new service', async () => {
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'billing', '--secrets', 'STRIPE_KEY', '--env', 'LOG_LEVEL=debug', '--env', 'GREETING=a=b,c', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const billing = (parse(file('infra-stack.yaml')) as { services: { name: string }[] }).services.find((s) => s.name === 'billing');
    expect(billing).toMatchObject({ secrets: ['STRIPE_KEY'], env: { LOG_LEVEL: 'debug', GREETING: 'a=b,c' } });
    expect(envValues(file('.env')).STRIPE_KEY).toMatch(/^[\w-]{43}$/);
    const compose = parse(file('compose.yaml')) as { services: Record<string, { environment: Record<string, string> }> };
    expect(compose.services.billing.environment).toMatchObject({ STRIPE_KEY: '${STRIPE_KEY:?set STRIPE_KEY in .env}', GREETING: 'a=b,c' });
    expect(JSON.stringify(compose.services.api)).not.toContain('STRIPE_KEY');
  });
});

/** A preset with the test's services, for a real CLI run (random secrets). */
function writePreset(dir: string): string {
  const path = join(dir, 'preset.yaml');
  writeFileSync(path, JSON.stringify({ services: SERVICES }));
  return path;
}
