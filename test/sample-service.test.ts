// Runs the sample service that generated repos ship against real PostgreSQL,
// Redis and RabbitMQ servers and checks /health, routing, WebSocket echo and
// graceful shutdown over real sockets.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, samples, startSample, type Sample } from './helpers/sample.js';
import {
  freePort,
  startPostgres,
  startRabbitMQ,
  startRedis,
  waitFor,
  type RunningPostgres,
  type RunningRabbitMQ,
  type RunningRedis,
} from './helpers/services.js';

const HOOK_MS = 60_000; // vitest 4 hooks take the timeout as a number

async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

let pg: RunningPostgres | undefined;
let redis: RunningRedis | undefined;
let rabbit: RunningRabbitMQ | undefined;
let starting: Promise<PromiseSettledResult<{ stop(): Promise<void> }>[]> | undefined;

beforeAll(async () => {
  starting = Promise.allSettled([startPostgres(), startRedis(`r-${randomBytes(6).toString('hex')}`), startRabbitMQ()]);
  const results = await starting;
  [pg, redis, rabbit] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as [RunningPostgres, RunningRedis, RunningRabbitMQ];
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason; // afterAll still stops whatever did start
}, HOOK_MS);

afterAll(async () => {
  await Promise.all([...samples].map((s) => s.stop()));
  // Await the starts even if beforeAll timed out, so late starters are stopped too.
  const results = (await starting) ?? [];
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
}, HOOK_MS);

const withPassword = (url: string, password: string) => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

describe('sample service /health', () => {
  it('is 200 with every configured dependency ok (PostgreSQL SCRAM, Redis AUTH, AMQP PLAIN)', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api', DATABASE_URL: pg!.url, REDIS_URL: redis!.url, AMQP_URL: rabbit!.url });
    const res = await getJson(`${s.base}/health`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', service: 'orders', kind: 'api' });
    expect(Object.keys(res.body.checks).sort()).toEqual(['cache', 'database', 'queue']);
    for (const check of Object.values<{ ok: boolean; latencyMs: number; error?: string }>(res.body.checks)) {
      expect(check).toEqual({ ok: true, latencyMs: expect.any(Number) });
    }
    const head = await fetch(`${s.base}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(s.output()).toContain(`"service":"orders","msg":"(api) listening on 127.0.0.1:${s.port}"`);
  });

  it('is 200 with empty checks when nothing is configured', async () => {
    const s = await startSample({});
    const res = await getJson(`${s.base}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', service: 'service', kind: 'api', checks: {} });
  });

  it('authenticates to PostgreSQL with trust, cleartext password and md5 too', async () => {
    await pg!.sql(
      "CREATE ROLE trust_user LOGIN; CREATE ROLE clear_user LOGIN PASSWORD 'clear-pw'; " +
        "SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD 'md5-pw';",
    );
    const hba = join(pg!.dataDir, 'pg_hba.conf');
    const rules = ['trust_user trust', 'clear_user password', 'md5_user md5'].map((r) => `host all ${r.replace(' ', ' 127.0.0.1/32 ')}`);
    await writeFile(hba, `${rules.join('\n')}\n${await readFile(hba, 'utf8')}`); // first match wins
    expect(await pg!.sql('SELECT pg_reload_conf()')).toBe('t');
    const base = `127.0.0.1:${pg!.port}/${pg!.database}`;
    const urls = { trust: `postgres://trust_user@${base}`, password: `postgres://clear_user:clear-pw@${base}`, md5: `postgres://md5_user:md5-pw@${base}`, badMd5: `postgres://md5_user:nope@${base}` };
    const results = await Promise.all(
      Object.entries(urls).map(async ([name, url]) => {
        const s = await startSample({ DATABASE_URL: url });
        return [name, await getJson(`${s.base}/health`)] as const;
      }),
    );
    const byName = Object.fromEntries(results);
    for (const name of ['trust', 'password', 'md5']) {
      expect(byName[name].status, `${name}: ${byName[name].text}`).toBe(200);
      expect(byName[name].body.checks.database.ok).toBe(true);
    }
    expect(byName.badMd5.status).toBe(503);
    expect(byName.badMd5.body.checks.database.error).toMatch(/password authentication failed for user "md5_user"/);
  });

  it('is 503 naming the database when the PostgreSQL password is wrong, others still ok', async () => {
    const s = await startSample({ DATABASE_URL: withPassword(pg!.url, 'wrong'), REDIS_URL: redis!.url, AMQP_URL: rabbit!.url });
    const res = await getJson(`${s.base}/health`);
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.checks.database).toMatchObject({ ok: false, error: expect.stringMatching(/28P01.*password authentication failed for user "app"/) });
    expect(res.body.checks.cache.ok).toBe(true);
    expect(res.body.checks.queue.ok).toBe(true);
  });

  it('is 503 naming cache and queue when the Redis and RabbitMQ credentials are wrong', async () => {
    const s = await startSample({ DATABASE_URL: pg!.url, REDIS_URL: withPassword(redis!.url, 'wrong'), AMQP_URL: withPassword(rabbit!.url, 'wrong') });
    const res = await getJson(`${s.base}/health`);
    expect(res.status).toBe(503);
    expect(res.body.checks.database).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(res.body.checks.cache).toMatchObject({ ok: false, error: expect.stringMatching(/WRONGPASS|invalid password/) });
    expect(res.body.checks.queue).toMatchObject({ ok: false, error: expect.stringMatching(/^403 ACCESS_REFUSED/) });
  });

  it('turns 503 when Redis goes down while the service runs, and HEAD agrees', async () => {
    const own = await startRedis();
    try {
      const s = await startSample({ DATABASE_URL: pg!.url, REDIS_URL: own.url, AMQP_URL: rabbit!.url });
      expect((await getJson(`${s.base}/health`)).status).toBe(200);
      await own.stop();
      const res = await getJson(`${s.base}/health`);
      expect(res.status).toBe(503);
      expect(res.body.checks.cache).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED/) });
      expect(res.body.checks.database.ok).toBe(true);
      expect(res.body.checks.queue.ok).toBe(true);
      expect((await fetch(`${s.base}/health`, { method: 'HEAD' })).status).toBe(503);
      await waitFor(() => s.output().includes('"level":"warn","service":"service","msg":"unhealthy","failing":{"cache":'), 2000, { what: 'transition log line' });
    } finally {
      await own.stop();
    }
  });

  it('times out a dependency that accepts but never answers', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const s = await startSample({ HEALTH_TIMEOUT_MS: '300', REDIS_URL: `redis://127.0.0.1:${port}`, DATABASE_URL: `postgres://app:x@127.0.0.1:${port}/app` });
      const started = Date.now();
      const res = await getJson(`${s.base}/health`);
      expect(Date.now() - started).toBeLessThan(2000); // checks run in parallel, each bounded
      expect(res.status).toBe(503);
      expect(res.body.checks.cache).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
      expect(res.body.checks.database).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
    } finally {
      silent.close();
    }
  });
});

