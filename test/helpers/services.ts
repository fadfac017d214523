// Test helpers that run real PostgreSQL / Redis / RabbitMQ servers on free
// loopback ports, each in its own temp dir, and tear them down completely.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RunningService {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface RunningRedis extends RunningService {
  password?: string;
}

export interface RunningPostgres extends RunningService {
  user: string;
  password: string;
  database: string;
  /** The cluster's data directory (pg_hba.conf lives here). */
  dataDir: string;
  /** Runs SQL with psql as the `app` superuser; resolves with psql's unaligned, tuples-only output. */
  sql(query: string): Promise<string>;
}

export interface RunningRabbitMQ extends RunningService {
  user: string;
  password: string;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a truthy value (or resolves to one); throws after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  { intervalMs = 100, what = 'condition' }: { intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const randomId = (bytes = 6) => randomBytes(bytes).toString('hex');

/** Absolute path of a binary (given absolute candidates and/or a name looked up on PATH), or a clear error. */
export function requireBinary(name: string, candidates: string[] = []): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const file of [...candidates, ...dirs.map((d) => join(d, name))]) {
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      /* try the next one */
    }
  }
  throw new Error(
    `required binary "${name}" is not installed (looked in ${[...candidates, 'PATH'].join(', ')}); ` +
      'install it (e.g. apt-get install postgresql redis-server rabbitmq-server) to run these tests',
  );
}

// ----------------------------------------------------------------------------
// Process bookkeeping: everything we spawn is detached into its own process
// group and tracked here. On worker exit (or SIGTERM/SIGINT/SIGHUP, which a
// test runner uses to stop workers and which skip 'exit' handlers) tracked
// groups are SIGKILLed and temp dirs removed, so that a crashed or timed-out
// test never leaves servers behind.

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // works when the child leads its own group (detached)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', cleanup);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      // Then let the signal take its default course, unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/**
 * Registers a child process (ideally spawned with `detached: true`) to be
 * SIGKILLed, with its process group, if this process exits or is signalled
 * before the child has exited.
 */
export function killOnExit<T extends ChildProcess>(child: T): T {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function makeTempDir(prefix: string, base = tmpdir()): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(join(base, prefix));
  tempDirs.add(dir);
  return dir;
}

async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

interface Spawned {
  child: ChildProcess;
  /** Last ~64 KiB of combined stdout/stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string | null>;
}

function start(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Spawned {
  const child = killOnExit(
    spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  const collect = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-65536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', (err) => {
      out += `\n${err.message}`;
      resolve(null);
    });
  });
  return { child, output: () => out, exited };
}

const isRunning = (s: Spawned) => s.child.exitCode === null && s.child.signalCode === null;

/**
 * Sends `signal` (if any) to the process group, escalates to SIGKILL after
 * `graceMs`, and waits for exit.
 */
async function terminate(s: Spawned, signal: NodeJS.Signals | undefined, graceMs = 10_000): Promise<void> {
  if (!isRunning(s)) return;
  if (signal) killGroup(s.child, signal);
  const timer = setTimeout(() => killGroup(s.child, 'SIGKILL'), graceMs);
  await s.exited;
  clearTimeout(timer);
  // The leader is gone; make sure no stragglers of its group survive.
  killGroup(s.child, 'SIGKILL');
}

async function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { env: env ?? process.env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
  }
}

