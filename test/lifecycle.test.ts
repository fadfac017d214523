// The commands people reach for over a repository's life, through the real bin: remove service,
// check, diff, status; found from any subfolder; dry runs that exit as the real run; a repository
// from a newer generator refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashContent } from '../src/engine/manifest.js';
import { readSnapshot, snapshotText } from '../src/engine/snapshot.js';
import { VERSION } from '../src/version.js';
import { spawnPty } from './helpers/pty.js';
import { CREATE_BIN, INFRA_STACK_BIN, readTree, runCli } from './helpers/stack.js';
import { dockerComposeConfig, parseDotenv } from './helpers/validators.js';

let dir: string;
const read = (path: string) => readFileSync(join(dir, path), 'utf8');
const write = (path: string, text: string) => writeFileSync(join(dir, path), text);
const cli = (args: string[], cwd = dir) => runCli(INFRA_STACK_BIN, args, cwd);

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'infra-stack-life-')), 'shop');
  const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--services', 'api:api,web:web,worker:worker,ledger:api']);
  expect(r.code).toBe(0);
});

describe('remove service', () => {
  it('takes the service out of infra-stack.yaml (comments kept) and every file; deletes its untouched files and empty folders; keeps and lists the edited ones', () => {
    write('infra-stack.yaml', read('infra-stack.yaml').replace('services:\n', '# Our services, in order of birth.\nservices:\n'));
    write('services/ledger/Dockerfile', read('services/ledger/Dockerfile') + '# ours\n');
    const r = cli(['remove', 'service', 'ledger']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KEPT\s+services\/ledger\/Dockerfile/);
    expect(r.stdout).toContain('Kept because you edited them (delete them yourself if ledger is gone for good): services/ledger/Dockerfile');
    const answers = read('infra-stack.yaml');
    expect(answers).toContain('# Our services, in order of birth.\nservices:\n');
    expect(parse(answers).services.map((s: { name: string }) => s.name)).toEqual(['api', 'web', 'worker']);
    expect(parse(read('compose.yaml')).services.ledger).toBeUndefined();
    expect(read('nginx/conf.d/shop.localhost.conf')).not.toContain('ledger');
    // Only the edited Dockerfile is left of the service: src/ and the rest are gone.
    expect([...readTree(join(dir, 'services/ledger')).keys()]).toEqual(['Dockerfile']);
    expect(existsSync(join(dir, 'services/ledger/src'))).toBe(false);
    expect(cli(['check']).code).toBe(0);

    const unknown = cli(['remove', 'service', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Invalid service name: "nope". Allowed: a service in infra-stack.yaml (it has api, web, worker)');
  });

  it('an untouched service leaves nothing behind, not even its folder', () => {
    expect(cli(['remove', 'service', 'worker']).code).toBe(0);
    expect(existsSync(join(dir, 'services/worker'))).toBe(false);
  });
});

describe('check', () => {
  it('passes on a fresh repository (its local .env aside), and fails listing each drifted file with its state', () => {
    expect(cli(['check']).stdout).toContain('Up to date with infra-stack.yaml');
    // A clone has no .env (git-ignored): not drift.
    writeFileSync(join(dir, '.env'), '');
    const clean = cli(['check']);
    expect(clean.code).toBe(0);

    write('services/api/Dockerfile', read('services/api/Dockerfile') + '# ours\n'); // edited by you
    write('infra-stack.yaml', read('infra-stack.yaml').replace('port: 3002', 'port: 3012')); // generator has changes
    write('compose.override.yaml', read('compose.override.yaml').replace('"127.0.0.1:9229:9229"', '"127.0.0.1:9339:9229"')); // both, merges
    const missing = 'scripts/health-check.sh';
    rmSync(join(dir, missing));
    const before = readTree(dir);
    const r = cli(['check', '--json']);
    expect(r.code).toBe(1);
    const files = JSON.parse(r.stdout).files as { path: string; state: string }[];
    expect(files).toContainEqual({ path: 'services/api/Dockerfile', state: 'edited by you' });
    expect(files).toContainEqual({ path: 'compose.yaml', state: 'generator has changes' });
    expect(files).toContainEqual({ path: 'compose.override.yaml', state: 'both' });
    expect(files).toContainEqual({ path: missing, state: 'missing' });
    expect(files.some((f) => f.path === '.env')).toBe(false);
    expect(readTree(dir)).toEqual(before); // check writes nothing

    const text = cli(['check']);
    expect(text.stdout).toMatch(/^ {2}missing +scripts\/health-check\.sh$/m);
    expect(text.stdout).toContain('`npx infra-stack diff` shows how, `npx infra-stack update` applies it.');
    expect(cli(['update']).code).toBe(0);
    expect(cli(['check']).code).toBe(0);
  });
});

describe('diff', () => {
  it('prints the unified diff update would write, and writes nothing', () => {
    write('infra-stack.yaml', read('infra-stack.yaml').replace('port: 3002', 'port: 3012'));
    const before = readTree(dir);
    const r = cli(['diff']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--- a/compose.yaml\n+++ b/compose.yaml\n');
    expect(r.stdout).toMatch(/^-\s+PORT: "3002"\n\+\s+PORT: "3012"$/m);
    expect(r.stdout).not.toContain('.infra-stack/');
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour without a terminal
    expect(readTree(dir)).toEqual(before);
    // Applying it gives exactly the + side.
    expect(cli(['update']).code).toBe(0);
    expect(read('compose.yaml')).toContain('      PORT: "3012"\n');
    expect(cli(['diff']).stdout).toBe('');
  });

  it('is coloured on a terminal: removed lines red, added green, hunk headers cyan', async () => {
    write('infra-stack.yaml', read('infra-stack.yaml').replace('port: 3002', 'port: 3012'));
    const env = { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, CI: undefined, TERM: 'xterm-256color' };
    const pty = spawnPty(process.execPath, [INFRA_STACK_BIN, 'diff'], { cwd: dir, env });
    expect((await pty.exit).code).toBe(0);
    const raw = pty.rawOutput();
    expect(raw).toContain('\x1b[31m-      PORT: "3002"\x1b[39m');
    expect(raw).toContain('\x1b[32m+      PORT: "3012"\x1b[39m');
    expect(raw).toMatch(/\x1b\[36m@@ -\d+,\d+ \+\d+,\d+ @@\x1b\[39m/);
  });
});

describe('status', () => {
  it('shows services with kind, port, route and uses; the stack settings; the generator version', () => {
    write('infra-stack.yaml', read('infra-stack.yaml').replace('  - name: worker\n    kind: worker\n    port: 3002\n', '  - name: worker\n    kind: worker\n    port: 3002\n    uses: [queue]\n'));
    const r = cli(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`shop: written by create-infra-stack ${VERSION}\n`);
    expect(r.stdout).toContain('gateway nginx · queue rabbitmq · search meilisearch');
    expect(r.stdout).toContain('target compose');
    expect(r.stdout).toMatch(/^ {2}api +api +3000 +\/api +database,cache,queue,search$/m);
    expect(r.stdout).toMatch(/^ {2}worker +worker +3002 +- +queue$/m);
    const json = JSON.parse(cli(['status', '--json']).stdout);
    expect(json.services.find((s: { name: string }) => s.name === 'ledger')).toEqual({ name: 'ledger', kind: 'api', port: 3003, route: '/ledger', uses: ['database', 'cache', 'queue', 'search'] });
    expect(json.generator).toEqual({ wrote: VERSION, running: VERSION });
  });

  it('status and diff end quietly (exit 0) when their reader stops early (`| head`)', async () => {
    write('Makefile', read('Makefile').replaceAll('\n', '\n# mine\n'));
    for (const command of ['status', 'diff']) {
      const child = spawn(process.execPath, [INFRA_STACK_BIN, command], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first line
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise((done) => child.on('close', done));
      expect({ command, code, stderr }).toEqual({ command, code: 0, stderr: '' });
    }
  });
});

describe('the case that used to leave a stack silently broken', () => {
  it('a changed condition in the gateway depends_on, then add service: compose.yaml MERGED, every file agrees, compose accepts it', async () => {
    rmSync(dir, { recursive: true });
    expect(runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install']).code).toBe(0);
    const compose = read('compose.yaml');
    const edited = compose.replace(/(\n {2}gateway:[\s\S]*?\n {6}api:\n {8}condition: )service_healthy/, '$1service_started');
    expect(edited).not.toBe(compose);
    write('compose.yaml', edited);
    const r = cli(['add', 'service', 'ledger']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MERGED\s+compose\.yaml/);
    const merged = parse(read('compose.yaml'), { merge: true });
    expect(merged.services.gateway.depends_on).toMatchObject({ api: { condition: 'service_started' }, ledger: { condition: 'service_healthy' } });
    expect(merged.services.ledger.environment.PORT).toBe('3003');
    expect(read('nginx/conf.d/shop.localhost.conf')).toContain('server ledger:3003;');
    expect(parse(read('compose.override.yaml')).services.ledger).toBeDefined();
    const config = await dockerComposeConfig(dir, ['compose.yaml', 'compose.override.yaml']);
    expect(config.ok, config.stderr).toBe(true);
    expect(cli(['check']).code).toBe(0);
  });
});

describe('what the repository keeps', () => {
  it('the snapshot holds exactly what the manifest records, byte for byte, and never a secret', () => {
    const manifest = JSON.parse(read('.infra-stack/manifest.json')).files as Record<string, string>;
    const snapshot = readSnapshot(read('.infra-stack/base'), manifest);
    expect([...snapshot.keys()].sort()).toEqual(Object.keys(manifest).sort());
    for (const [path, content] of snapshot) expect(content, path).toBe(read(path));
    const text = read('.infra-stack/base');
    expect(snapshot.has('.env')).toBe(false);
    // The secrets: what .env.example leaves blank.
    const blank = [...parseDotenv(read('.env.example'))].filter(([, v]) => v === '').map(([k]) => k);
    const secrets = [...parseDotenv(read('.env'))].filter(([k]) => blank.includes(k));
    expect(secrets.length).toBeGreaterThan(3);
    for (const [key, value] of secrets) expect(JSON.stringify([...snapshot.values()]).includes(value), key).toBe(false);
    expect(text).toMatch(/^# What create-infra-stack last wrote/);
    expect(read('.gitattributes')).toMatch(/^\.infra-stack\/base binary linguist-generated$/m);
  });

  it('without a readable snapshot (a repository from before it, a bad git merge), the answers re-rendered are the base, and the snapshot is written again', () => {
    const damages: [string, () => void][] = [
      ['alpha', () => rmSync(join(dir, '.infra-stack/base'))],
      ['beta', () => write('.infra-stack/base', '# x\nnot base64 at all\n')],
    ];
    for (const [service, damage] of damages) {
      damage();
      write('compose.yaml', read('compose.yaml').replace('      SERVICE_KIND: "api"\n', '      SERVICE_KIND: "api"\n      OURS: "1"\n'));
      const r = cli(['add', 'service', service]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/MERGED\s+compose\.yaml/);
      const manifest = JSON.parse(read('.infra-stack/manifest.json')).files;
      expect(readSnapshot(read('.infra-stack/base'), manifest).size).toBe(Object.keys(manifest).length);
      write('compose.yaml', read('compose.yaml').replace('      OURS: "1"\n', ''));
    }
  });

  it('a snapshot entry that is not what the manifest recorded is never used as a base', () => {
    const manifest = JSON.parse(read('.infra-stack/manifest.json')).files as Record<string, string>;
    const contents = readSnapshot(read('.infra-stack/base'), manifest);
    const tree = new Map([...contents].map(([path, content]) => [path, { content: path === 'compose.yaml' ? content + '# planted\n' : content, source: '', ownership: 'generated' as const }]));
    const forged = snapshotText(Object.fromEntries([...tree].map(([path, f]) => [path, hashContent(f.content)])), tree, () => new Map());
    const read2 = readSnapshot(forged, manifest);
    expect(read2.has('compose.yaml')).toBe(false);
    expect(read2.size).toBe(contents.size - 1);
  });

  it('the snapshot stores a content shared by several files once, and still reads the first layout (path -> content)', () => {
    const manifest = JSON.parse(read('.infra-stack/manifest.json')).files as Record<string, string>;
    const decode = (text: string) => JSON.parse(brotliDecompressSync(Buffer.from(text.replace(/^#.*\n/gm, '').replaceAll('\n', ''), 'base64')).toString('utf8'));
    const stored = decode(read('.infra-stack/base')) as { files: Record<string, number>; contents: string[] };
    expect(Object.keys(stored.files).sort()).toEqual(Object.keys(manifest).sort());
    const distinct = new Set(Object.values(manifest));
    expect(distinct.size).toBeLessThan(Object.keys(manifest).length); // the services share files
    expect(stored.contents).toHaveLength(distinct.size);
    // The first layout, as a repository written before the change holds it.
    const contents = readSnapshot(read('.infra-stack/base'), manifest);
    const first = `# x\n${brotliCompressSync(JSON.stringify(Object.fromEntries(contents))).toString('base64')}\n`;
    expect(readSnapshot(first, manifest)).toEqual(contents);
  });

  it('a proposal beside a file it never wrote is not overwritten while it is there', () => {
    const forced = join(mkdtempSync(join(tmpdir(), 'infra-stack-force-')), 'app');
    mkdirSync(forced);
    writeFileSync(join(forced, 'compose.yaml'), 'services: {}\n');
    writeFileSync(join(forced, '.npmrc'), '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n');
    const created = runCli(CREATE_BIN, [forced, '--yes', '--force', '--no-git', '--no-install']);
    expect(created.code).toBe(1);
    // An .npmrc of theirs may hold a token: never written into, nothing set beside it.
    expect(created.stdout).toMatch(/KEPT\s+\.npmrc\s+\(yours \(it may hold credentials\): left as it is\)/);
    expect(readFileSync(join(forced, '.npmrc'), 'utf8')).toBe('//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n');
    expect(existsSync(join(forced, '.npmrc.infra-stack-new'))).toBe(false);
    const proposal = join(forced, 'compose.yaml.infra-stack-new');
    // The proposal marks where their file and the generator's differ.
    expect(readFileSync(proposal, 'utf8')).toMatch(/^<<<<<<< yours\nservices: \{\}\n=======\n[\s\S]*\n>>>>>>> create-infra-stack \S+\n$/);
    writeFileSync(proposal, readFileSync(proposal, 'utf8') + '# half merged by hand\n');
    const mine = readFileSync(proposal, 'utf8');
    const r = cli(['update'], forced);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('compose.yaml.infra-stack-new is already there: finish it, then delete it');
    expect(readFileSync(proposal, 'utf8')).toBe(mine);
    const check = cli(['check'], forced);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('A new version waits beside compose.yaml (*.infra-stack-new): merge what you want, then delete it.');
  });
});

describe('every command', () => {
  it('finds infra-stack.yaml from any subfolder', () => {
    const sub = join(dir, 'services/api/src');
    expect(cli(['status'], sub).stdout).toContain('shop: written by');
    expect(cli(['check'], sub).code).toBe(0);
    const added = cli(['add', 'service', 'mailer', '--kind', 'worker'], sub);
    expect(added.code).toBe(0);
    expect(existsSync(join(dir, 'services/mailer/Dockerfile'))).toBe(true);
    expect(existsSync(join(sub, 'services'))).toBe(false);
    const outside = mkdtempSync(join(tmpdir(), 'infra-stack-nowhere-'));
    const none = cli(['status'], outside);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`No infra-stack.yaml in ${outside} or any folder above it`);
  });

  it('--dry-run exits with the code the real run would, speaks in the conditional, and writes nothing', () => {
    write('compose.yaml', read('compose.yaml').replace('      PORT: "3000"\n', '      PORT: "3005"\n'));
    write('infra-stack.yaml', read('infra-stack.yaml').replace('port: 3000', 'port: 3050'));
    const before = readTree(dir);
    const dry = cli(['update', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('Would apply:');
    expect(dry.stdout).toContain('compose.yaml would hold git-style markers');
    expect(dry.stdout).not.toMatch(/written (to|into)|\bApplied\b/);
    expect(dry.stdout).toContain('(dry run: nothing written)');
    expect(readTree(dir)).toEqual(before);
    const real = cli(['update']);
    expect(real.code).toBe(1);
    expect(real.stdout).toContain('compose.yaml holds git-style markers');
  });

  it('refuses a repository written by a newer generator (exit 2, both versions named), changing nothing', () => {
    const manifest = JSON.parse(read('.infra-stack/manifest.json'));
    write('.infra-stack/manifest.json', JSON.stringify({ ...manifest, version: '99.1.0' }, null, 2) + '\n');
    const before = readTree(dir);
    for (const command of [['update'], ['add', 'service', 'x'], ['check'], ['status']]) {
      const r = cli(command);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`last written by create-infra-stack 99.1.0, newer than this one (${VERSION})`);
    }
    expect(readTree(dir)).toEqual(before);
  });

  it('check and diff take no --dry-run, and add-service flags only go with add service', () => {
    expect(cli(['check', '--dry-run']).code).toBe(2);
    const r = cli(['remove', 'service', 'web', '--port', '3000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port goes with `add service`, not `remove service`.');
  });
});
