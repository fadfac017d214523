// The life of a repository across versions: the package is built and packed twice from this
// source (the second with changed templates and a higher version), installed from the tarball
// into a generated repository, and run as `npx infra-stack` the way the README says. The merge
// base comes from the repository alone (no git): edits that do not overlap the new templates are
// MERGED, overlapping ones get conflict markers. The same for a team template folder that
// changes and a preset package that is bumped.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers/stack.js';
import { run } from './helpers/validators.js';

const work = mkdtempSync(join(tmpdir(), 'infra-stack-upgrade-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** This source, copied, changed, built and packed as `version`: the path of the tarball. */
function buildPackage(version: string, change: (src: string) => void = () => {}): string {
  const src = join(work, `src-${version}`);
  for (const entry of ['package.json', 'tsconfig.json', 'README.md', 'src', 'generators', 'templates', 'scripts']) {
    cpSync(join(ROOT, entry), join(src, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  writeFileSync(join(src, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  change(src);
  execFileSync('npm', ['run', 'build'], { cwd: src, stdio: 'ignore' });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: src, encoding: 'utf8' }));
  return join(work, packed.filename);
}

function replaceIn(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text.split(from).length, `${from} in ${file}`).toBe(2);
  writeFileSync(file, text.replace(from, to));
}

const npm = (cwd: string, args: string[]) =>
  execFileSync('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * `npx infra-stack ...` in `cwd`, as a person types it. The registry is unreachable for this
 * call: the bin must come from the repository's node_modules, never from a download.
 */
function npx(cwd: string, args: string[]) {
  const env = { ...process.env, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true' };
  const r = spawnSync('npx', ['infra-stack', ...args], { cwd, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Sets the generator pin as `npm install -D create-infra-stack@<version>` writes it (the repo's .npmrc says save-exact). */
function pin(repo: string, name: string, version: string): void {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  pkg.devDependencies[name] = version;
  writeFileSync(join(repo, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

/** A bin of the installed create-infra-stack 1.0.0, as npm linked it. */
const toolBin = (name: string) => join(tool, 'node_modules', '.bin', name);

let v1: string;
let v2: string;
let tool: string;

beforeAll(() => {
  v1 = buildPackage('1.0.0');
  v2 = buildPackage('1.1.0', (src) => {
    // A YAML change (a new gateway setting) and a line change in every Dockerfile.
    replaceIn(join(src, 'templates/docker/compose.yaml.hbs'), '      NGINX_ENTRYPOINT_QUIET_LOGS: "1"\n', '      NGINX_ENTRYPOINT_QUIET_LOGS: "1"\n      NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE: "1"\n');
    replaceIn(join(src, 'templates/docker/services/__service__/Dockerfile.hbs'), 'tini forwards signals and reaps zombies.', 'tini forwards signals and reaps zombies (so does docker run --init).');
  });
  // create-infra-stack 1.0.0 as `npm create` would fetch it.
  tool = join(work, 'tool');
  npm(work, ['install', '--prefix', tool, v1]);
}, 240_000);

/** A repository made by 1.0.0, with its pinned generator installed from the tarball. */
function createRepo(name: string, args: string[] = [], cwd = work): string {
  const r = spawnSync(process.execPath, [toolBin('create-infra-stack'), name, '--yes', '--no-git', '--no-install', ...args], { cwd, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return join(cwd, name);
}

describe('upgrading the generator', () => {
  it('merges edits that do not overlap the new templates, marks the ones that do; offline, from a copy without git', () => {
    const made = createRepo('shop');
    expect(JSON.parse(read(made, 'package.json')).devDependencies['create-infra-stack']).toBe('1.0.0');
    expect(read(made, '.npmrc')).toMatch(/^save-exact=true$/m);
    npm(made, ['install', '--no-save', v1]);
    // The command the create summary and the README print, from a subfolder, with no registry.
    const status = npx(join(made, 'services/api'), ['status']);
    expect(status.stderr).toBe('');
    expect(status.stdout).toContain('shop: written by create-infra-stack 1.0.0');

    // The person's edits: compose.yaml and api's Dockerfile away from what 1.1.0 changes, web's Dockerfile on the same line.
    const compose = read(made, 'compose.yaml').replace(/(\n {2}gateway:[\s\S]*?\n {6}api:\n {8}condition: )service_healthy/, '$1service_started');
    writeFileSync(join(made, 'compose.yaml'), compose);
    writeFileSync(join(made, 'services/api/Dockerfile'), read(made, 'services/api/Dockerfile') + 'LABEL org.opencontainers.image.vendor="acme"\n');
    const web = read(made, 'services/web/Dockerfile').replace('reaps zombies.', 'reaps zombies; we rely on it.');
    writeFileSync(join(made, 'services/web/Dockerfile'), web);

    // A teammate's clone (a plain copy: no git at all) upgrades: npm install -D create-infra-stack@1.1.0.
    const clone = join(work, 'shop-clone');
    cpSync(made, clone, { recursive: true, filter: (p) => !p.includes('node_modules') });
    pin(clone, 'create-infra-stack', '1.1.0');
    npm(clone, ['install', '--no-save', v2]);
    const dry = npx(clone, ['update', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('would hold git-style markers');
    const r = npx(clone, ['update']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/MERGED\s+compose\.yaml/);
    expect(r.stdout).toMatch(/MERGED\s+services\/api\/Dockerfile/);
    expect(r.stdout).toMatch(/CONFLICT\s+services\/web\/Dockerfile/);
    expect(r.stdout).toMatch(/UPDATE\s+services\/worker\/Dockerfile/);
    expect(r.stdout).not.toMatch(/package\.json/); // the pin the person bumped is the one 1.1.0 writes

    const merged = parse(read(clone, 'compose.yaml'), { merge: true });
    expect(merged.services.gateway.depends_on.api.condition).toBe('service_started');
    expect(merged.services.gateway.environment.NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE).toBe('1');
    expect(read(clone, 'services/api/Dockerfile')).toContain('reaps zombies (so does docker run --init).');
    expect(read(clone, 'services/api/Dockerfile')).toMatch(/LABEL org\.opencontainers\.image\.vendor="acme"\n$/);
    expect(read(clone, 'services/web/Dockerfile')).toContain(
      '<<<<<<< yours\n# Node.js is not built to run as PID 1: tini forwards signals and reaps zombies; we rely on it.\n=======\n# Node.js is not built to run as PID 1: tini forwards signals and reaps zombies (so does docker run --init).\n>>>>>>> create-infra-stack 1.1.0\n',
    );
    expect(JSON.parse(read(clone, '.infra-stack/manifest.json')).version).toBe('1.1.0');
    const check = npx(clone, ['check', '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).files).toEqual([
      { path: 'compose.yaml', state: 'edited by you' },
      { path: 'services/api/Dockerfile', state: 'edited by you' },
      { path: 'services/web/Dockerfile', state: 'conflict pending' },
    ]);

    // The base is what makes this work: without the snapshot, 1.1.0 cannot re-render 1.0.0's files.
    const bare = join(work, 'shop-no-snapshot');
    cpSync(made, bare, { recursive: true, filter: (p) => !p.includes('node_modules') });
    rmSync(join(bare, '.infra-stack/base'));
    npm(bare, ['install', '--no-save', v2]);
    const without = npx(bare, ['update']);
    expect(without.stdout).toMatch(/CONFLICT\s+compose\.yaml\s+\(no record of what the generator last wrote/);

    // The older generator refuses the upgraded repository instead of rewriting it.
    const old = spawnSync(process.execPath, [toolBin('infra-stack'), 'update', '--dir', clone], { encoding: 'utf8' });
    expect(old.status).toBe(2);
    expect(old.stderr).toContain('last written by create-infra-stack 1.1.0, newer than this one (1.0.0)');
  }, 120_000);
});

describe('the commands we print', () => {
  /** `npx infra-stack ...` lines of a text, without their comments, as argument lists. */
  const printed = (text: string) =>
    [...text.matchAll(/^\s*(npx infra-stack [^#\n]*)/gm)].map((m) => m[1].trim().split(/\s+/).slice(2));

  it('the create summary, the generated README and --help: each works as printed, in order, from the installed package', () => {
    const run = spawnSync(process.execPath, [toolBin('create-infra-stack'), 'printed', '--yes', '--no-git', '--no-install'], { cwd: work, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const summary = run.stdout.slice(run.stdout.indexOf('Next steps:'));
    expect(summary).toMatch(/^ {2}npm install\b/m);
    const repo = join(work, 'printed');
    // `npm install` as printed fetches create-infra-stack 1.0.0; here it comes from the tarball.
    npm(repo, ['install', '--no-save', v1]);
    const readme = read(repo, 'README.md');
    const help = spawnSync(process.execPath, [toolBin('infra-stack'), '--help'], { encoding: 'utf8' }).stdout;
    const change = readme.slice(readme.indexOf('## Change it'), readme.indexOf('## Day to day'));
    for (const [source, commands] of [
      ['summary', printed(summary)],
      ['README', printed(change)],
      ['--help', printed(help.slice(help.indexOf('Examples')))],
    ] as const) {
      expect(commands.length, source).toBeGreaterThan(0);
      // Each starts from the repository as create left it.
      const copy = join(work, `printed-${source}`);
      cpSync(repo, copy, { recursive: true });
      for (const args of commands) {
        const r = npx(copy, args);
        expect({ source, args, code: r.code, stderr: r.stderr }).toEqual({ source, args, code: 0, stderr: '' });
      }
    }
  }, 120_000);
});

/** The team's preset package @acme/infra-preset at `version`, packed: the tarball's path. */
function packPreset(version: string, pager: boolean, cpu: string): string {
  const dir = join(work, `acme-preset-${version}`);
  mkdirSync(join(dir, 'templates/base'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/infra-preset', version, files: ['preset.yaml', 'templates'] }));
  writeFileSync(join(dir, 'preset.yaml'), 'gateway: kong\ndomain: api.acme.example\ntemplates: templates\n');
  writeFileSync(join(dir, 'templates/base/platform.yaml'), `owner: platform\npager: ${pager}\n`);
  writeFileSync(join(dir, 'templates/base/limits.yaml'), `cpu: "${cpu}"\n`);
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: dir, encoding: 'utf8' }));
  return join(work, packed.filename);
}

describe('team templates that evolve', () => {
  it('a change in the team template folder merges into the file the person edited, and marks the overlap', () => {
    const team = join(work, 'platform-templates');
    mkdirSync(join(team, 'base'), { recursive: true });
    writeFileSync(join(team, 'base/platform.yaml'), 'owner: platform\nalerts:\n  channel: "#ops"\n  pager: false\n');
    writeFileSync(join(team, 'base/oncall.yaml'), 'rotation: weekly\n');
    const repo = createRepo('billing', ['--templates', team]);
    npm(repo, ['install', '--no-save', v1]);
    writeFileSync(join(repo, 'platform.yaml'), read(repo, 'platform.yaml').replace('owner: platform', 'owner: billing-team # ours'));
    writeFileSync(join(repo, 'oncall.yaml'), 'rotation: daily\n');
    writeFileSync(join(team, 'base/platform.yaml'), 'owner: platform\nalerts:\n  channel: "#ops"\n  pager: true\n');
    writeFileSync(join(team, 'base/oncall.yaml'), 'rotation: biweekly\n');
    const r = npx(repo, ['update', '--templates', team]); // outside the repository: named by the person
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/MERGED\s+platform\.yaml/);
    expect(r.stdout).toMatch(/CONFLICT\s+oncall\.yaml\s+\(your edits overlap the generator's changes \(rotation\)/);
    expect(read(repo, 'platform.yaml')).toBe('owner: billing-team # ours\nalerts:\n  channel: "#ops"\n  pager: true\n');
    expect(read(repo, 'oncall.yaml')).toBe('<<<<<<< yours\nrotation: daily\n=======\nrotation: biweekly\n>>>>>>> create-infra-stack 1.0.0\n');
  }, 60_000);

  it('a preset package: recorded in infra-stack.yaml, pinned in package.json, and bumping it merges', () => {
    const [p1, p2] = [packPreset('1.0.0', false, '1'), packPreset('1.1.0', true, '2')];
    // A platform team's workspace with the preset installed: create finds it there.
    const workspace = join(work, 'workspace');
    mkdirSync(workspace);
    npm(workspace, ['install', '--no-save', p1]);
    const repo = createRepo('orders', ['--preset', '@acme/infra-preset'], workspace);
    expect(parse(read(repo, 'infra-stack.yaml'))).toMatchObject({ gateway: 'kong', domain: 'api.acme.example', preset: '@acme/infra-preset' });
    expect(JSON.parse(read(repo, 'package.json')).devDependencies).toEqual({ '@acme/infra-preset': '1.0.0', 'create-infra-stack': '1.0.0' });
    expect(read(repo, 'platform.yaml')).toBe('owner: platform\npager: false\n');

    // The repository on its own (moved out of the workspace): its node_modules hold both packages.
    const moved = join(work, 'orders');
    cpSync(repo, moved, { recursive: true });
    npm(moved, ['install', '--no-save', v1, p1]);
    writeFileSync(join(moved, 'platform.yaml'), 'owner: orders-team\npager: false\n');
    writeFileSync(join(moved, 'limits.yaml'), 'cpu: "4"\n');
    expect(npx(moved, ['check']).code).toBe(0);

    pin(moved, '@acme/infra-preset', '1.1.0');
    npm(moved, ['install', '--no-save', v1, p2]);
    const r = npx(moved, ['update']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/MERGED\s+platform\.yaml/);
    expect(read(moved, 'platform.yaml')).toBe('owner: orders-team\npager: true\n');
    expect(read(moved, 'limits.yaml')).toBe('<<<<<<< yours\ncpu: "4"\n=======\ncpu: "2"\n>>>>>>> create-infra-stack 1.0.0\n');
    expect(npx(moved, ['check']).code).toBe(1);
    writeFileSync(join(moved, 'limits.yaml'), 'cpu: "4"\n');
    expect(npx(moved, ['check']).code).toBe(0);

    // Without the package installed: one line telling what to run, exit 2.
    rmSync(join(moved, 'node_modules/@acme'), { recursive: true });
    const missing = npx(moved, ['update']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('The preset package @acme/infra-preset is not installed: run `npm install -D @acme/infra-preset`');
    expect(existsSync(join(moved, 'platform.yaml'))).toBe(true);
  }, 120_000);

  it('npm create in an empty folder fetches the preset package from the registry for the run, and leaves nothing behind', async () => {
    const tarball = packPreset('1.2.0', false, '1');
    const bytes = readFileSync(tarball);
    const requests: string[] = [];
    // A registry with one package, as npm asks it: the packument, then the tarball.
    const registry = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url?.endsWith('.tgz')) return res.end(bytes);
      const { port } = registry.address() as AddressInfo;
      const dist = {
        tarball: `http://127.0.0.1:${port}/acme-infra-preset-1.2.0.tgz`,
        shasum: createHash('sha1').update(bytes).digest('hex'),
        integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: '@acme/infra-preset', 'dist-tags': { latest: '1.2.0' }, versions: { '1.2.0': { name: '@acme/infra-preset', version: '1.2.0', dist } } }));
    });
    await new Promise<void>((done) => registry.listen(0, '127.0.0.1', done));
    try {
      const { port } = registry.address() as AddressInfo;
      const place = join(work, 'empty-place');
      mkdirSync(place);
      const leftovers = () => readdirSync(tmpdir()).filter((name) => name.startsWith('infra-stack-preset-'));
      const before = leftovers();
      const env = { ...process.env, npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: join(work, 'npm-cache') };
      const r = await run(process.execPath, [toolBin('create-infra-stack'), 'payments', '--preset', '@acme/infra-preset', '--yes', '--no-git', '--no-install'], { cwd: place, env, timeoutMs: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const repo = join(place, 'payments');
      expect(parse(read(repo, 'infra-stack.yaml'))).toMatchObject({ gateway: 'kong', preset: '@acme/infra-preset' });
      expect(JSON.parse(read(repo, 'package.json')).devDependencies['@acme/infra-preset']).toBe('1.2.0');
      expect(read(repo, 'platform.yaml')).toBe('owner: platform\npager: false\n');
      expect(requests.some((url) => url.endsWith('.tgz'))).toBe(true);
      expect(existsSync(join(place, 'node_modules'))).toBe(false);
      expect(leftovers().filter((name) => !before.includes(name))).toEqual([]);
    } finally {
      registry.close();
    }
  }, 120_000);
});
