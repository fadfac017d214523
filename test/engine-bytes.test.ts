// A person's bytes, line endings, modes and owners survive every run; secrets files are 0600
// from their first write; .env and .gitignore only ever get lines appended.
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply } from '../src/engine/apply.js';
import type { EngineFs } from '../src/engine/disk.js';
import { hashContent } from '../src/engine/manifest.js';
import { leftovers, manifestMismatches, snapshot } from './helpers/repo-state.js';
import { CREATE_BIN, INFRA_STACK_BIN, infraStack, runCli } from './helpers/stack.js';
import { isRoot } from './helpers/tools.js';

const work = mkdtempSync(join(tmpdir(), 'infra-stack-bytes-'));
const base = join(work, 'base');
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  const r = runCli(CREATE_BIN, [base, '--yes', '--no-git', '--no-install']);
  if (r.code !== 0) throw new Error(r.stderr);
});

let serial = 0;
const repo = () => {
  const dir = join(work, `repo-${++serial}`);
  cpSync(base, dir, { recursive: true });
  return dir;
};
const mode = (path: string) => statSync(path).mode & 0o777;
const envValue = (text: string, key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1];

describe('.env', () => {
  it('keeps bytes that are not UTF-8, and builds a missing derived value from the values already there', () => {
    const dir = repo();
    const original = readFileSync(join(dir, '.env'), 'utf8');
    const password = envValue(original, 'POSTGRES_PASSWORD')!;
    // The person removes DATABASE_URL and adds a Latin-1 password of their own.
    const mine = Buffer.concat([
      Buffer.from(original.replace(/^DATABASE_URL=.*\n/m, '')),
      Buffer.from('SMTP_PASSWORD=p\xe4ss\n', 'latin1'),
    ]);
    writeFileSync(join(dir, '.env'), mine);
    chmodSync(join(dir, '.env'), 0o640);

    const r = infraStack(dir, 'update');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/UPDATE\s+\.env\s+\(adds DATABASE_URL\)/);
    const now = readFileSync(join(dir, '.env'));
    expect(now.subarray(0, mine.length)).toEqual(mine);
    const url = envValue(now.subarray(mine.length).toString('utf8'), 'DATABASE_URL');
    expect(url).toBe(`postgres://${envValue(original, 'POSTGRES_USER')}:${password}@127.0.0.1:5432/${envValue(original, 'POSTGRES_DB')}`);
    expect(mode(join(dir, '.env'))).toBe(0o640);
    // Once appended, a second run changes nothing.
    expect(infraStack(dir, 'update').stdout).toContain('Nothing to change');
  });

  for (const umask of ['000', '022', '077']) {
    it(`secrets files are 0600 from the first write (umask ${umask}), a person's 0600 kept on append`, () => {
      const dir = join(work, `umask-${umask}`);
      const r = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, CREATE_BIN, dir, '--yes', '--no-git', '--no-install', '--target', 'k8s'], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      for (const secrets of ['.env', 'k8s/overlays/staging/secrets.env', 'k8s/overlays/production/secrets.env']) {
        expect(mode(join(dir, secrets)), secrets).toBe(0o600);
      }
      writeFileSync(join(dir, '.env'), readFileSync(join(dir, '.env'), 'utf8').replace(/^DATABASE_URL=.*\n/m, ''));
      expect(infraStack(dir, 'update').code).toBe(0);
      expect(mode(join(dir, '.env'))).toBe(0o600);
    });
  }
});

describe('line endings and modes', () => {
  const crlf = (text: string) => text.replace(/\n/g, '\r\n');
  const allCrlf = (text: string) => text.includes('\r\n') && !/(^|[^\r])\n/.test(text);

  it('a CRLF infra-stack.yaml stays CRLF after add service', () => {
    const dir = repo();
    writeFileSync(join(dir, 'infra-stack.yaml'), crlf(readFileSync(join(dir, 'infra-stack.yaml'), 'utf8')));
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code, r.stderr).toBe(0);
    const yaml = readFileSync(join(dir, 'infra-stack.yaml'), 'utf8');
    expect(allCrlf(yaml)).toBe(true);
    expect(yaml).toContain('name: billing\r\n');
    expect(infraStack(dir, 'update').stdout).toContain('Nothing to change');
  });

  it('a generated file checked out with CRLF is still the generator file: updated, and kept CRLF', () => {
    const dir = repo();
    writeFileSync(join(dir, 'compose.yaml'), crlf(readFileSync(join(dir, 'compose.yaml'), 'utf8')));
    expect(infraStack(dir, 'update').stdout).toContain('Nothing to change');
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.stdout).toMatch(/UPDATE\s+compose\.yaml/);
    const compose = readFileSync(join(dir, 'compose.yaml'), 'utf8');
    expect(allCrlf(compose)).toBe(true);
    expect(compose).toContain('  billing:\r\n');
    // The manifest records the generator's (LF) content, so the next run still knows the file.
    const manifest = JSON.parse(readFileSync(join(dir, '.infra-stack/manifest.json'), 'utf8'));
    expect(manifest.files['compose.yaml']).toBe(hashContent(compose.replaceAll('\r\n', '\n')));
  });

  it("a person's mode on a rewritten file is kept (0444, 0600, 0750)", () => {
    const dir = repo();
    const modes = { 'compose.yaml': 0o444, 'README.md': 0o600, 'scripts/health-check.sh': 0o750 };
    for (const [path, m] of Object.entries(modes)) chmodSync(join(dir, path), m);
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/UPDATE\s+compose\.yaml/);
    for (const [path, m] of Object.entries(modes)) expect(mode(join(dir, path)), path).toBe(m);
  });

  it('a generated file with bytes that are not UTF-8 is never decoded: a CONFLICT, its bytes as they were', () => {
    const dir = repo();
    const mine = Buffer.concat([readFileSync(join(dir, 'compose.yaml')), Buffer.from('# r\xe9seau interne\n', 'latin1')]);
    writeFileSync(join(dir, 'compose.yaml'), mine);
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CONFLICT\s+compose\.yaml/);
    expect(readFileSync(join(dir, 'compose.yaml'))).toEqual(mine);
  });
});

