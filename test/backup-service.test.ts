// The production backup service: scripts/backup.sh in its container mode (BACKUP_DUMP=direct) against a
// real PostgreSQL, with the dump verified by pg_restore --list and the last success time written for
// Prometheus; scripts/backup-schedule.sh's timing and failure handling with `date`/`sleep` doubles;
// compose.prod.yaml's backup service.
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startPostgres, type RunningPostgres } from './helpers/services.js';
import { configOf, renderTree, writeStack } from './helpers/stack.js';
import { tempDirs } from './helpers/temp.js';
import { tool } from './helpers/tools.js';
import { dockerComposeConfig, run } from './helpers/validators.js';

const HAS = { pgDump: tool('pg_dump'), promtool: tool('promtool'), dockerCompose: tool('docker-compose') };
const HOOK_MS = 60_000;
const { tempDir, removeLater } = tempDirs();

/** A folder to put first on PATH with executable scripts of the given names. */
function fakeBin(scripts: Record<string, string>): string {
  const dir = tempDir('fake-bin-');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe.skipIf(!HAS.pgDump)('scripts/backup.sh in the backup service (BACKUP_DUMP=direct) against PostgreSQL', () => {
  let pg: RunningPostgres;
  let stack = '';
  let env: NodeJS.ProcessEnv;
  let backups = '';
  let metrics = '';

  beforeAll(async () => {
    pg = await startPostgres();
    stack = await writeStack(configOf({ monitoring: 'prometheus' }, 'shop'));
    removeLater(stack);
    backups = tempDir();
    metrics = tempDir();
    // What compose.prod.yaml gives the backup container.
    env = {
      PATH: process.env.PATH,
      PGHOST: '127.0.0.1',
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: pg.database,
      BACKUP_DUMP: 'direct',
      BACKUP_DIR: backups,
      BACKUP_RETENTION_DAYS: '30',
      BACKUP_METRICS_DIR: metrics,
    };
  }, HOOK_MS);
  afterAll(async () => {
    await pg?.stop();
  }, HOOK_MS);

  it('dumps, verifies, keeps 30 days, and writes the success time Prometheus reads; the dump restores the rows', async () => {
    await pg.sql("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake');");
    const aged = (name: string, days: number) => {
      const file = join(backups, name);
      writeFileSync(file, 'x');
      const when = Date.now() / 1000 - days * 86_400;
      utimesSync(file, when, when);
      return file;
    };
    const expired = aged('shop-20200101T000000Z.dump', 31);
    const kept = aged('shop-20200102T000000Z.dump', 29);
    const started = Math.floor(Date.now() / 1000);

    const r = await run('sh', [join(stack, 'scripts/backup.sh')], { env });
    expect(r.code, r.stderr).toBe(0);
    const fresh = readdirSync(backups).find((f) => /^shop-\d{8}T\d{6}Z\.dump$/.test(f) && !f.startsWith('shop-2020'))!;
    expect(r.stdout).toMatch(new RegExp(`backup: wrote ${backups}/${fresh} \\(\\d+ bytes, verified\\)`));
    expect(existsSync(expired)).toBe(false);
    expect(existsSync(kept)).toBe(true);

    const prom = readFileSync(join(metrics, 'backup.prom'), 'utf8');
    const at = Number(/^infra_stack_backup_last_success_timestamp_seconds (\d+)$/m.exec(prom)?.[1]);
    expect(at).toBeGreaterThanOrEqual(started);
    expect(at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(prom).toMatch(/^infra_stack_backup_size_bytes [1-9]\d*$/m);
    if (HAS.promtool) {
      const lint = await run('promtool', ['check', 'metrics'], { input: prom });
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    }

    await pg.sql('DROP TABLE orders;');
    const restore = await run('pg_restore', ['--clean', '--if-exists', '--no-owner', '-d', pg.database, join(backups, fresh)], { env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await pg.sql('SELECT item FROM orders ORDER BY id')).toBe('tea\ncake');
  }, 60_000);

  it('a dump that does not read back is an error: exit 1, no file kept, the success time not moved', async () => {
    const before = readdirSync(backups).sort();
    const metricBefore = readFileSync(join(metrics, 'backup.prom'), 'utf8');
    // A pg_dump that "succeeds" with garbage (a full disk, a proxy cutting the stream...).
    const bin = fakeBin({ pg_dump: 'echo "not a dump"' });
    const r = await run('sh', [join(stack, 'scripts/backup.sh')], { env: { ...env, PATH: `${bin}${delimiter}${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pg_restore');
    expect(readdirSync(backups).sort()).toEqual(before);
    expect(readFileSync(join(metrics, 'backup.prom'), 'utf8')).toBe(metricBefore);
  });
});

describe('scripts/backup-schedule.sh', () => {
  let scripts = '';
  beforeAll(async () => {
    const stack = await writeStack(configOf());
    removeLater(stack);
    // A copy with a backup.sh double that records each run and fails (the schedule must go on).
    scripts = tempDir();
    cpSync(join(stack, 'scripts/backup-schedule.sh'), join(scripts, 'backup-schedule.sh'));
    writeFileSync(join(scripts, 'backup.sh'), `#!/bin/sh\necho run >> "${scripts}/runs"\nexit 3\n`);
    chmodSync(join(scripts, 'backup.sh'), 0o755);
  });

  /** Runs the schedule at a fixed clock; `sleep` records its seconds and, on the Nth call, stops the schedule. */
  const schedule = (at: string | undefined, now: number, stopAt = 1) => {
    rmSync(join(scripts, 'runs'), { force: true });
    rmSync(join(scripts, 'sleeps'), { force: true });
    const bin = fakeBin({
      date: `echo ${now}`,
      sleep: `echo "$1" >> "${scripts}/sleeps"\n[ "$(wc -l < "${scripts}/sleeps")" -lt ${stopAt} ] || kill -TERM "$PPID"`,
    });
    return run('sh', [join(scripts, 'backup-schedule.sh')], {
      env: { PATH: `${bin}${delimiter}${process.env.PATH}`, ...(at === undefined ? {} : { BACKUP_AT: at }) },
      timeoutMs: 10_000,
    });
  };
  const lines = (name: string) => (existsSync(join(scripts, name)) ? readFileSync(join(scripts, name), 'utf8').trim().split('\n') : []);
  // 2026-01-01T02:00:00Z
  const TWO_AM = Date.UTC(2026, 0, 1, 2) / 1000;

  it('waits until BACKUP_AT (03:15 by default) today, or tomorrow when it has passed, and stops on SIGTERM with 0', async () => {
    const r = await schedule(undefined, TWO_AM);
    expect(r.code, r.stderr).toBe(0);
    expect(lines('sleeps')).toEqual([String(75 * 60)]);
    expect(r.stdout).toContain('next backup at 03:15 UTC, in 4500 s');
    expect((await schedule('01:00', TWO_AM)).code).toBe(0);
    expect(lines('sleeps')).toEqual([String(23 * 3600)]);
    await schedule('08:09', TWO_AM);
    expect(lines('sleeps')).toEqual([String(6 * 3600 + 9 * 60)]);
    expect(lines('runs')).toEqual([]);
  });

  it('runs the backup after each wait; a failed backup is logged and the schedule goes on', async () => {
    const r = await schedule('03:15', TWO_AM, 3);
    expect(r.code).toBe(0);
    expect(lines('runs')).toEqual(['run', 'run']);
    expect(r.stderr).toContain('the backup failed (exit 3); next try tomorrow');
  });

  it.each(['24:00', '3:15', '03:60', 'noon', '03:15; rm -rf /'])('BACKUP_AT=%s is refused with exit 2', async (at) => {
    const r = await schedule(at, TWO_AM);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BACKUP_AT must be a UTC time HH:MM');
    expect(lines('sleeps')).toEqual([]);
  });
});

describe('the backup service in compose.prod.yaml', () => {
  type Service = { image: string; entrypoint: string[]; environment: Record<string, string>; volumes: string[]; networks: string[]; depends_on: Record<string, unknown> };
  const backupOf = async (overrides: Record<string, unknown>) => {
    const tree = await renderTree(configOf(overrides));
    return (parse(tree.get('compose.prod.yaml')!.content) as { services: Record<string, Service> }).services.backup;
  };

  it('runs the schedule in the postgres image, on the internal network, 30 days and 03:15 from .env', async () => {
    const backup = await backupOf({});
    expect(backup.image).toBe('postgres:18-alpine');
    expect(backup.entrypoint).toEqual(['/bin/sh', '/srv/scripts/backup-schedule.sh']);
    expect(backup.networks).toEqual(['backend']);
    expect(backup.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(backup.environment).toMatchObject({
      BACKUP_DUMP: 'direct',
      BACKUP_AT: '${BACKUP_AT:?set BACKUP_AT in .env}',
      BACKUP_RETENTION_DAYS: '${BACKUP_RETENTION_DAYS:?set BACKUP_RETENTION_DAYS in .env}',
      PGPASSWORD: '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}',
    });
    expect(backup.environment.BACKUP_METRICS_DIR).toBeUndefined();
    expect(backup.volumes).toEqual(['./scripts:/srv/scripts:ro', './backups:/srv/backups']);
    const tree = await renderTree(configOf());
    expect(tree.get('.env.example')!.content).toMatch(/^BACKUP_RETENTION_DAYS=30$/m);
    expect(tree.get('.env.example')!.content).toMatch(/^BACKUP_AT=03:15$/m);
  });

  it('with monitoring, hands its success time to node-exporter through the backup-metrics volume', async () => {
    const backup = await backupOf({ monitoring: 'prometheus' });
    expect(backup.environment.BACKUP_METRICS_DIR).toBe('/srv/metrics');
    expect(backup.volumes).toContain('backup-metrics:/srv/metrics');
    const tree = await renderTree(configOf({ monitoring: 'prometheus' }));
    const exporter = (parse(tree.get('compose.yaml')!.content, { merge: true }) as { services: Record<string, Service> }).services['node-exporter'];
    expect(exporter.volumes).toContain('backup-metrics:/textfile:ro');
  });

  it('no database: no backup service, no schedule script', async () => {
    expect(await backupOf({ database: 'none' })).toBeUndefined();
    expect((await renderTree(configOf({ database: 'none' }))).has('scripts/backup-schedule.sh')).toBe(false);
  });

  it.skipIf(!HAS.dockerCompose)('docker-compose config accepts compose.yaml + compose.prod.yaml with it, and refuses without BACKUP_AT', async () => {
    const dir = await writeStack(configOf({ monitoring: 'prometheus' }));
    removeLater(dir);
    expect((await dockerComposeConfig(dir, ['compose.yaml', 'compose.prod.yaml'])).ok).toBe(true);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    writeFileSync(join(dir, '.env'), env.replace(/^BACKUP_AT=.*$/m, ''));
    const r = await dockerComposeConfig(dir, ['compose.yaml', 'compose.prod.yaml']);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('set BACKUP_AT in .env');
  });
});