describe('sample service probes: /livez never asks a dependency, /readyz asks those a request needs', () => {
  it('with every dependency down: /livez 200, /readyz and /health 503', async () => {
    const dead = `127.0.0.1:${await freePort()}`; // nothing listens there
    const s = await startSample({
      DATABASE_URL: `postgres://app:x@${dead}/app`,
      REDIS_URL: `redis://${dead}`,
      AMQP_URL: `amqp://app:x@${dead}/`,
      MEILI_URL: `http://${dead}`,
    });
    const live = await getJson(`${s.base}/livez`);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok', service: 'service', kind: 'api' });
    const ready = await getJson(`${s.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(Object.keys(ready.body.checks).sort()).toEqual(['cache', 'database', 'queue']);
    expect((await getJson(`${s.base}/health`)).status).toBe(503);
    // One JSON line per transition, naming what failed (src/log.js).
    await waitFor(() => s.output().includes('"level":"warn","service":"service","msg":"not ready","failing":{"database":'), 2000, { what: 'readiness transition log line' });
  });

  it('search down: ready (the pod still serves), /health reports it', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const s = await startSample({ DATABASE_URL: pg!.url, REDIS_URL: redis!.url, MEILI_URL: `http://${dead}` });
    const ready = await getJson(`${s.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.search).toBeUndefined();
    const report = await getJson(`${s.base}/health`);
    expect(report.status).toBe(503);
    expect(report.body.checks.search.ok).toBe(false);
  });

  it('a worker serves the probes too', async () => {
    const s = await startSample({ SERVICE_KIND: 'worker' });
    expect((await getJson(`${s.base}/livez`)).status).toBe(200);
    expect((await getJson(`${s.base}/readyz`)).status).toBe(200);
  });
});

describe('sample service HTTP-based checks (SQS, Meilisearch, OpenSearch) against local fakes', () => {
  const servers: net.Server[] = [];
  const listen = async (srv: net.Server) => {
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return (srv.address() as net.AddressInfo).port;
  };
  let good: string; // ListQueues -> 400 (unsigned request; still reachable), /health -> 200
  let bad: string; // everything -> 503
  let search: string; // HTTPS with a self-signed certificate
  let clusterStatus = 'yellow';
  const seen: { url?: string; authorization?: string }[] = [];

  beforeAll(async () => {
    good = `http://127.0.0.1:${await listen(
      http.createServer((req, res) => {
        if (req.url === '/?Action=ListQueues') return res.writeHead(400).end('<ErrorResponse/>');
        if (req.url === '/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"available"}');
        res.writeHead(404).end();
      }),
    )}`;
    bad = `http://127.0.0.1:${await listen(http.createServer((_req, res) => res.writeHead(503).end()))}`;
    const dir = await mkdtemp(join(tmpdir(), 'sample-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
      const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'))]);
      search = `https://127.0.0.1:${await listen(
        https.createServer({ key, cert }, (req, res) => {
          seen.push({ url: req.url, authorization: req.headers.authorization });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cluster_name: 'test', status: clusterStatus }));
        }),
      )}`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, HOOK_MS);

  afterAll(() => {
    for (const srv of servers) srv.close();
  });

  it('is 200 for a reachable SQS endpoint and a yellow OpenSearch cluster (basic auth, TLS verify off)', async () => {
    const s = await startSample({
      AWS_ENDPOINT_URL_SQS: `${good}/`, OPENSEARCH_URL: search, OPENSEARCH_USERNAME: 'admin', OPENSEARCH_PASSWORD: 's3cret:x', OPENSEARCH_TLS_VERIFY: 'false',
    });
    const res = await getJson(`${s.base}/health`);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body.checks).sort()).toEqual(['queue', 'search']);
    expect(seen.at(-1)).toEqual({ url: '/_cluster/health', authorization: `Basic ${Buffer.from('admin:s3cret:x').toString('base64')}` });
    clusterStatus = 'red';
    try {
      const red = await getJson(`${s.base}/health`);
      expect(red.status).toBe(503);
      expect(red.body.checks.search).toMatchObject({ ok: false, error: 'cluster status red' });
      expect(red.body.checks.queue.ok).toBe(true);
    } finally {
      clusterStatus = 'yellow';
    }
  });

  it('verifies TLS by default, so a self-signed OpenSearch certificate fails', async () => {
    const s = await startSample({ MEILI_URL: good, OPENSEARCH_URL: search });
    const res = await getJson(`${s.base}/health`);
    expect(res.status).toBe(503);
    expect(res.body.checks.search).toEqual({ ok: true, latencyMs: expect.any(Number) }); // Meilisearch /health
    expect(res.body.checks['search:OPENSEARCH_URL']).toMatchObject({ ok: false, error: expect.stringMatching(/self[- ]signed/i) });
  });

  it('is 503 when SQS answers 5xx or Meilisearch /health is not 200', async () => {
    const s = await startSample({ AWS_ENDPOINT_URL_SQS: bad, MEILI_URL: bad });
    const res = await getJson(`${s.base}/health`);
    expect(res.status).toBe(503);
    expect(res.body.checks).toMatchObject({ queue: { ok: false, error: 'HTTP 503' }, search: { ok: false, error: 'HTTP 503' } });
  });
});

describe('sample service routing', () => {
  it('a worker answers /health but 404 on / and /whoami', async () => {
    const s = await startSample({ SERVICE_NAME: 'mailer', SERVICE_KIND: 'worker' });
    const health = await getJson(`${s.base}/health`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', service: 'mailer', kind: 'worker' });
    for (const path of ['/', '/whoami', '/ws']) {
      const res = await getJson(`${s.base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body).toMatchObject({ error: 'not found' });
    }
  });

  it('an api answers /, /whoami (full or stripped prefix) and 404 JSON elsewhere', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api' });
    for (const path of ['/', '/api/']) {
      const root = await getJson(`${s.base}${path}`);
      expect(root.status, path).toBe(200);
      expect(root.type).toMatch(/^application\/json/);
      expect(root.body).toMatchObject({ service: 'orders', kind: 'api' });
    }
    const headers = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.test', 'x-real-ip': '203.0.113.7' };
    const who = await getJson(`${s.base}/api/whoami?x=1`, { headers });
    expect(who.status).toBe(200);
    expect(who.body).toEqual({ service: 'orders', path: '/api/whoami', headers: { host: `127.0.0.1:${s.port}`, ...headers } });
    const stripped = await getJson(`${s.base}/whoami`);
    expect(stripped.body).toMatchObject({ service: 'orders', path: '/whoami', headers: { 'x-forwarded-for': null } });
    const missing = await getJson(`${s.base}/api/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'not found', path: '/api/nope' });
    expect((await getJson(`${s.base}/health`, { method: 'POST' })).status).toBe(405);
  });

  it('a web service answers / with HTML naming it', async () => {
    const s = await startSample({ SERVICE_NAME: 'storefront', SERVICE_KIND: 'web' });
    const res = await getJson(`${s.base}/`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.text).toContain('<h1>storefront</h1>');
  });

  it('refuses to start without a valid PORT', async () => {
    const child = spawn(process.execPath, [SAMPLE], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(err).toContain('PORT must be an integer');
  });
});

// ---------------------------------------------------------------- WebSocket

/** Minimal RFC 6455 client: handshake, one masked text frame, collect the server's frames until it closes. */
async function wsEcho(port: number, path: string, message: string) {
  const key = randomBytes(16).toString('base64');
  const sock = net.connect({ host: '127.0.0.1', port });
  let buf = Buffer.alloc(0);
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  sock.on('data', (c) => (buf = Buffer.concat([buf, c])));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await waitFor(() => buf.includes('\r\n\r\n'), 3000, { what: 'handshake response' });
  const headEnd = buf.indexOf('\r\n\r\n') + 4;
  const head = buf.subarray(0, headEnd).toString();
  buf = buf.subarray(headEnd);
  const payload = Buffer.from(message);
  const mask = randomBytes(4);
  const len = payload.length;
  const header =
    len < 126 ? Buffer.from([0x81, 0x80 | len])
    : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255])
      : Buffer.concat([Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0]), Buffer.from([len >>> 24, (len >> 16) & 255, (len >> 8) & 255, len & 255])]);
  if (head.startsWith('HTTP/1.1 101')) sock.write(Buffer.concat([header, mask, payload.map((b, i) => b ^ mask[i & 3])]));
  await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
  sock.destroy();
  const frames: { fin: boolean; opcode: number; masked: boolean; payload: Buffer }[] = [];
  for (let off = 0; off < buf.length;) {
    let n = buf[off + 1] & 0x7f;
    let start = off + 2;
    if (n === 126) {
      n = buf.readUInt16BE(off + 2);
      start = off + 4;
    } else if (n === 127) {
      n = buf.readUInt32BE(off + 6);
      start = off + 10;
    }
    frames.push({ fin: !!(buf[off] & 0x80), opcode: buf[off] & 0x0f, masked: !!(buf[off + 1] & 0x80), payload: buf.subarray(start, start + n) });
    off = start + n;
  }
  const expectedAccept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return { head, frames, expectedAccept };
}