/** Runs `body`; if it throws, runs `cleanup` (ignoring its errors) and rethrows. */
async function orCleanup<T>(body: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

// ----------------------------------------------------------------------------
// PostgreSQL

const PG_BIN = '/usr/lib/postgresql/15/bin';

async function pgUserIds(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but the "postgres" OS user does not exist (PostgreSQL refuses to run as root)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts a throwaway PostgreSQL server on 127.0.0.1 with SCRAM-SHA-256 auth,
 * user `app` (random password) and database `app`.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const initdb = requireBinary('initdb', [`${PG_BIN}/initdb`]);
  const postgres = requireBinary('postgres', [`${PG_BIN}/postgres`]);
  const pgIsReady = requireBinary('pg_isready', [`${PG_BIN}/pg_isready`]);
  const createdb = requireBinary('createdb', [`${PG_BIN}/createdb`]);
  const psql = requireBinary('psql', [`${PG_BIN}/psql`]);
  const root = asRoot();
  const runuser = root ? requireBinary('runuser', ['/usr/sbin/runuser', '/sbin/runuser']) : '';
  // As root, drop to the postgres OS user: PostgreSQL refuses to run as root.
  const asPg = (cmd: string, args: string[]): [string, string[]] => (root ? [runuser, ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

  const user = 'app';
  const database = 'app';
  const password = randomId(12);
  // As root the postgres user must be able to reach the dir: /tmp is world-traversable, $TMPDIR may not be.
  const dir = await makeTempDir('pgtest-', root ? '/tmp' : tmpdir());
  const data = join(dir, 'data');
  let server: Spawned | undefined;

  const stop = async () => {
    if (server && isRunning(server)) {
      // SIGINT to the postmaster itself = fast shutdown. Under runuser the
      // spawned pid is runuser's, so take the real pid from postmaster.pid.
      const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          /* already exiting */
        }
      }
      await terminate(server, pid > 0 ? undefined : 'SIGINT', 10_000); // SIGKILL after 10 s
    }
    await removeTempDir(dir);
  };

  return orCleanup(async () => {
    await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (root) {
      const { uid, gid } = await pgUserIds();
      await chown(dir, uid, gid);
      await chown(join(dir, 'pwfile'), uid, gid);
    }
    await run(...asPg(initdb, ['-D', data, '-U', user, '--auth=scram-sha-256', `--pwfile=${join(dir, 'pwfile')}`, '-E', 'UTF8', '--no-sync', '--no-instructions']));

    const port = await freePort();
    server = start(
      ...asPg(postgres, ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']),
    );
    const pgEnv = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' };
    const s = server;
    await waitFor(
      async () => {
        if (!isRunning(s)) throw new Error(`postgres exited early:\n${s.output()}`);
        try {
          await execFileAsync(pgIsReady, ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres'], { env: pgEnv });
          return true;
        } catch {
          return false;
        }
      },
      20_000,
      { what: `PostgreSQL on port ${port}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${s.output()}`);
    });
    await run(createdb, ['-h', '127.0.0.1', '-p', String(port), '-U', user, database], pgEnv);
    const url = `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
    const sql = (query: string) =>
      run(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAtc', query], pgEnv).then((o) => o.trim());
    return { url, port, user, password, database, dataDir: data, sql, stop };
  }, stop);
}

// ----------------------------------------------------------------------------
// Redis

/** Resolves true if a TCP connection to 127.0.0.1:`port` succeeds. */
export function tcpOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('connect', () => finish(true));
    sock.on('error', () => finish(false));
  });
}

/** Resolves true when a RESP `PING` (after `AUTH` if a password is given) answers `+PONG`. */
export function redisPing(port: number, password?: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const finish = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    const auth = password ? `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n` : '';
    sock.on('connect', () => sock.write(`${auth}*1\r\n$4\r\nPING\r\n`));
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      if (buf.includes('+PONG\r\n')) finish(true);
      else if (buf.includes('-')) finish(false);
    });
  });
}

/** Starts a throwaway redis-server on 127.0.0.1 (no persistence), with `requirepass` when a password is given. */
export async function startRedis(password?: string): Promise<RunningRedis> {
  const bin = requireBinary('redis-server', ['/usr/bin/redis-server']);
  const dir = await makeTempDir('redistest-');
  let server: Spawned | undefined;
  const stop = async () => {
    if (server) await terminate(server, 'SIGTERM', 5000);
    await removeTempDir(dir);
  };
  return orCleanup(async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
    if (password) args.push('--requirepass', password);
    server = start(bin, args, { cwd: dir });
    const s = server;
    await waitFor(
      async () => {
        if (!isRunning(s)) throw new Error(`redis-server exited early:\n${s.output()}`);
        return redisPing(port, password);
      },
      20_000,
      { what: `Redis on port ${port}` },
    );
    const auth = password ? `:${encodeURIComponent(password)}@` : '';
    return { url: `redis://${auth}127.0.0.1:${port}`, port, password, stop };
  }, stop);
}

// ----------------------------------------------------------------------------
// RabbitMQ

const RABBIT_BIN = '/usr/lib/rabbitmq/bin';

/**
 * Starts a throwaway RabbitMQ node (no plugins) with its own epmd, a random
 * node name and a random default user/password. Boot takes several seconds.
 */
export async function startRabbitMQ({ timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<RunningRabbitMQ> {
  const serverBin = requireBinary('rabbitmq-server', [`${RABBIT_BIN}/rabbitmq-server`]);
  const diagnostics = requireBinary('rabbitmq-diagnostics', [`${RABBIT_BIN}/rabbitmq-diagnostics`]);
  const epmdBin = requireBinary('epmd', ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd']);

  const dir = await makeTempDir('rabbittest-');
  const user = `u${randomId(4)}`;
  const password = randomId(12);
  const nodename = `rabbit-${randomId(4)}@localhost`;
  let epmd: Spawned | undefined;
  let server: Spawned | undefined;

  const stop = async () => {
    // The server script execs beam.smp, which spawns helpers in the same group.
    if (server) await terminate(server, 'SIGTERM', 10_000);
    if (epmd) await terminate(epmd, 'SIGTERM', 2000);
    await removeTempDir(dir);
  };

  return orCleanup(async () => {
    const [epmdPort, port, distPort] = await distinctFreePorts(3);
    epmd = start(epmdBin, ['-port', String(epmdPort), '-address', '127.0.0.1']);

    const conf = join(dir, 'rabbitmq.conf');
    await writeFile(
      conf,
      [
        `default_user = ${user}`,
        `default_pass = ${password}`,
        'loopback_users = none',
        `listeners.tcp.default = 127.0.0.1:${port}`,
        'log.console = true',
        'log.console.level = warning',
        'log.file = false',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'enabled_plugins'), '[].\n');
    await writeFile(join(dir, 'rabbitmq-env.conf'), '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: dir, // own .erlang.cookie, shared by server and CLI
      ERL_EPMD_PORT: String(epmdPort),
      RABBITMQ_NODENAME: nodename,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: conf,
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'), // ignore /etc/rabbitmq/rabbitmq-env.conf
      RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
      // Keep Erlang distribution on loopback too (it listens on all interfaces by default).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
    const deadline = Date.now() + timeoutMs;
    server = start(serverBin, [], { env, cwd: dir });
    const s = server;
    await waitFor(
      async () => {
        if (!isRunning(s)) throw new Error(`rabbitmq-server exited early:\n${s.output()}`);
        try {
          await execFileAsync(diagnostics, ['-q', '-n', nodename, 'ping'], { env, timeout: 10_000, killSignal: 'SIGKILL' });
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      { intervalMs: 500, what: `RabbitMQ node ${nodename}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${s.output()}`);
    });
    // `ping` answers once the Erlang node is up; the AMQP listener opens a
    // second or two later, after the default user exists.
    await waitFor(() => tcpOpen(port), Math.max(5000, deadline - Date.now()), { what: `RabbitMQ AMQP listener on port ${port}` });
    return { url: `amqp://${user}:${password}@127.0.0.1:${port}/`, port, user, password, stop };
  }, stop);
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

// ----------------------------------------------------------------------------
// Any HTTP daemon (Prometheus, exporters)

/**
 * Starts a daemon listening on 127.0.0.1 and resolves once `readyPath` on `port` answers 200.
 * Stopped with SIGTERM, SIGKILL after 5 s.
 */
export async function startHttpDaemon(
  cmd: string,
  args: string[],
  port: number,
  readyPath: string,
  env?: NodeJS.ProcessEnv,
): Promise<RunningService & { output(): string }> {
  const server = start(requireBinary(cmd), args, { env });
  const stop = () => terminate(server, 'SIGTERM', 5000);
  const url = `http://127.0.0.1:${port}`;
  return orCleanup(async () => {
    await waitFor(
      async () => {
        if (!isRunning(server)) throw new Error(`${cmd} exited:\n${server.output()}`);
        const res = await fetch(url + readyPath).catch(() => null);
        return res?.ok ? true : undefined;
      },
      30_000,
      { what: `${cmd} on ${url}${readyPath}` },
    );
    return { url, port, stop, output: server.output };
  }, stop);
}
