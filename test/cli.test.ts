import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CREATE_BIN, INFRA_STACK_BIN, runCli } from './helpers/stack.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'infra-stack-cli-')), 'app');

describe('create-infra-stack', () => {
  it('--help teaches: every flag, examples, exit codes', () => {
    const r = runCli(CREATE_BIN, ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--services', '--gateway', '--queue', '--search', '--target', '--domain', '--node', '--yes', '--dry-run', '--json', '--no-git', '--no-install', '--no-sample', '--force']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('Examples');
    expect(r.stdout).toContain('Exit codes');
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(runCli(CREATE_BIN, ['--version']).stdout.trim()).toBe(version);
  });

  it.each([
    [['--gateway', 'traefik'], 'Invalid gateway: "traefik". Allowed: nginx, kong.'],
    [['--services', 'api:api:80'], 'Invalid services.api.port: "80". Allowed: an integer from 1024 to 65535.'],
    [['--services', 'api:db'], 'Invalid services.api.kind: "db". Allowed: api, web, worker.'],
    [['--domain', 'evil.com;'], 'Invalid domain: "evil.com;"'],
    [['--services', 'a\nb'], 'Invalid services.name: "a\\nb"'],
    [['--colour', 'blue'], "Unknown option '--colour'"],
  ])('%j: exit 2, a message naming field, value and what is allowed, nothing written', (args, message) => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  it('without a terminal and with answers missing, exits 2 at once listing the flags', () => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [dir, '--gateway', 'kong']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--services\n\s+--queue\n\s+--search\n\s+--target\n\s+--domain/);
    expect(r.stderr).not.toContain('--gateway');
    expect(existsSync(dir)).toBe(false);
  });

  it('all answers as flags need no --yes and no terminal', () => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [
      dir, '--services', 'api:api:4000,jobs:worker', '--gateway', 'kong', '--queue', 'sqs', '--search', 'opensearch',
      '--target', 'compose', '--domain', 'shop.example.com', '--node', '22', '--no-git', '--no-install',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const answers = parse(readFileSync(join(dir, 'infra-stack.yaml'), 'utf8'));
    expect(answers).toMatchObject({ gateway: 'kong', queue: 'sqs', search: 'opensearch', domain: 'shop.example.com', node: '22' });
    expect(readFileSync(join(dir, 'services/api/Dockerfile'), 'utf8')).toContain('ARG NODE_VERSION=22');
  });

  it('--dry-run prints the plan and writes nothing', () => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [dir, '--yes', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CREATE\s+compose\.yaml/);
    expect(r.stdout).toContain('dry run: nothing written');
    expect(existsSync(dir)).toBe(false);
  });

  it('--json prints the result as JSON', () => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [dir, '--yes', '--json', '--no-git', '--no-install']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ command: 'create', dryRun: false, changed: true, exitCode: 0 });
    expect(json.files.every((f: { action: string }) => f.action === 'CREATE')).toBe(true);
    expect(json.files.map((f: { path: string }) => f.path)).toContain('compose.yaml');
  });

  it('--no-sample leaves service code to the person but still writes Dockerfiles', () => {
    const dir = fresh();
    expect(runCli(CREATE_BIN, [dir, '--yes', '--no-sample', '--no-git', '--no-install']).code).toBe(0);
    expect(existsSync(join(dir, 'services/api/Dockerfile'))).toBe(true);
    expect(existsSync(join(dir, 'services/api/src/index.js'))).toBe(false);
  });

  it('refuses a non-empty directory it did not make, unless --force; --force never overwrites', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    const refused = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty (compose.yaml)');
    expect(readdirSync(dir)).toEqual(['compose.yaml']);

    const forced = runCli(CREATE_BIN, [dir, '--yes', '--force', '--no-git', '--no-install']);
    expect(forced.code).toBe(1);
    expect(forced.stdout).toMatch(/CONFLICT\s+compose\.yaml\s+\(exists and was not written by create-infra-stack/);
    expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).toBe('services: {}\n');
    expect(existsSync(join(dir, 'compose.yaml.infra-stack-new'))).toBe(true);
  });

  it('points to infra-stack inside a repository it made', () => {
    const dir = fresh();
    expect(runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install']).code).toBe(0);
    const again = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('infra-stack update');
  });

  it('makes a git repository with a first commit', () => {
    const dir = fresh();
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-install'], undefined);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, '.git'))).toBe(true);
    expect(r.stdout).toMatch(/git: initialised/);
  });
});

describe('infra-stack', () => {
  it('--help teaches both commands', () => {
    const r = runCli(INFRA_STACK_BIN, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('add service <name>');
    expect(r.stdout).toContain('update');
    expect(r.stdout).toContain('Examples');
  });

  it('outside a generated repository: exit 2 with a hint', () => {
    const r = runCli(INFRA_STACK_BIN, ['update', '--dir', tmpdir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No infra-stack.yaml in');
  });

  it('--version prints the version', () => {
    expect(runCli(INFRA_STACK_BIN, ['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command: exit 2', () => {
    const r = runCli(INFRA_STACK_BIN, ['frobnicate', 'service', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown command');
  });
});