describe('short writes', () => {
  it('a file system that takes a few bytes per write still gets every byte, multi-byte characters whole', async () => {
    const dir = join(work, 'short-writes');
    mkdirSync(dir);
    const text = 'naïve café ✓ — '.repeat(200) + '\n';
    // At most 7 bytes per write, as a full pipe or a signal can cut a write short.
    const fs = {
      ...nodeFs,
      writeSync: (fd: number, data: string | Buffer, offset?: number, length?: number) => {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data.subarray(offset ?? 0, (offset ?? 0) + (length ?? data.length));
        return nodeFs.writeSync(fd, bytes, 0, Math.min(7, bytes.length));
      },
    } as unknown as EngineFs;
    await apply(dir, [{ kind: 'write', path: 'docs/text.md', content: text, mode: 0o644 }, { kind: 'write', path: 'bin.dat', content: Buffer.from([0, 255, 1, 254]), mode: 0o600 }], { fs });
    expect(readFileSync(join(dir, 'docs/text.md'), 'utf8')).toBe(text);
    expect(readFileSync(join(dir, 'bin.dat'))).toEqual(Buffer.from([0, 255, 1, 254]));
    expect(mode(join(dir, 'bin.dat'))).toBe(0o600);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('.gitignore and proposals', () => {
  it("a person's own .gitignore gets the missing lines appended, never a CONFLICT", () => {
    const dir = join(work, 'own-gitignore');
    mkdirSync(dir);
    writeFileSync(join(dir, '.gitignore'), 'mine/\r\n.env\r\n');
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--force']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/UPDATE\s+\.gitignore\s+\(adds /);
    const text = readFileSync(join(dir, '.gitignore'), 'utf8');
    expect(text.startsWith('mine/\r\n.env\r\n')).toBe(true);
    expect(text.match(/^\.env\r?$/gm)).toHaveLength(1);
    expect(text).toMatch(/^\*\.key\r$/m);
  });

  it('a <file>.infra-stack-new the person changed is never overwritten', () => {
    const dir = join(work, 'proposal');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Makefile'), 'all:\n\techo mine\n');
    expect(runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--force']).code).toBe(1);
    const proposal = join(dir, 'Makefile.infra-stack-new');
    writeFileSync(proposal, readFileSync(proposal, 'utf8') + '# half merged by hand\n');
    const before = snapshot(dir);
    const r = infraStack(dir, 'update');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CONFLICT\s+Makefile\s+\(.*Makefile\.infra-stack-new is already there/);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe.skipIf(!isRoot())('owners: a root run in a repository owned by someone else', () => {
  it('leaves every file and folder it creates or rewrites owned by the repository owner', () => {
    const parent = join(work, 'owned');
    mkdirSync(parent);
    chmodSync(work, 0o755);
    chmodSync(parent, 0o755);
    const dir = join(parent, 'repo');
    mkdirSync(dir);
    chownSync(dir, 65534, 65534);
    const made = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, CREATE_BIN, dir, '--yes', '--no-git', '--no-install', '--force'], {
      encoding: 'utf8',
      cwd: parent,
    });
    expect(made.status, made.stderr).toBe(0);
    chmodSync(join(dir, 'compose.yaml'), 0o600);
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code, r.stderr).toBe(0);
    const owners = Object.entries(snapshot(dir)).filter(([, entry]) => !entry.includes(' 65534:65534'));
    expect(owners).toEqual([]);
    expect(mode(join(dir, 'compose.yaml'))).toBe(0o600);
    expect(manifestMismatches(dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
    // And the owner can keep working in it on their own.
    const again = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, INFRA_STACK_BIN, 'add', 'service', 'payments', '--dir', dir], { encoding: 'utf8', cwd: parent });
    expect(again.status, again.stderr).toBe(0);
  });
});
