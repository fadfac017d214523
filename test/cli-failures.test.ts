// Every failure through the real bins: one line, the right exit code (2 bad input, 1 environment),
// no stack trace unless INFRA_STACK_DEBUG=1, and the directory afterwards byte for byte as before.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeFailure } from '../src/cli/failure.js';
import { InputError, InterruptedError, RunError } from '../src/model/errors.js';
import { snapshot } from './helpers/repo-state.js';
import { waitFor } from './helpers/services.js';
import { CREATE_BIN, INFRA_STACK_BIN, ROOT, type CliResult } from './helpers/stack.js';
import { isRoot } from './helpers/tools.js';

// Tests that need another user or a mount skip locally without root; CI runs as root, and there a non-root run fails.
const root = isRoot();

function run(bin: string, args: string[], options: { env?: Record<string, string>; user?: string } = {}): CliResult {
  const env = { ...process.env, NO_COLOR: '1', INFRA_STACK_DEBUG: '', ...options.env };
  const [command, argv] = options.user
    ? ['runuser', ['-u', options.user, '--', process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  const r = spawnSync(command, argv, { cwd: ROOT, encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The failure is one line, starting "error: ", matching `pattern`, with no stack trace. */
function expectOneLine(r: CliResult, code: number, pattern: RegExp | string): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  if (typeof pattern === 'string') expect(lines[0]).toContain(pattern);
  else expect(lines[0]).toMatch(pattern);
  expect(r.code).toBe(code);
}

const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n') + '\n';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'infra-stack-fail-'));
  chmodSync(work, 0o755); // another user's runs must reach it
});

const create = (args: string[], options?: Parameters<typeof run>[2]) =>
  run(CREATE_BIN, [join(work, 'app'), '--yes', '--no-git', '--no-install', ...args], options);

describe('bad input to create: exit 2, one line naming field, value and what is allowed, nothing written', () => {
  const domain253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  it.each([
    [['--services', 'api:api:9229,web'], 'Invalid services.api.port: "9229". Allowed: a port from 1024 to 65535 not used by the Node inspector of service api'],
    [['--services', 'api,web:web:9230'], 'Invalid services.web.port: "9230"'],
    [['--nginx-version', '1.0'], 'Invalid nginxVersion: "1.0". Allowed: an nginx version from 1.13.0'],
    [['--registry', 'localhost:99999'], 'Invalid registry: "localhost:99999". Allowed: a registry host, an optional port from 1 to 65535'],
    [['--domain', domain253], 'Allowed: a hostname such as example.com or app.localhost (lowercase, no scheme, port or IP address, at most 200 characters)'],
    [['--domain', '127.0.0.1'], 'Invalid domain: "127.0.0.1"'],
    [['--services', 'api,healthz:api'], 'Invalid services.healthz.path: "/healthz"'],
    [['--target', 'k8s', '--services', 'api,stack:web'], 'Invalid services.stack.name: "stack"'],
  ])('%j', (args, message) => {
    const before = snapshot(work);
    const r = create(args);
    expectOneLine(r, 2, message);
    expect(r.stdout).toBe('');
    expect(snapshot(work)).toEqual(before);
  });

  it('an unknown flag', () => {
    const before = snapshot(work);
    expectOneLine(create(['--colour', 'blue']), 2, "error: Unknown option '--colour'. Run `create-infra-stack --help` for the flags it takes.");
    expect(snapshot(work)).toEqual(before);
  });

  it('a 63-character name (from the directory) with --target k8s', () => {
    const r = run(CREATE_BIN, [join(work, 'a'.repeat(63)), '--yes', '--no-git', '--no-install', '--target', 'k8s']);
    expectOneLine(r, 2, /Invalid name: "a{57}\.\.\.". Allowed: .*at most 52 characters \(so the k8s namespace <name>-production stays a 63-character DNS label\)/);
    expect(snapshot(work)).toEqual({});
  });

  const preset = (text: string) => {
    writeFileSync(join(work, 'preset.yaml'), text);
    return ['--preset', join(work, 'preset.yaml')];
  };
  it.each([
    ['nginxVersion: 1.20\n', 'Invalid preset', 'nginxVersion: "1.2". Allowed: a quoted version such as "1.20.0"'],
    ['skip: [./compose.prod.yaml]\n', 'skip: "./compose.prod.yaml". Allowed: compose.prod.yaml ('],
    ['skip: [/etc/passwd]\n', 'skip: "/etc/passwd". Allowed: etc/passwd ('],
    ['skip: [../victim]\n', 'skip: "../victim". Allowed: a list of paths relative to the repository'],
    ['skip: [nginx]\n', 'Invalid skip: "nginx". Allowed: a folder written as nginx/ (with the slash).'],
    ['skip: [compose.prod.yml]\n', 'Invalid skip: "compose.prod.yml". Allowed: a file or folder/ the generator writes: .editorconfig,'],
    ['services: [{name: api, path: /..}]\n', 'services.api.path: "/..". Allowed: a path starting with "/"'],
    ['services: [{name: api, path: /a/../..}]\n', 'services.api.path: "/a/../.."'],
    ['services: [{name: api, path: /./a}]\n', 'services.api.path: "/./a"'],
    ['services: [{name: api, path: //a}]\n', 'services.api.path: "//a"'],
    ['services: [{name: api, path: /%2e%2e}]\n', 'services.api.path: "/%2e%2e"'],
    ['services: [{name: api}, {name: login, kind: web, path: /api/auth}]\n', 'services.login.path: "/api/auth". Allowed: a path other than /api/auth: the auth endpoints of api api'],
  ])('preset %j', (text, ...messages) => {
    const args = preset(text);
    const before = snapshot(work);
    const r = create(args);
    for (const message of messages) expectOneLine(r, 2, message);
    expect(snapshot(work)).toEqual(before);
  });

  it('a preset that is a YAML alias bomb is refused at once', () => {
    const args = preset(ALIAS_BOMB);
    const before = snapshot(work);
    const started = performance.now();
    const r = create(args);
    expect(performance.now() - started).toBeLessThan(5_000);
    expectOneLine(r, 2, /^error: Invalid preset .*preset\.yaml: "aliases that expand too far"\. Allowed: YAML whose aliases/);
    expect(snapshot(work)).toEqual(before);
  });

  it('--preset names a folder', () => {
    mkdirSync(join(work, 'presets'));
    const before = snapshot(work);
    expectOneLine(create(['--preset', join(work, 'presets')]), 2, `--preset ${join(work, 'presets')} is a folder: give the preset's YAML file.`);
    expect(snapshot(work)).toEqual(before);
  });

  it('the target is a file', () => {
    writeFileSync(join(work, 'app'), 'mine\n');
    const before = snapshot(work);
    expectOneLine(create(['--force']), 2, `${join(work, 'app')} exists and is a file, not a folder`);
    expect(snapshot(work)).toEqual(before);
  });

  it('the target is a dangling symbolic link', () => {
    symlinkSync(join(work, 'nowhere'), join(work, 'app'));
    const before = snapshot(work);
    expectOneLine(create([]), 2, `${join(work, 'app')} exists and is a dangling symbolic link, not a folder`);
    expect(snapshot(work)).toEqual(before);
  });
});

describe('errors inside team templates: exit 2 naming the template file and line, nothing written', () => {
  const team = (file: string, text: string) => {
    mkdirSync(join(work, 'team', file, '..'), { recursive: true });
    writeFileSync(join(work, 'team', file), text);
    return ['--templates', join(work, 'team')];
  };
  it.each([
    ['base/NOTES.md.hbs', '# {{name}}\n\n{{#if sample}}\nunclosed\n', 'team template base/NOTES.md.hbs line 5: parse error: Expecting'],
    ['base/NOTES.md.hbs', '# {{name}}\n\n{{owner}}\n', 'team template base/NOTES.md.hbs line 3: "owner" not defined'],
    ['base/extra.yaml.hbs', 'name: {{name}}\nlist: [\n', 'team template base/extra.yaml.hbs: rendered extra.yaml, which does not parse'],
    ['partials/notice.hbs', '{{#each services}}\n{{name}\n', 'team template partials/notice.hbs line 2: parse error: Expecting'],
    ['base/compose.yaml', 'services: {}\n', 'team template base/compose.yaml: renders compose.yaml, which docker/compose.yaml.hbs renders too: put it at that template\'s path to replace it'],
  ])('%s', (file, text, message) => {
    const args = team(file, text);
    const before = snapshot(work);
    expectOneLine(create(args), 2, message);
    expect(snapshot(work)).toEqual(before);
  });
});

describe('bad input to infra-stack: exit 2, the repository byte for byte unchanged', () => {
  let repo: string;
  beforeEach(() => {
    repo = join(work, 'app');
    expect(create([]).code).toBe(0);
  });
  const edit = (change: (text: string) => string) => writeFileSync(join(repo, 'infra-stack.yaml'), change(readFileSync(join(repo, 'infra-stack.yaml'), 'utf8')));

  it.each([
    ['an alias bomb', (t: string) => t + ALIAS_BOMB.replace(/^/gm, '# ').replace('# a:', 'x-bomb:'), 'Invalid infra-stack.yaml'],
    ['nginxVersion read as a float', (t: string) => t.replace(/^domain:/m, 'nginxVersion: 1.20\ndomain:'), 'Invalid infra-stack.yaml nginxVersion: "1.2". Allowed: a quoted version'],
    ['a skip entry that matches nothing', (t: string) => `${t}skip: [nginx]\n`, 'Invalid skip: "nginx"'],
    ['a route with dot segments', (t: string) => t.replace('path: /api', 'path: /api/../..'), 'Invalid infra-stack.yaml services.api.path: "/api/../.."'],
  ])('%s', (_label, change, message) => {
    edit(change);
    const before = snapshot(repo);
    expectOneLine(run(INFRA_STACK_BIN, ['update', '--dir', repo]), 2, message);
    expect(snapshot(repo)).toEqual(before);
  });

  it('a skip entry for files generated before (k8s/ after switching to compose) is accepted and keeps them', () => {
    edit((t) => t.replace('target: compose', 'target: k8s'));
    expect(run(INFRA_STACK_BIN, ['update', '--dir', repo]).code).toBe(0);
    const k8s = readFileSync(join(repo, 'k8s/base/kustomization.yaml'), 'utf8');
    edit((t) => `${t.replace('target: k8s', 'target: compose')}skip: [k8s/]\n`);
    const r = run(INFRA_STACK_BIN, ['update', '--dir', repo]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KEPT\s+k8s\/base\/kustomization\.yaml\s+\(skipped in infra-stack\.yaml/);
    expect(readFileSync(join(repo, 'k8s/base/kustomization.yaml'), 'utf8')).toBe(k8s);
  });

  it('the alias bomb itself, as the whole infra-stack.yaml', () => {
    writeFileSync(join(repo, 'infra-stack.yaml'), ALIAS_BOMB);
    const before = snapshot(repo);
    expectOneLine(run(INFRA_STACK_BIN, ['update', '--dir', repo]), 2, 'Invalid infra-stack.yaml: "aliases that expand too far"');
    expect(snapshot(repo)).toEqual(before);
  });

  it('add service on a port a Node inspector publishes', () => {
    const before = snapshot(repo);
    expectOneLine(run(INFRA_STACK_BIN, ['add', 'service', 'billing', '--port', '9230', '--dir', repo]), 2, 'Invalid services.billing.port: "9230". Allowed: a port from 1024 to 65535 not used by the Node inspector of service web');
    expect(snapshot(repo)).toEqual(before);
  });
});

describe('the machine in the way: exit 1, one line naming the path and what to do', () => {
  it('`services` is a file (create --force)', () => {
    mkdirSync(join(work, 'app'));
    writeFileSync(join(work, 'app/services'), 'mine\n');
    const before = snapshot(work);
    expectOneLine(create(['--force']), 1, new RegExp(`^error: ${join(work, 'app/services/')}\\S+: a part of this path is a file, not a folder: move that file away and run again \\(ENOTDIR\\)$`));
    expect(snapshot(work)).toEqual(before);
  });

  it('`compose.yaml` is a folder (create --force)', () => {
    mkdirSync(join(work, 'app/compose.yaml'), { recursive: true });
    // A team's dev-certs.sh (run while the files are written) was started before the writes
    // failed: stopped, its scratch folder gone.
    mkdirSync(join(work, 'team/ops/scripts'), { recursive: true });
    writeFileSync(join(work, 'team/ops/scripts/dev-certs.sh.hbs'), '#!/bin/sh\nsleep 30\n');
    const temp = join(work, 'temp');
    mkdirSync(temp);
    const before = snapshot(work);
    const r = create(['--force', '--templates', join(work, 'team')], { env: { TMPDIR: temp } });
    expectOneLine(r, 1, `error: ${join(work, 'app/compose.yaml')}: this is a folder where a file belongs: move it away and run again (EISDIR)`);
    expect(snapshot(work)).toEqual(before);
    expect(readdirSync(temp)).toEqual([]);
  });

  it('a path longer than the file system takes', () => {
    const deep = join(work, ...Array(17).fill('d'.repeat(250)), 'app');
    const before = snapshot(work);
    const r = run(CREATE_BIN, [deep, '--yes', '--no-git', '--no-install']);
    expectOneLine(r, 1, `error: ${deep}: a file name is too long for this file system: use a shorter domain, name or directory (ENAMETOOLONG)`);
    expect(snapshot(work)).toEqual(before);
  });

  it('a read-only folder', () => {
    mkdirSync(join(work, 'parent'), { mode: 0o555 });
    const before = snapshot(work);
    const r = run(CREATE_BIN, [join(work, 'parent/app'), '--yes', '--no-git', '--no-install'], root ? { user: 'nobody' } : {});
    expectOneLine(r, 1, `error: ${join(work, 'parent/app')}: permission denied: run as a user who may write there, or fix its owner and mode (EACCES)`);
    expect(snapshot(work)).toEqual(before);
  });

  it.skipIf(!root)("another user's repository", () => {
    expect(create([]).code).toBe(0);
    const before = snapshot(work);
    const r = run(INFRA_STACK_BIN, ['add', 'service', 'billing', '--dir', join(work, 'app')], { user: 'nobody' });
    expectOneLine(r, 1, new RegExp(`^error: ${join(work, 'app')}/\\S+: permission denied: run as a user who may write there, or fix its owner and mode \\(EACCES\\)$`));
    expect(snapshot(work)).toEqual(before);
  });

  it('a symbolic link loop in a team template folder', () => {
    mkdirSync(join(work, 'team/base'), { recursive: true });
    symlinkSync('loop-b', join(work, 'team/base/loop-a'));
    symlinkSync('loop-a', join(work, 'team/base/loop-b'));
    const before = snapshot(work);
    const r = create(['--templates', join(work, 'team')]);
    // The template-folder rules refuse links, so the loop is never followed.
    expectOneLine(r, 2, /team\/base\/loop-[ab]" is a symbolic link; a template folder may hold only regular files and folders\.$/);
    expect(snapshot(work)).toEqual(before);
  });

  it.skipIf(!root)('a full disk', () => {
    const disk = join(work, 'disk');
    mkdirSync(disk);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', disk]);
    expect(mount.status, String(mount.stderr)).toBe(0);
    try {
      const r = run(CREATE_BIN, [join(disk, 'app'), '--yes', '--no-git', '--no-install']);
      // What is left on the disk is the engine's promise (its fault-injection tests); here: the message.
      expectOneLine(r, 1, /no space left on the device: free some space and run again \(ENOSPC\)$/);
    } finally {
      spawnSync('umount', [disk]);
    }
  });

  it('--help of both commands tells of INFRA_STACK_DEBUG', () => {
    for (const bin of [CREATE_BIN, INFRA_STACK_BIN]) expect(run(bin, ['--help']).stdout).toContain('INFRA_STACK_DEBUG=1');
  });

  it(`INFRA_STACK_DEBUG=1 adds the stack trace, for bug reports; the exit code stays`, () => {
    mkdirSync(join(work, 'app/compose.yaml'), { recursive: true });
    const r = create(['--force'], { env: { INFRA_STACK_DEBUG: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toContain('this is a folder where a file belongs');
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});

describe('interrupted', () => {
  /** create into `dir` with an npm that takes its time, resolved once npm install runs (the files written). */
  async function duringNpmInstall(dir: string, seconds: number) {
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const started = join(work, 'npm-started');
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\ntouch '${started}'\nexec sleep ${seconds}\n`, { mode: 0o755 });
    const child = spawn(process.execPath, [CREATE_BIN, dir, '--yes', '--no-git'], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, INFRA_STACK_DEBUG: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => existsSync(started) || child.exitCode !== null, 30_000, { intervalMs: 25, what: 'npm install to start' });
    return { child, exited, stderr: () => stderr };
  }

  it('Ctrl-C after the writes (during npm install): one line, exit 130, the stack complete', async () => {
    const run = await duringNpmInstall(join(work, 'app'), 60);
    const manifest = join(work, 'app/.infra-stack/manifest.json');
    // The signal lands while npm install runs: the files are written, the certificate is in place.
    expect(existsSync(manifest)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    // One line (after the ^C), saying the repository is complete and what did not run.
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Interrupted: \S+ is complete \(\d+ files\); npm install did not finish/);
    const files = Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).files);
    expect(files.filter((f) => !existsSync(join(work, 'app', f)))).toEqual([]);
  }, 60_000);

  it('SIGTERM while a child runs (npm install): exit 143 at once, one line, the directory shown escaped', async () => {
    // execa listens for signals while its child runs; the run must still end, not wait for npm.
    // A parent folder named with an escape sequence: the message shows it escaped, never raw.
    const run = await duringNpmInstall(join(work, 'x\u001b[31m', 'app'), 30);
    const sent = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(Date.now() - sent).toBeLessThan(5_000);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Interrupted: \S+x\\u001b\[31m\/app is complete \(\d+ files\); npm install did not finish/);
    expect(run.stderr()).not.toContain('\u001b');
  }, 60_000);
});

describe('printed names never carry control characters', () => {
  it('a team template named with a newline and an ANSI escape cannot fake a plan line or recolour the screen', () => {
    mkdirSync(join(work, 'team/base'), { recursive: true });
    writeFileSync(join(work, 'team/base', 'x\n  UNCHANGED  .env'), 'a\n');
    writeFileSync(join(work, 'team/base', '\u001b[32mok'), 'b\n');
    const r = create(['--templates', join(work, 'team'), '--dry-run']);
    // Refused at load, the name printed escaped (whichever of the two is read first).
    expectOneLine(r, 2, /team\/base\/(x\\n {2}UNCHANGED {2}\.env|\\u001b\[32mok)" is a path with a control character or backslash; /);
    expect(r.stdout + r.stderr).not.toContain('\u001b');
    expect(r.stdout + r.stderr).not.toMatch(/^\s*UNCHANGED/m);
  });
});

describe('describeFailure: each kind of error as one line and its exit code', () => {
  const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: something, open '${path}'\n    at x`), { code, ...(path ? { path } : {}) });
  it.each([
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['EROFS', 'read-only'],
    ['ENOSPC', 'no space left'],
    ['ENAMETOOLONG', 'too long'],
    ['ENOTDIR', 'is a file, not a folder'],
    ['EISDIR', 'a folder where a file belongs'],
    ['EEXIST', 'already there'],
    ['ELOOP', 'symbolic links'],
  ])('%s names the path, the problem and what to do: exit 1', (code, problem) => {
    const failure = describeFailure(errno(code, '/repo/a\nb'));
    expect(failure.exitCode).toBe(1);
    expect(failure.message).toMatch(new RegExp(`^error: /repo/a\\\\nb: [^\\n]*${problem}[^\\n]*: [^\\n]+ \\(${code}\\)$`));
  });
  it('bad input is exit 2, an interrupted prompt 130, anything else exit 1 pointing at INFRA_STACK_DEBUG', () => {
    expect(describeFailure(new InputError('gateway', 'x', 'nginx, kong'))).toEqual({ exitCode: 2, message: 'error: Invalid gateway: "x". Allowed: nginx, kong.' });
    expect(describeFailure(Object.assign(new Error('User force closed the prompt'), { name: 'ExitPromptError' })).exitCode).toBe(130);
    expect(describeFailure(new InterruptedError('Interrupted: nothing was written.'))).toEqual({ exitCode: 130, message: '\nInterrupted: nothing was written.' });
    expect(describeFailure(new InterruptedError('Interrupted: nothing was written.', 143)).exitCode).toBe(143);
    expect(describeFailure(new RunError('another run holds the lock'))).toEqual({ exitCode: 1, message: 'error: another run holds the lock' });
    expect(describeFailure(new TypeError('x is not a function\n    at y'))).toEqual({ exitCode: 1, message: 'error: x is not a function (set INFRA_STACK_DEBUG=1 for the stack trace)' });
  });
});