describe('sample service WebSocket echo', () => {
  let s: Sample;
  beforeAll(async () => {
    s = await startSample({ SERVICE_NAME: 'chat', SERVICE_KIND: 'api' });
  }, HOOK_MS);

  for (const [label, message] of [
    ['a short', 'hello, ws ✓'],
    ['a 16-bit-length', 'x'.repeat(300)],
    ['a 64-bit-length', 'y'.repeat(70_000)],
  ] as const) {
    it(`completes the handshake on .../ws and echoes ${label} text frame`, async () => {
      const { head, frames, expectedAccept } = await wsEcho(s.port, '/api/ws', message);
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/\r\nupgrade: websocket\r\n/i);
      expect(head).toContain(`\r\nSec-WebSocket-Accept: ${expectedAccept}\r\n`);
      expect(frames[0]).toMatchObject({ fin: true, opcode: 1, masked: false });
      expect(frames[0].payload.toString()).toBe(message);
      expect(frames[1]).toMatchObject({ opcode: 8, masked: false }); // then a normal close
      expect(frames[1].payload.readUInt16BE(0)).toBe(1000);
    });
  }

  it('rejects an upgrade on a path not ending in /ws', async () => {
    const { head, frames } = await wsEcho(s.port, '/api/chat', 'hi');
    expect(head).toMatch(/^HTTP\/1\.1 404 /);
    expect(frames).toEqual([]);
  });
});

describe('sample service shutdown', () => {
  it('exits 0 quickly on SIGTERM, even with an idle keep-alive connection open', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders' });
    const sock = net.connect({ host: '127.0.0.1', port: s.port });
    let response = '';
    sock.on('data', (c) => (response += c));
    sock.on('error', () => {});
    sock.write(`GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    await waitFor(() => response.includes('"status":"ok"'), 3000, { what: 'keep-alive response' });
    const started = Date.now();
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(s.output()).toContain('SIGTERM received');
    sock.destroy();
  });

  it('exits 0 on SIGINT as well', async () => {
    const s = await startSample({ SERVICE_KIND: 'worker' });
    s.child.kill('SIGINT');
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });
});
