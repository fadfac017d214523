import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CREATE_BIN, infraStack, readTree as files, runCli } from './helpers/stack.js';

function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).sort();
}

function create(args: string[] = []): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-stack-rerun-')), 'shop');
  const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return dir;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe('re-running', () => {
  let dir: string;
  beforeEach(() => {
    dir = create();
  });

  it('changes nothing the second time, and says so', () => {
    const before = files(dir);
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Nothing to change/);
    expect(changedPaths(before, files(dir))).toEqual([]);
  });

  it('add service updates every file the service touches, and only those', () => {
    const before = files(dir);
    const r = infraStack(dir, 'add', 'service', 'billing', '--kind', 'api', '--port', '3100');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(changedPaths(before, files(dir))).toEqual([
      // The per-service matrices of CI and image builds, Dependabot's folders, the PM2 apps, `make migrate` and the health check.
      '.github/dependabot.yml',
      '.github/workflows/ci.yml',
      '.github/workflows/docker.yml',
      // What the generator wrote, the base of the next merge.
      '.infra-stack/base',
      '.infra-stack/manifest.json',
      'Makefile',
      'README.md',
      'compose.override.yaml',
      'compose.prod.yaml',
      'compose.yaml',
      'ecosystem.config.cjs',
      'infra-stack.yaml',
      'nginx/conf.d/shop.localhost.conf',
      'scripts/health-check.sh',
      'services/billing/.dockerignore',
      'services/billing/Dockerfile',
      'services/billing/package-lock.json',
      'services/billing/package.json',
      'services/billing/src/index.js',
      'services/billing/src/log.js',
      'services/billing/src/metrics.js',
      'services/billing/src/s3.js',
    ]);
    const compose = parse(read(dir, 'compose.yaml'), { merge: true });
    expect(compose.services.billing.environment.PORT).toBe('3100');
    expect(read(dir, 'nginx/conf.d/shop.localhost.conf')).toMatch(/upstream billing \{\s+server billing:3100;/);
    expect(read(dir, 'nginx/conf.d/shop.localhost.conf')).toContain('location /billing/ {');
    expect(read(dir, 'README.md')).toContain('- `billing` (api, port 3100): routed at `/billing`');
    expect(parse(read(dir, 'infra-stack.yaml')).services.at(-1)).toEqual({ name: 'billing', kind: 'api', port: 3100, path: '/billing' });

    // The same command again is a clear error that changes nothing.
    const after = files(dir);
    const again = infraStack(dir, 'add', 'service', 'billing');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/Invalid service name: "billing".*not already in infra-stack.yaml/);
    expect(changedPaths(after, files(dir))).toEqual([]);
  });

  it('merges a person edit with the generator changes, keeping both (MERGED)', () => {
    const edited = read(dir, 'compose.yaml').replace('      SERVICE_KIND: "api"\n', '      SERVICE_KIND: "api"\n      FEATURE_FLAGS: "checkout-v2" # ours\n');
    writeFileSync(join(dir, 'compose.yaml'), edited);
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MERGED\s+compose\.yaml/);
    const compose = parse(read(dir, 'compose.yaml'), { merge: true });
    expect(compose.services.api.environment.FEATURE_FLAGS).toBe('checkout-v2');
    expect(compose.services.billing.environment.SERVICE_NAME).toBe('billing');
    expect(existsSync(join(dir, 'compose.yaml.infra-stack-new'))).toBe(false);
    // The edit stays the person's: the next run keeps it and changes nothing.
    const next = infraStack(dir, 'update');
    expect(next.code).toBe(0);
    expect(next.stdout).toMatch(/KEPT\s+compose\.yaml/);
    expect(next.stdout).toContain('Nothing to change');
  });

  it('writes conflict markers where edits overlap the generator changes, applies the rest, exit 1 until resolved', () => {
    const edited = read(dir, 'compose.yaml').replace('      PORT: "3000"\n', '      PORT: "3005" # pinned by ops\n');
    writeFileSync(join(dir, 'compose.yaml'), edited);
    writeFileSync(join(dir, 'infra-stack.yaml'), read(dir, 'infra-stack.yaml').replace('port: 3000', 'port: 3050'));
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CONFLICT\s+compose\.yaml\s+\(your edits overlap the generator's changes \(services\.api\.environment\.PORT\)/);
    expect(r.stdout).toContain('delete the marker lines, then run `npx infra-stack check`');
    // Both sides are in the file between git-style markers: compose refuses it, nothing of theirs is lost.
    const marked = read(dir, 'compose.yaml');
    expect(marked).toContain('<<<<<<< yours\n      PORT: "3005" # pinned by ops\n=======\n      PORT: "3050"\n>>>>>>> create-infra-stack ');
    expect(marked.replace(/<<<<<<< yours\n.*\n=======\n.*\n>>>>>>> .*\n/, '      PORT: "3005" # pinned by ops\n')).toBe(
      edited.replace('3000/readyz', '3050/readyz'),
    );
    expect(existsSync(join(dir, 'compose.yaml.infra-stack-new'))).toBe(false);
    expect(JSON.parse(read(dir, '.infra-stack/conflicts.json')).files).toEqual(['compose.yaml']);
    // Everything else was applied.
    expect(read(dir, 'nginx/conf.d/shop.localhost.conf')).toContain('server api:3050;');
    // Still pending on the next run: reported again, never touched, and check fails.
    const next = infraStack(dir, 'update');
    expect(next.code).toBe(1);
    expect(next.stdout).toMatch(/CONFLICT\s+compose\.yaml\s+\(conflict pending/);
    expect(read(dir, 'compose.yaml')).toBe(marked);
    const check = infraStack(dir, 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/conflict pending\s+compose\.yaml/);
    // Resolved (their port kept): the file is the person's, check passes, the record is gone.
    writeFileSync(join(dir, 'compose.yaml'), marked.replace(/<<<<<<< yours\n.*\n=======\n(.*\n)>>>>>>> .*\n/, '$1'));
    expect(infraStack(dir, 'update').code).toBe(0);
    expect(existsSync(join(dir, '.infra-stack/conflicts.json'))).toBe(false);
    const passed = infraStack(dir, 'check');
    expect(passed.stdout).toContain('Up to date with infra-stack.yaml');
    expect(passed.code).toBe(0);
  });

  it('keeps an edited file quietly when the generator has nothing new for it', () => {
    const dockerfile = read(dir, 'services/api/Dockerfile') + '# our tweak\n';
    writeFileSync(join(dir, 'services/api/Dockerfile'), dockerfile);
    const r = infraStack(dir, 'add', 'service', 'mailer', '--kind', 'worker');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KEPT\s+services\/api\/Dockerfile/);
    expect(read(dir, 'services/api/Dockerfile')).toBe(dockerfile);
    expect(existsSync(join(dir, 'services/api/Dockerfile.infra-stack-new'))).toBe(false);
  });

  it('follows a hand edit of infra-stack.yaml, keeping the secrets in .env', () => {
    const env = read(dir, '.env');
    const answers = read(dir, 'infra-stack.yaml').replace('gateway: nginx', 'gateway: kong').replace('search: meilisearch', 'search: opensearch');
    writeFileSync(join(dir, 'infra-stack.yaml'), answers);
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'kong/kong.yml'))).toBe(true);
    expect(existsSync(join(dir, 'nginx/nginx.conf'))).toBe(false);
    expect(r.stdout).toMatch(/DELETE\s+nginx\/nginx\.conf/);
    const newEnv = read(dir, '.env');
    expect(newEnv.startsWith(env)).toBe(true);
    expect(newEnv).toMatch(/\nOPENSEARCH_INITIAL_ADMIN_PASSWORD=Os1-\S{20,}\n/);
    expect(read(dir, 'infra-stack.yaml')).toBe(answers);
  });

  it('add service --uses gives the service only what it uses: env, dependencies, host runs', () => {
    const r = infraStack(dir, 'add', 'service', 'mailer', '--kind', 'worker', '--uses', 'queue');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const mailer = parse(read(dir, 'compose.yaml'), { merge: true }).services.mailer;
    expect(Object.keys(mailer.depends_on)).toEqual(['rabbitmq']);
    expect(mailer.environment.AMQP_URL).toBeDefined();
    expect(mailer.environment.DATABASE_URL).toBeUndefined();
    expect(parse(read(dir, 'infra-stack.yaml')).services.at(-1)).toMatchObject({ name: 'mailer', uses: ['queue'] });
    const ecosystem = read(dir, 'ecosystem.config.cjs');
    const app = ecosystem.slice(ecosystem.indexOf("name: 'mailer'"));
    expect(app).toContain("DATABASE_URL: '',");
    expect(app).not.toContain("AMQP_URL: '',");
    const bad = infraStack(dir, 'add', 'service', 'other', '--uses', 'email');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid services.other.uses: "email". Allowed: a list of what the stack has: database, cache, queue, search.');
  });

  it('leaves files listed under skip to the person: never written, updated or deleted again', () => {
    writeFileSync(join(dir, 'infra-stack.yaml'), read(dir, 'infra-stack.yaml') + 'skip:\n  - compose.prod.yaml\n  - .github/workflows/\n');
    const prod = read(dir, 'compose.prod.yaml');
    const deploy = read(dir, '.github/workflows/deploy.yml');
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KEPT\s+compose\.prod\.yaml\s+\(skipped in infra-stack\.yaml/);
    expect(read(dir, 'compose.prod.yaml')).toBe(prod);
    const manifest = JSON.parse(read(dir, '.infra-stack/manifest.json'));
    expect(Object.keys(manifest.files).filter((p) => p === 'compose.prod.yaml' || p.startsWith('.github/workflows/'))).toEqual([]);

    // A new service changes compose.yaml, but not the skipped files.
    expect(infraStack(dir, 'add', 'service', 'billing').code).toBe(0);
    expect(read(dir, 'compose.yaml')).toContain('billing:');
    expect(read(dir, 'compose.prod.yaml')).toBe(prod);
    expect(read(dir, '.github/workflows/deploy.yml')).toBe(deploy);

    writeFileSync(join(dir, 'infra-stack.yaml'), read(dir, 'infra-stack.yaml').replace('  - compose.prod.yaml', '  - ../outside'));
    const bad = infraStack(dir, 'update');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid infra-stack.yaml skip: "../outside"');
  });

  it('--dry-run prints the plan and writes nothing; --json is machine-readable', () => {
    const before = files(dir);
    const r = infraStack(dir, 'add', 'service', 'billing', '--dry-run', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.dryRun).toBe(true);
    expect(json.files).toContainEqual({ path: 'services/billing/Dockerfile', action: 'CREATE' });
    expect(json.files).toContainEqual({ path: 'compose.yaml', action: 'UPDATE' });
    expect(changedPaths(before, files(dir))).toEqual([]);
  });

  it('refuses a bad hand edit with the field named, changing nothing', () => {
    writeFileSync(join(dir, 'infra-stack.yaml'), read(dir, 'infra-stack.yaml').replace('port: 3000', 'port: 80'));
    const before = files(dir);
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid infra-stack.yaml services.api.port: "80". Allowed: an integer from 1024 to 65535');
    expect(changedPaths(before, files(dir))).toEqual([]);
  });
});

describe('add service with the kong gateway', () => {
  it('adds the route to kong.yml', () => {
    const dir = create(['--gateway', 'kong']);
    const r = infraStack(dir, 'add', 'service', 'billing', '--path', '/pay');
    expect(r.code).toBe(0);
    const kong = parse(read(dir, 'kong/kong.yml'));
    const billing = kong.services.find((s: { name: string }) => s.name === 'billing');
    expect(billing.url).toMatch(/^http:\/\/billing:\d+$/);
    expect(billing.routes[0].paths).toEqual(['/pay']);
  });
});
