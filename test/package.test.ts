// What `npm create infra-stack` downloads and runs: the packed tarball holds every template (npm
// silently drops some names, such as .gitignore), one bundled file per bin and the lazily loaded
// libraries, no install scripts and no dependencies; installed from the tarball without the
// network, both bins run, and `npm create` passes our flags through. Runs the built dist/
// (`npm test` builds first; for a direct `npx vitest run`, `npm run build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers/stack.js';

const MiB = 1024 * 1024;
let work: string;
let tarball: string;
let packed: { size: number; unpackedSize: number; files: { path: string }[] };

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
}

/** npm with its own empty cache and no network: the tarball must be enough. */
function npm([command, ...args]: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync('npm', [command, '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, CI: 'true' },
  });
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'create-infra-stack.cjs'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it)');
  work = mkdtempSync(join(tmpdir(), 'infra-stack-package-'));
  // A run leaves a code cache in dist/: the tarball must not take it.
  execFileSync(process.execPath, [join(ROOT, 'dist', 'create-infra-stack.cjs'), '--version']);
  // --ignore-scripts: dist/ is built already; `npm pack` alone runs prepack, which builds it.
  [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }));
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  const files = () => new Set(packed.files.map((f) => f.path));

  it('contains every template file', () => {
    const templates = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'templates'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(templates.length).toBeGreaterThan(20);
    expect(templates.filter((t) => !files().has(t))).toEqual([]);
  });

  it('holds a launcher and one bundle per bin, the lazily loaded libraries and the precompiled templates', () => {
    for (const path of ['dist/create-infra-stack.cjs', 'dist/create-infra-stack.bundle.cjs', 'dist/infra-stack.cjs', 'dist/infra-stack.bundle.cjs', 'dist/templates.precompiled.cjs', 'dist/lazy/prompts.js', 'dist/lazy/prettier.js', 'dist/lazy/node-plop.js', 'dist/lazy/yaml.cjs', 'dist/THIRD-PARTY-LICENSES.md', 'package.json', 'README.md']) {
      expect(files().has(path), path).toBe(true);
    }
    // A code cache is this machine's (a run in dist/ made one before packing): none ships.
    expect(existsSync(join(ROOT, 'dist', 'create-infra-stack.bundle.cjs.v8-cache'))).toBe(true);
    expect([...files()].filter((path) => path.endsWith('.v8-cache'))).toEqual([]);
    // The licenses of what was bundled ship with it.
    const licenses = readFileSync(join(ROOT, 'dist', 'THIRD-PARTY-LICENSES.md'), 'utf8');
    for (const pkg of ['yaml', 'handlebars', 'prettier', 'node-plop', 'execa', '@inquirer/core']) expect(licenses, pkg).toContain(`## ${pkg} `);
    const imports = (file: string) =>
      [...readFileSync(join(ROOT, 'dist', file), 'utf8').matchAll(/\b(?:__import|import|require)\s*\(\s*["']([^"']+)["']\s*\)|\bfrom\s*["']([^"']+)["']/g)]
        .map((m) => m[1] ?? m[2])
        .filter((spec) => /^[@\w./:-]+$/.test(spec) && !isBuiltin(spec));
    for (const bin of ['create-infra-stack', 'infra-stack']) {
      // A library imported statically by mistake would be inlined: the bundles stay small.
      expect(statSync(join(ROOT, 'dist', `${bin}.bundle.cjs`)).size, bin).toBeLessThan(300 * 1024);
      // A bundle imports only Node's built-ins and, on demand, dist/lazy/; its launcher only built-ins.
      expect(imports(`${bin}.bundle.cjs`).filter((spec) => !spec.startsWith('./lazy/')), bin).toEqual([]);
      expect(imports(`${bin}.bundle.cjs`).length, bin).toBeGreaterThan(3);
      expect(imports(`${bin}.cjs`), bin).toEqual([]);
      expect(readFileSync(join(ROOT, 'dist', `${bin}.cjs`), 'utf8')).toContain(`./${bin}.bundle.cjs`);
    }
  });

  it('ships no tests, sources, scripts or shared material', () => {
    expect([...files()].filter((f) => /^(test|src|scripts|generators|\.ci|\.bench)\//.test(f) || f.includes('shared/'))).toEqual([]);
  });

  it('declares no dependencies and no install or prepare scripts', () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
    expect(manifest.bin).toEqual({ 'create-infra-stack': 'dist/create-infra-stack.cjs', 'infra-stack': 'dist/infra-stack.cjs' });
  });

  it('stays small: under 1.5 MiB packed, 5 MiB unpacked', () => {
    expect(packed.size).toBeLessThan(1.5 * MiB);
    expect(packed.unpackedSize).toBeLessThan(5 * MiB);
  });
});

