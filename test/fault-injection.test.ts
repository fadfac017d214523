// The engine's promises, tested by breaking them: a failure or a kill at every write, a full
// disk, two runs at once. Each test looks at the directory afterwards, byte for byte: the old
// state or the new one, a consistent manifest, no temp file, nothing written outside.
import { spawn, spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, expectSeen, operations, type Operation } from '../src/engine/apply.js';
import type { EngineFs } from '../src/engine/disk.js';
import { recover } from '../src/engine/journal.js';
import { leftovers, manifestMismatches, snapshot } from './helpers/repo-state.js';
import { CREATE_BIN, INFRA_STACK_BIN, infraStack, runCli, type CliResult } from './helpers/stack.js';
import { isRoot, tool } from './helpers/tools.js';

const MUTATING = [
  'openSync',
  'writeSync',
  'fsyncSync',
  'fsync',
  'closeSync',
  'fchmodSync',
  'fchownSync',
  'renameSync',
  'unlinkSync',
  'linkSync',
  'mkdirSync',
  'rmdirSync',
] as const;

/**
 * Node's fs, failing the Nth write operation. `once`: that one fails (a full disk) and the run
 * may clean up. `kill`: it and every later one fail, as if the process died there.
 */
function faultyFs(failAt: number, mode: 'once' | 'kill'): { fs: EngineFs; count: () => number } {
  let n = 0;
  let dead = false;
  const fs = { ...nodeFs } as Record<string, unknown>;
  for (const name of MUTATING) {
    fs[name] = (...args: unknown[]) => {
      n++;
      if (dead || n === failAt) {
        if (mode === 'kill') dead = true;
        throw Object.assign(new Error(`ENOSPC: no space left on device (injected at ${n})`), { code: 'ENOSPC' });
      }
      return (nodeFs[name] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { fs: fs as unknown as EngineFs, count: () => n };
}

/** strace kills the CLI for real at a chosen system call (installed by .ci/run). */
const strace = tool('strace');
const work = mkdtempSync(join(tmpdir(), 'infra-stack-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let serial = 0;
const fresh = (from: string) => {
  const dir = join(work, `case-${++serial}`);
  cpSync(from, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
};

describe('apply: a failure or a kill at every write operation', () => {
  const base = join(work, 'apply-base');
  const latin1 = Buffer.from('A=p\xe4ss\n', 'latin1');
  let ops: Operation[];

  beforeAll(() => {
    mkdirSync(join(base, 'services'), { recursive: true });
    mkdirSync(join(base, '.infra-stack'));
    writeFileSync(join(base, 'compose.yaml'), 'mine: true\n');
    writeFileSync(join(base, '.env'), latin1, { mode: 0o600 });
    chmodSync(join(base, '.env'), 0o600);
    writeFileSync(join(base, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(base, 'old.txt'), 'old\n');
    writeFileSync(join(base, '.infra-stack/manifest.json'), '{}\n');
    const write = (path: string, content: string | Buffer, mode = 0o644) => ({ path, action: 'CREATE' as const, reason: '', write: { path, content, mode } });
    ops = expectSeen([...operations(
      [
        write('a/b/c.txt', 'c\n'),
        write('compose.yaml', 'new: true\n'),
        write('.env', Buffer.concat([latin1, Buffer.from('B=2\n')]), 0o600),
        write('run.sh', 'echo\n', 0o755),
        { path: 'old.txt', action: 'DELETE', reason: '' },
        write('services/x/Dockerfile', 'FROM x\n'),
        write('k8s/overlays/staging/secrets.env', 'S=1\n', 0o600),
      ]),
      { kind: 'write', path: '.infra-stack/manifest.json', content: '{"v":2}\n', mode: 0o644 },
    ], new Map([
      ['compose.yaml', Buffer.from('mine: true\n')],
      ['a/b/c.txt', undefined],
    ]));
  });

  it('applies the whole transaction, keeping modes and bytes, and counts its operations', async () => {
    const dir = fresh(base);
    const counter = faultyFs(0, 'once');
    await apply(dir, ops, { fs: counter.fs, durable: true });
    expect(counter.count()).toBeGreaterThan(40);
    expect(readFileSync(join(dir, '.env'))).toEqual(Buffer.concat([latin1, Buffer.from('B=2\n')]));
    expect(nodeFs.statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(nodeFs.statSync(join(dir, 'k8s/overlays/staging/secrets.env')).mode & 0o777).toBe(0o600);
    expect(nodeFs.statSync(join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(nodeFs.existsSync(join(dir, 'old.txt'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a failure at any operation (a full disk) leaves the old state, with no temp file', async () => {
    const after = fresh(base);
    const counter = faultyFs(0, 'once');
    await apply(after, ops, { fs: counter.fs, durable: true });
    const total = counter.count();
    const before = snapshot(base);
    const outcomes = new Set<string>();
    for (let failAt = 1; failAt <= total; failAt++) {
      const dir = fresh(base);
      let threw = false;
      try {
        await apply(dir, ops, { fs: faultyFs(failAt, 'once').fs, durable: true });
      } catch (error) {
        threw = true;
        // The disk's own error, naming the file it was for (never a temp name); the CLI words it.
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
        expect((error as NodeJS.ErrnoException).path).not.toMatch(/infra-stack-tmp/);
      }
      // Only the clean-up after the commit may fail quietly: the run is complete, and the next
      // one removes what the clean-up left.
      if (threw) expect(leftovers(dir)).toEqual([]);
      else recover(dir);
      expect(snapshot(dir), `failure at operation ${failAt}`).toEqual(threw ? before : snapshot(after));
      expect(leftovers(dir)).toEqual([]);
      outcomes.add(threw ? 'old' : 'new');
      rmSync(dir, { recursive: true });
    }
    expect(outcomes).toContain('old');
  });

  it('a kill at any operation is undone (or finished) by the next run, before anything else', async () => {
    const after = fresh(base);
    await apply(after, ops, { durable: true });
    const states = { before: snapshot(base), after: snapshot(after) };
    let total = 0;
    {
      const dir = fresh(base);
      const counter = faultyFs(0, 'once');
      await apply(dir, ops, { fs: counter.fs, durable: true });
      total = counter.count();
    }
    const outcomes = new Set<string>();
    for (let killAt = 1; killAt <= total; killAt++) {
      const dir = fresh(base);
      try {
        await apply(dir, ops, { fs: faultyFs(killAt, 'kill').fs, durable: true });
      } catch {
        // died
      }
      recover(dir);
      const now = snapshot(dir);
      const state = JSON.stringify(now) === JSON.stringify(states.before) ? 'before' : 'after';
      expect(now, `kill at operation ${killAt}`).toEqual(states[state]);
      expect(leftovers(dir)).toEqual([]);
      outcomes.add(state);
      rmSync(dir, { recursive: true });
    }
    expect([...outcomes].sort()).toEqual(['after', 'before']);
  });

  it('durable: the journal and every staged file are synced before the first rename, every touched folder before the journal and backups go', async () => {
    const dir = fresh(base);
    const calls: string[] = [];
    const names = new Map<number, string>();
    const fs = { ...nodeFs } as Record<string, unknown>;
    fs.openSync = (path: string, flags: number, mode?: number) => {
      const fd = nodeFs.openSync(path, flags, mode);
      names.set(fd, String(path).slice(dir.length + 1) || '.');
      return fd;
    };
    fs.fsync = (fd: number, done: (e: Error | null) => void) => (calls.push(`sync ${names.get(fd)}`), nodeFs.fsync(fd, done));
    fs.fsyncSync = (fd: number) => (calls.push(`sync ${names.get(fd)}`), nodeFs.fsyncSync(fd));
    fs.renameSync = (from: string, to: string) => (calls.push(`rename ${from.slice(dir.length + 1)}`), nodeFs.renameSync(from, to));
    fs.unlinkSync = (path: string) => (calls.push(`unlink ${path.slice(dir.length + 1)}`), nodeFs.unlinkSync(path));
    await apply(dir, ops, { fs: fs as unknown as EngineFs, durable: true });

    const renames = calls.flatMap((c, i) => (c.startsWith('rename ') && !c.includes('journal.json') ? [[i, c.slice(7)] as const] : []));
    expect(renames).toHaveLength(ops.filter((op) => op.kind === 'write').length);
    for (const temp of [...renames.map(([, temp]) => temp), '.infra-stack/journal.json', '.infra-stack']) {
      const synced = calls.indexOf(`sync ${temp}`);
      expect(synced, temp).toBeGreaterThan(-1);
      expect(synced, temp).toBeLessThan(renames[0][0]);
    }
    // The folders that gained or lost a name are synced after the last rename, before the journal
    // (and the backups) go: until then a crash is finished or undone from the journal.
    const journalGone = calls.indexOf('unlink .infra-stack/journal.json');
    expect(journalGone).toBeGreaterThan(renames.at(-1)![0]);
    for (const folder of ['.', 'a/b', 'services/x', 'k8s/overlays/staging', '.infra-stack']) {
      const synced = calls.findIndex((c, i) => i > renames.at(-1)![0] && c === `sync ${folder}`);
      expect(synced, folder).toBeGreaterThan(-1);
      expect(synced, folder).toBeLessThan(journalGone);
    }
    for (const backup of calls.filter((c) => c.startsWith('unlink ') && c.endsWith('.infra-stack-tmp'))) {
      expect(calls.indexOf(backup), backup).toBeGreaterThan(calls.map((c) => c.startsWith('sync ')).lastIndexOf(true));
    }
  });

  it('a kill after the last rename is finished by the next run, not undone: the new state is the commit', async () => {
    const after = fresh(base);
    await apply(after, ops, { durable: true });
    // The operation right after the last rename of a staged file (the folders' syncs begin).
    const names: string[] = [];
    const recording = { ...nodeFs } as Record<string, unknown>;
    for (const name of MUTATING) recording[name] = (...args: unknown[]) => (names.push(`${name} ${String(args[0])}`), (nodeFs[name] as (...a: unknown[]) => unknown)(...args));
    await apply(fresh(base), ops, { fs: recording as unknown as EngineFs, durable: true });
    const lastRename = names.map((n) => n.startsWith('renameSync ') && !n.includes('journal.json')).lastIndexOf(true);
    const dir = fresh(base);
    await expect(apply(dir, ops, { fs: faultyFs(lastRename + 2, 'kill').fs, durable: true })).rejects.toThrow();
    expect(nodeFs.existsSync(join(dir, '.infra-stack/journal.json'))).toBe(true);
    expect(recover(dir)).toMatch(/finished it/);
    expect(snapshot(dir)).toEqual(snapshot(after));
    expect(leftovers(dir)).toEqual([]);
  });

  it('never overwrites a file that changed between plan and write', async () => {
    const dir = fresh(base);
    writeFileSync(join(dir, 'compose.yaml'), 'edited meanwhile\n');
    const before = snapshot(dir);
    await expect(apply(dir, ops)).rejects.toThrow(/compose\.yaml changed while infra-stack was running; nothing was written/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a temp name planted as a symlink is never followed (O_EXCL | O_NOFOLLOW)', async () => {
    const dir = fresh(base);
    const victim = join(work, 'victim-planted.txt');
    writeFileSync(victim, 'victim\n', { mode: 0o600 });
    const before = snapshot(dir);
    // An attacker who could guess the temp name plants a link there just before it is opened.
    const fs = { ...nodeFs } as Record<string, unknown>;
    fs.openSync = (path: string, flags: number, mode?: number) => {
      if (String(path).endsWith('.infra-stack-tmp') && String(path).includes('compose.yaml')) nodeFs.symlinkSync(victim, path);
      return nodeFs.openSync(path, flags, mode);
    };
    await expect(apply(dir, ops, { fs: fs as unknown as EngineFs })).rejects.toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
    expect(nodeFs.statSync(victim).mode & 0o777).toBe(0o600);
    // The run stops; the link at its temp name is removed (unlink never follows) with the rest.
    expect(snapshot(dir)).toEqual(before);
  });
});

/** A default stack, made once through the real CLI; each test works on a copy. */
const stackBase = join(work, 'stack-base');
beforeAll(() => {
  const r = runCli(CREATE_BIN, [stackBase, '--yes', '--no-git', '--no-install']);
  if (r.code !== 0) throw new Error(r.stderr);
});

/** The stack after `add service billing`, made cleanly: the "new state" a killed run may reach. */
function addedState(): Record<string, string> {
  const dir = fresh(stackBase);
  expect(infraStack(dir, 'add', 'service', 'billing').code).toBe(0);
  return snapshot(dir);
}

describe.skipIf(!strace)('a real kill -9 of the CLI in the middle of its writes', () => {
  it('leaves a repository the next run restores to the old state or the new one, and says so', () => {
    const before = snapshot(stackBase);
    const after = addedState();
    const outcomes = new Set<string>();
    // The Nth rename (journal, each file, commit record) or unlink or link is the moment of death.
    const points = [
      ...Array.from({ length: 24 }, (_, i) => `rename,renameat,renameat2:when=${i + 1}`),
      ...[1, 3, 6].map((n) => `link,linkat:when=${n}`),
      ...[1, 2, 5, 12].map((n) => `unlink,unlinkat:when=${n}`),
    ];
    for (const point of points) {
      const dir = fresh(stackBase);
      const [calls, when] = point.split(':');
      const killed = spawnSync(
        'strace',
        ['-f', '-o', '/dev/null', '-e', `trace=${calls}`, '-e', `inject=${calls}:signal=KILL:${when}`, process.execPath, INFRA_STACK_BIN, 'add', 'service', 'billing', '--dir', dir],
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
      const next = infraStack(dir, 'update');
      expect(next.code, `${point}: ${next.stderr}`).toBe(0);
      const now = snapshot(dir);
      const state = JSON.stringify(now) === JSON.stringify(before) ? 'old' : 'new';
      expect(now, `killed at ${point}`).toEqual(state === 'old' ? before : after);
      expect(leftovers(dir)).toEqual([]);
      expect(manifestMismatches(dir)).toEqual([]);
      // Killed (strace passes the signal on), or past the last such call: then it completed.
      expect(String(killed.signal ?? killed.status), point).toMatch(killed.status === 0 ? /^0$/ : /^(SIGKILL|137)$/);
      if (killed.status === 0) expect(state, point).toBe('new');
      // The next run says, in one line, that it put an interrupted run right (when there was one).
      expect(next.stderr).toMatch(/^(infra-stack: the previous run was interrupted[^\n]*\n)?$/);
      outcomes.add(state);
      rmSync(dir, { recursive: true });
    }
    expect([...outcomes].sort()).toEqual(['new', 'old']);
  }, 240_000);
});

describe.skipIf(!strace)('a create killed halfway', () => {
  it('is undone by the next create in that folder, which then writes the whole stack', () => {
    const dir = join(work, 'killed-create');
    const killed = spawnSync(
      'strace',
      ['-f', '-o', '/dev/null', '-e', 'trace=rename', '-e', 'inject=rename:signal=KILL:when=10', process.execPath, CREATE_BIN, dir, '--yes', '--no-git', '--no-install'],
      { encoding: 'utf8' },
    );
    expect(killed.signal ?? killed.status).not.toBe(0);
    expect(leftovers(dir).length).toBeGreaterThan(0);
    const again = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^infra-stack: the previous run was interrupted before it finished; undone \(\d+ files put back as they were\)/);
    expect(leftovers(dir)).toEqual([]);
    expect(manifestMismatches(dir)).toEqual([]);
  });
});

/** Runs a bin asynchronously (two at once). */
function runAsync(bin: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('one run at a time', () => {
  it('two add service runs at once both land, in turn: no lost update, no shared port', async () => {
    const dir = fresh(stackBase);
    const [a, b] = await Promise.all([
      runAsync(INFRA_STACK_BIN, ['add', 'service', 'billing', '--dir', dir]),
      runAsync(INFRA_STACK_BIN, ['add', 'service', 'payments', '--dir', dir]),
    ]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const yaml = readFileSync(join(dir, 'infra-stack.yaml'), 'utf8');
    const compose = readFileSync(join(dir, 'compose.yaml'), 'utf8');
    for (const name of ['billing', 'payments']) {
      expect(yaml).toContain(`name: ${name}`);
      expect(compose).toContain(`  ${name}:`);
    }
    const ports = [...yaml.matchAll(/port: (\d+)/g)].map((m) => m[1]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(manifestMismatches(dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a run that finds the lock held by a live process waits, then exits 1 changing nothing', () => {
    const dir = fresh(stackBase);
    const started = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
    writeFileSync(join(dir, '.infra-stack/lock'), JSON.stringify({ pid: process.pid, started }));
    const before = snapshot(dir);
    const t0 = Date.now();
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(Date.now() - t0).toBeGreaterThan(4000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: another infra-stack run \(process \d+\) holds \.infra-stack\/lock; waited 5 s\..*\n$/);
    expect(snapshot(dir)).toEqual(before);
  }, 15_000);

  it('Ctrl-C while the lock is held releases it (process.exit skips finally, not exit handlers)', async () => {
    const dir = fresh(stackBase);
    // An in-repo team folder of 150 Markdown files: prettier formats them while the lock is held.
    mkdirSync(join(dir, 'tpl/base/docs'), { recursive: true });
    for (let i = 0; i < 150; i++) writeFileSync(join(dir, `tpl/base/docs/page-${i}.md`), `# Page ${i}\n\n* one\n* two\n`);
    writeFileSync(join(dir, 'infra-stack.yaml'), readFileSync(join(dir, 'infra-stack.yaml'), 'utf8') + 'templates: tpl\n');
    const before = snapshot(dir);
    const child = spawn(process.execPath, [INFRA_STACK_BIN, 'update', '--dir', dir]);
    const lock = join(dir, '.infra-stack/lock');
    while (!nodeFs.existsSync(lock) && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    // Interrupted before its writes: nothing changed, and no lock is left to block the next run.
    expect(snapshot(dir)).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });

  it.skipIf(!strace)('a dry run after a kill says an interrupted run waits to be undone, and changes nothing', () => {
    const dir = fresh(stackBase);
    spawnSync('strace', ['-f', '-o', '/dev/null', '-e', 'trace=rename', '-e', 'inject=rename:signal=KILL:when=5', process.execPath, INFRA_STACK_BIN, 'add', 'service', 'billing', '--dir', dir]);
    const before = snapshot(dir);
    const r = infraStack(dir, 'update', '--dry-run');
    expect(r.stderr).toBe('infra-stack: a previous run was interrupted; the next run without --dry-run undoes it first.\n');
    expect(snapshot(dir)).toEqual(before);
  });

  it('a lock that is a symlink (committed or planted) is removed, never followed', () => {
    const dir = fresh(stackBase);
    const victim = join(work, 'lock-victim');
    writeFileSync(victim, 'victim\n');
    nodeFs.symlinkSync(victim, join(dir, '.infra-stack/lock'));
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
    expect(snapshot(dir)).toEqual(addedState());
  });

  it('takes over a lock left by a process that is gone', () => {
    const dir = fresh(stackBase);
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(join(dir, '.infra-stack/lock'), JSON.stringify({ pid: Number(dead), started: '1' }));
    const r = infraStack(dir, 'add', 'service', 'billing');
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(dir)).toEqual(addedState());
  });
});

describe.skipIf(!isRoot())('a full disk (a 600 KiB tmpfs)', () => {
  const mnt = join(work, 'tmpfs');
  beforeAll(() => {
    mkdirSync(mnt);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  });
  afterAll(() => spawnSync('umount', [mnt]));

  it('add service fails with one line and leaves the repository exactly as it was, whatever space is left', () => {
    const outcomes = new Set<number>();
    for (const freeKiB of [0, 4, 8, 16, 24, 32, 48]) {
      const dir = join(mnt, 'repo');
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(mnt, 'filler'), { force: true });
      cpSync(stackBase, dir, { recursive: true });
      rmSync(join(dir, 'certs'), { recursive: true });
      // Fill the disk, leaving freeKiB.
      const free = nodeFs.statfsSync(mnt);
      const bytes = Math.max(0, free.bavail * free.bsize - freeKiB * 1024);
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(bytes));
      const before = snapshot(dir);
      const r = infraStack(dir, 'add', 'service', 'billing');
      outcomes.add(r.code ?? -1);
      if (r.code !== 0) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^error: ${dir}/\\S+: no space left on the device: free some space and run again \\(ENOSPC\\)\n$`));
        expect(snapshot(dir)).toEqual(before);
      }
      expect(leftovers(dir)).toEqual([]);
    }
    expect(outcomes).toContain(1);
  });

  it('create on a full disk leaves nothing behind, and a later create in the same folder works', () => {
    rmSync(join(mnt, 'filler'), { force: true });
    rmSync(join(mnt, 'repo'), { recursive: true, force: true });
    const free = nodeFs.statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(free.bavail * free.bsize - 16 * 1024));
    const r = runCli(CREATE_BIN, [join(mnt, 'new'), '--yes', '--no-git', '--no-install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENOSPC/);
    expect(nodeFs.existsSync(join(mnt, 'new'))).toBe(false);
    rmSync(join(mnt, 'filler'));
    expect(runCli(CREATE_BIN, [join(mnt, 'new'), '--yes', '--no-git', '--no-install']).code).toBe(0);
  });
});
