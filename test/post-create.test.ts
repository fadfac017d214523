// After the files: nothing secret is ever committed, and nothing create did not write is run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CREATE_BIN, ROOT, type CliResult } from './helpers/stack.js';

// A known identity and no person's git config, so the first commit can be made here.
const GIT_ENV = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

let work: string;
let app: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'infra-stack-post-'));
  app = join(work, 'app');
});

function create(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CREATE_BIN, app, '--yes', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV, NO_COLOR: '1', INFRA_STACK_DEBUG: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const git = (...args: string[]) => spawnSync('git', args, { cwd: app, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
const committed = () => git('ls-files').stdout.split('\n').filter(Boolean);
const SECRET = /(^|\/)(\.env|secrets\.env)$|^certs\/|\.(pem|key)$/;

function preset(text: string): string[] {
  writeFileSync(join(work, 'preset.yaml'), text);
  return ['--preset', join(work, 'preset.yaml')];
}

describe('the first commit', () => {
  it('is made, without .env or the TLS key, when git ignores them', () => {
    const r = create(['--no-install']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('git: initialised, first commit made');
    const files = committed();
    expect(files).toContain('compose.yaml');
    expect(files.filter((f) => SECRET.test(f))).toEqual([]);
    expect(existsSync(join(app, '.env'))).toBe(true);
    expect(existsSync(join(app, 'certs/live/app.localhost/privkey.pem'))).toBe(true);
  });

  it('is not made when .gitignore is skipped and the folder has one without .env (create --force): exit 1, saying why', () => {
    mkdirSync(app);
    writeFileSync(join(app, '.gitignore'), 'node_modules/\n');
    const r = create(['--force', '--no-install', ...preset('skip: [.gitignore]\n')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^git: initialised, nothing committed: \.env, certs\/live\/app\.localhost\/fullchain\.pem, certs\/live\/app\.localhost\/privkey\.pem would be committed \(not git-ignored\): add them to \.gitignore, then commit$/m,
    );
    expect(git('rev-parse', '--verify', 'HEAD').status).not.toBe(0);
    expect(committed()).toEqual([]);
    expect(readFileSync(join(app, '.gitignore'), 'utf8')).toBe('node_modules/\n');
  });

  it('counts every secret the generated .gitignore names: .env.*, secrets/, backups/ too (create --force)', () => {
    mkdirSync(join(app, 'backups'), { recursive: true });
    mkdirSync(join(app, 'secrets'));
    writeFileSync(join(app, '.gitignore'), '.env\ncerts/\n');
    writeFileSync(join(app, '.env.production'), 'TOKEN=mine\n');
    writeFileSync(join(app, 'backups/app.sql'), '-- every row\n');
    writeFileSync(join(app, 'secrets/api-token'), 'mine\n');
    const r = create(['--force', '--no-install', ...preset('skip: [.gitignore]\n')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^git: initialised, nothing committed: \.env\.production, backups\/app\.sql, secrets\/api-token would be committed \(not git-ignored\)/m,
    );
    expect(committed()).toEqual([]);
  });

  it("create --force into a folder whose own .gitignore lacks .env never commits .env or certs", () => {
    mkdirSync(app);
    writeFileSync(join(app, '.gitignore'), 'node_modules/\n');
    const r = create(['--force', '--no-install']);
    // The person's lines are kept and the missing ones appended, so the first commit can be made.
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('git: initialised, first commit made');
    expect(readFileSync(join(app, '.gitignore'), 'utf8')).toMatch(/^node_modules\/\n[\s\S]*^\.env$/m);
    expect(git('check-ignore', '-q', '.env').status).toBe(0);
    expect(committed()).toContain('compose.yaml');
    expect(committed().filter((f) => SECRET.test(f))).toEqual([]);
  });

  it("create --force into a folder of the person's files commits only what create wrote", () => {
    mkdirSync(app);
    writeFileSync(join(app, 'notes.txt'), 'mine\n');
    writeFileSync(join(app, '.npmrc'), '//registry.npmjs.org/:_authToken=npm_secret\n');
    const r = create(['--force', '--no-install']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('git: initialised, first commit made of the files create wrote (yours are not added)');
    const files = committed();
    expect(files).toEqual(expect.arrayContaining(['compose.yaml', '.gitignore', 'infra-stack.yaml', '.infra-stack/manifest.json']));
    expect(files).not.toContain('notes.txt');
    expect(files).not.toContain('.npmrc');
    expect(files.filter((f) => SECRET.test(f))).toEqual([]);
    expect(git('status', '--porcelain').stdout.split('\n').filter(Boolean).sort()).toEqual(['?? .npmrc', '?? notes.txt']);
  });

  it("create --force beside a repository of the person's own (with its .env): that .env is not this commit's, the commit is made", () => {
    mkdirSync(join(app, 'tool'), { recursive: true });
    spawnSync('git', ['init', '-q'], { cwd: join(app, 'tool') });
    writeFileSync(join(app, 'tool/.env'), 'TOKEN=mine\n');
    const r = create(['--force', '--no-install']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('git: initialised, first commit made of the files create wrote');
    expect(committed().filter((f) => f.startsWith('tool') || SECRET.test(f))).toEqual([]);
  });

  it('is not made when both .gitignore files are skipped: the overlays\' secrets.env would be committed', () => {
    const r = create(['--no-install', '--target', 'k8s', ...preset('skip: [.gitignore, k8s/.gitignore]\n')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^git: initialised, nothing committed: \.env, certs\/live\/app\.localhost\/fullchain\.pem, certs\/live\/app\.localhost\/privkey\.pem, and 2 more would be committed/m);
    expect(committed()).toEqual([]);
  });

  it('is made without the overlays\' secrets.env when only k8s/.gitignore is skipped: the root .gitignore names it too', () => {
    const r = create(['--no-install', '--target', 'k8s', ...preset('skip: [k8s/.gitignore]\n')]);
    expect(r.code).toBe(0);
    const files = committed();
    expect(files).toContain('k8s/overlays/production/secrets.env.example');
    expect(files.filter((f) => SECRET.test(f))).toEqual([]);
    expect(existsSync(join(app, 'k8s/overlays/production/secrets.env'))).toBe(true);
  });

  it('--json carries the same exit code and step', () => {
    const r = create(['--no-install', '--json', ...preset('skip: [.gitignore]\n')]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.exitCode).toBe(1);
    expect(json.steps.join('\n')).toContain('nothing committed: .env');
  });
});

describe('create --force runs only what it wrote', () => {
  const marker = () => join(work, 'ran');

  it('an existing scripts/dev-certs.sh that differs is not run', () => {
    mkdirSync(join(app, 'scripts'), { recursive: true });
    const script = `#!/bin/sh\ntouch ${marker()}\n`;
    writeFileSync(join(app, 'scripts/dev-certs.sh'), script);
    const r = create(['--force', '--no-install', '--no-git']);
    // The certificate is the generated script's (made by create): never the file on disk's doing.
    expect(r.stdout).toContain('certs: a self-signed certificate in certs/');
    expect(existsSync(marker())).toBe(false);
    expect(readFileSync(join(app, 'scripts/dev-certs.sh'), 'utf8')).toBe(script);
  });

  it("npm install does not run in a service whose package.json create did not write (its preinstall never runs)", () => {
    mkdirSync(join(app, 'services/api'), { recursive: true });
    const manifest = JSON.stringify({ name: 'x', version: '1.0.0', scripts: { preinstall: `touch ${marker()}` } });
    writeFileSync(join(app, 'services/api/package.json'), manifest);
    const r = create(['--force', '--no-git', '--services', 'api']);
    expect(r.stdout).toContain('npm install: not run in services/api: its package.json is not the generated one (review it, then run npm install yourself)');
    expect(existsSync(marker())).toBe(false);
    expect(readFileSync(join(app, 'services/api/package.json'), 'utf8')).toBe(manifest);
  });

  it('a skipped scripts/dev-certs.sh is neither written nor run', () => {
    const r = create(['--no-install', '--no-git', ...preset('skip: [scripts/dev-certs.sh]\n')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('certs: scripts/dev-certs.sh is skipped, so no certificate was made');
    expect(existsSync(join(app, 'scripts/dev-certs.sh'))).toBe(false);
    expect(existsSync(join(app, 'certs'))).toBe(false);
  });

  it('the same script, already there byte for byte, is the generated one and runs', () => {
    expect(create(['--no-install', '--no-git']).code).toBe(0);
    const script = readFileSync(join(app, 'scripts/dev-certs.sh'), 'utf8');
    app = join(work, 'again', 'app');
    mkdirSync(join(app, 'scripts'), { recursive: true });
    writeFileSync(join(app, 'scripts/dev-certs.sh'), script, { mode: 0o755 });
    const r = create(['--force', '--no-install', '--no-git']);
    expect(r.stdout).toContain('certs: a self-signed certificate in certs/');
    expect(existsSync(join(app, 'certs/live/app.localhost/privkey.pem'))).toBe(true);
  });
});

describe('the development certificate', () => {
  it('is made for the longest domain allowed (200 characters, past the 64 of a common name)', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(8)}`;
    const r = create(['--no-install', '--no-git', '--domain', domain]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('certs: a self-signed certificate in certs/');
    const text = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(app, 'certs/live', domain, 'fullchain.pem')], { encoding: 'utf8' }).stdout;
    expect(text).toContain(`DNS:${domain}`);
  });
});