describe('installed from the tarball, without the network', () => {
  let host: string;

  beforeAll(() => {
    host = join(work, 'host');
    mkdirSync(host);
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', version: '1.0.0', private: true }));
    const install = npm(['install', tarball], host);
    expect(install.status, install.stderr).toBe(0);
  });

  it('installs one package in under 5 MiB', () => {
    const modules = join(host, 'node_modules');
    const packages = readdirSync(modules).filter((n) => !n.startsWith('.'));
    expect(packages).toEqual(['create-infra-stack']);
    const bytes = walk(modules).reduce((sum, path) => sum + statSync(path).size, 0);
    expect(bytes).toBeLessThan(5 * MiB);
  });

  it('runs both bins: create a stack, then update it with nothing to change', () => {
    const bin = (name: string) => join(host, 'node_modules', '.bin', name);
    const created = spawnSync(bin('create-infra-stack'), ['shop', '--yes', '--no-git', '--no-install'], { cwd: host, encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    expect(existsSync(join(host, 'shop', 'compose.yaml'))).toBe(true);
    expect(existsSync(join(host, 'shop', 'certs', 'live', 'shop.localhost', 'fullchain.pem'))).toBe(true);
    const update = spawnSync(bin('infra-stack'), ['update', '--dir', 'shop'], { cwd: host, encoding: 'utf8' });
    expect(update.status, update.stderr).toBe(0);
    expect(update.stdout).toContain('Nothing to change');
  });

  it('loads yaml only when a run reads YAML: not for a plain create, but for update of an edited infra-stack.yaml', () => {
    const dist = join(host, 'node_modules', 'create-infra-stack', 'dist');
    const preload = join(work, 'report-loaded.cjs');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write('\\nloaded: ' + Object.keys(require.cache).join(' ') + '\\n'));");
    const run = (bin: string, args: string[]) => spawnSync(process.execPath, ['--require', preload, join(dist, bin), ...args], { cwd: host, encoding: 'utf8' });
    const loadedYaml = (stderr: string) => stderr.split('\nloaded: ')[1].trim().split(' ').includes(join(dist, 'lazy', 'yaml.cjs'));

    const created = run('create-infra-stack.cjs', ['plain', '--yes', '--no-git', '--no-install']);
    expect(created.status, created.stderr).toBe(0);
    expect(loadedYaml(created.stderr)).toBe(false);
    const file = join(host, 'plain', 'infra-stack.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('gateway: nginx', 'gateway: kong # edited'));
    const updated = run('infra-stack.cjs', ['update', '--dir', 'plain']);
    expect(updated.status, updated.stderr).toBe(0);
    expect(loadedYaml(updated.stderr)).toBe(true);
    expect(existsSync(join(host, 'plain', 'kong', 'kong.yml'))).toBe(true);
  });

  it('a plain create loads no more of Node than it uses: node:v8 only for a large stack, node:child_process only for a team\'s dev-certs.sh, node:tty and node:net only for a terminal', () => {
    const dist = join(host, 'node_modules', 'create-infra-stack', 'dist');
    const preload = join(work, 'report-builtins.cjs');
    // Written with fs.writeSync: process.stderr on a pipe would load node:net itself.
    writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(2, '\\nbuilt-ins: ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join(' ') + '\\n'));");
    const builtins = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--require', preload, join(dist, 'create-infra-stack.cjs'), ...args, '--yes', '--no-git', '--no-install'], { cwd: host, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('Next steps:'); // written to the pipe all the same
      return r.stderr.split('\nbuilt-ins: ')[1].trim().split(' ');
    };
    const plain = builtins(['small']);
    expect(plain).not.toContain('v8');
    expect(plain).not.toContain('child_process');
    // stdout is a pipe here: written directly, not through a net.Socket.
    expect(plain).not.toContain('tty');
    expect(plain).not.toContain('net');
    const services = Array.from({ length: 25 }, (_, i) => `svc${i}`).join(',');
    expect(builtins(['large', '--services', services])).toContain('v8');
  });

  it('keeps a code cache beside each compiled file: made by the first run, used by the next, remade when it does not fit', () => {
    const copy = join(work, 'cached');
    cpSync(join(host, 'node_modules', 'create-infra-stack'), copy, { recursive: true });
    const caches = ['create-infra-stack.bundle.cjs', 'templates.precompiled.cjs'].map((file) => join(copy, 'dist', `${file}.v8-cache`));
    // The same stack each time: a folder named app, in a new parent.
    const create = (parent: string) => {
      const app = join(work, parent, 'app');
      const r = spawnSync(process.execPath, [join(copy, 'dist', 'create-infra-stack.cjs'), app, '--yes', '--no-git', '--no-install'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      return readFileSync(join(app, 'compose.yaml'), 'utf8');
    };
    // As installed: runs of the package above made caches in it.
    for (const path of caches) rmSync(path, { force: true });
    const first = create('first');
    const stamps = ['create-infra-stack.bundle.cjs', 'templates.precompiled.cjs'].map(
      (file) => `${readFileSync(join(copy, 'dist', file), 'utf8').split('\n')[0]} ${process.version} ${process.arch} crc32=`,
    );
    const made = caches.map((path) => readFileSync(path));
    // Each starts with its file's first line, which names the build, the Node version and its own CRC-32.
    made.forEach((bytes, i) => expect(bytes.subarray(0, stamps[i].length).toString('latin1')).toBe(stamps[i]));
    made.forEach((bytes) => {
      const payload = bytes.subarray(bytes.indexOf(0x0a) + 1);
      expect(bytes.subarray(0, bytes.indexOf(0x0a)).toString('latin1')).toMatch(new RegExp(` crc32=${crc32(payload).toString(16)}$`));
    });
    // Used: the next run writes none.
    expect(create('second')).toBe(first);
    caches.forEach((path, i) => expect(readFileSync(path).equals(made[i]), path).toBe(true));
    // One V8 refuses (damaged), one for another build: both compiled as without, then remade, and used.
    const damaged = [Buffer.concat([Buffer.from(stamps[0]), Buffer.alloc(4096, 7)]), Buffer.from(made[1].toString('latin1').replace('Build ', 'Build 0'), 'latin1')];
    caches.forEach((path, i) => writeFileSync(path, damaged[i]));
    expect(create('third')).toBe(first);
    const remade = caches.map((path) => readFileSync(path));
    remade.forEach((bytes, i) => {
      expect(bytes.equals(damaged[i])).toBe(false);
      expect(bytes.subarray(0, stamps[i].length).toString('latin1')).toBe(stamps[i]);
    });
    expect(create('fourth')).toBe(first);
    caches.forEach((path, i) => expect(readFileSync(path).equals(remade[i]), path).toBe(true));
    // A flipped byte inside a cache V8 would take (it checks only the header and the length): refused by the CRC, remade.
    const flipped = Buffer.from(remade[0]);
    flipped[flipped.length - 100] ^= 0xff;
    writeFileSync(caches[0], flipped);
    expect(create('fifth')).toBe(first);
    expect(readFileSync(caches[0]).equals(flipped)).toBe(false);
    expect(create('sixth')).toBe(first);
    expect(readdirSync(join(copy, 'dist')).filter((name) => /\.v8-cache\./.test(name))).toEqual([]);

    // A large stack changes V8's flags (its young generation), and V8 keys a cache to them: such a
    // run writes none (the next plain run would refuse it), and takes the one a plain run made.
    const large = (parent: string) => {
      const services = Array.from({ length: 25 }, (_, i) => `svc${i}`).join(',');
      const r = spawnSync(process.execPath, [join(copy, 'dist', 'create-infra-stack.cjs'), join(work, parent, 'app'), '--yes', '--no-git', '--no-install', '--services', services], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    for (const path of caches) rmSync(path);
    large('large-first');
    caches.forEach((path) => expect(existsSync(path), path).toBe(false));
    expect(create('seventh')).toBe(first);
    const plain = caches.map((path) => readFileSync(path));
    large('large-second');
    expect(create('eighth')).toBe(first);
    caches.forEach((path, i) => expect(readFileSync(path).equals(plain[i]), path).toBe(true));
  });

  it('a bundled run takes the built-in templates from dist/, without reading templates/ or the precompiled ones\' texts', () => {
    const copy = join(work, 'without-templates');
    cpSync(join(host, 'node_modules', 'create-infra-stack'), copy, { recursive: true });
    rmSync(join(copy, 'templates'), { recursive: true });
    // A run renders the precompiled specs: their texts (dist/templates.text.cjs, there for anything that reads them) are not loaded.
    const { texts } = createRequire(import.meta.url)(join(copy, 'dist', 'templates.text.cjs')) as { texts: Record<string, string> };
    for (const [id, text] of Object.entries(texts)) expect(text, id).toBe(readFileSync(join(ROOT, 'templates', id), 'utf8'));
    expect(Object.keys(texts).length).toBeGreaterThan(40);
    rmSync(join(copy, 'dist', 'templates.text.cjs'));
    const create = (bin: string, cwd: string) => spawnSync(process.execPath, [bin, 'same', '--yes', '--no-git', '--no-install'], { cwd, encoding: 'utf8' });
    const [a, b] = [join(work, 'with'), join(work, 'without')];
    for (const dir of [a, b]) mkdirSync(dir);
    for (const [r, dir] of [[create(join(host, 'node_modules', '.bin', 'create-infra-stack'), a), a], [create(join(copy, 'dist', 'create-infra-stack.cjs'), b), b]] as const) {
      expect(r.status, r.stderr).toBe(0);
      expect(walk(join(dir, 'same')).length).toBeGreaterThan(40);
    }
    for (const file of ['compose.yaml', 'nginx/nginx.conf', 'README.md', 'services/api/Dockerfile']) {
      expect(readFileSync(join(b, 'same', file), 'utf8'), file).toBe(readFileSync(join(a, 'same', file), 'utf8'));
    }
  });

  it('`npm create infra-stack my-app --gateway kong --yes`: flags npm took for itself still reach us', () => {
    const r = npm(['create', 'infra-stack', 'my-app', '--gateway', 'kong', '--queue', 'sqs', '--yes', '--no-git', '--no-install'], host);
    expect(r.status, r.stderr).toBe(0);
    const answers = parse(readFileSync(join(host, 'my-app', 'infra-stack.yaml'), 'utf8'));
    expect(answers).toMatchObject({ name: 'my-app', gateway: 'kong', queue: 'sqs' });
    expect(existsSync(join(host, 'my-app', '.git'))).toBe(false); // --no-git reached us as npm_config_git=false
  });

  it('a free-text flag before `--` cannot be told from the directory: refused, with the `--` form to run', () => {
    const r = npm(['create', 'infra-stack', 'other', '--services', 'api:api', '--yes', '--no-git', '--no-install'], host);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('error: npm took --services for itself');
    expect(r.stderr).toContain('npm create infra-stack -- <dir> --services <value>');
    expect(existsSync(join(host, 'other'))).toBe(false);

    const dashed = npm(['create', 'infra-stack', '--', 'other', '--services', 'api:api', '--yes', '--no-git', '--no-install'], host);
    expect(dashed.status, dashed.stderr).toBe(0);
    expect(parse(readFileSync(join(host, 'other', 'infra-stack.yaml'), 'utf8')).services).toEqual([{ name: 'api', kind: 'api', port: 3000, path: '/api' }]);
  });
});
