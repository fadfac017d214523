// Sample service: a zero-dependency HTTP server (Node >= 20, built-ins only)
// whose /health endpoint really talks to each configured dependency, so a
// green health check means the wiring (hosts, ports, credentials) is right.
// Probes: /livez says the process answers (it checks no dependency, so an
// outage restarts nothing); /readyz says this instance can serve (the
// dependencies a request needs answer; search is left out: without it only
// search degrades). /health is the full report, for people and scripts.
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createLogger, requestId } from './log.js';
import { createMetrics } from './metrics.js';
import { checkS3 } from './s3.js';

const env = process.env;
const PORT = Number(env.PORT);
const NAME = env.SERVICE_NAME || 'service';
const KIND = env.SERVICE_KIND || 'api';
const HOST = env.HOST || '0.0.0.0';
const TIMEOUT_MS = Number(env.HEALTH_TIMEOUT_MS) || 2000;

const logger = createLogger(NAME, env.LOG_LEVEL); // JSON lines (src/log.js)
const log = (msg) => logger.info(msg);
const metrics = createMetrics(); // GET /metrics (src/metrics.js)

if (!/^\d+$/.test(env.PORT ?? '') || PORT > 65535) {
  logger.error(`PORT must be an integer between 0 and 65535 (got ${JSON.stringify(env.PORT)})`);
  process.exit(1);
}
if (!['api', 'web', 'worker'].includes(KIND)) {
  logger.error(`SERVICE_KIND must be api, web or worker (got ${JSON.stringify(KIND)})`);
  process.exit(1);
}

// ---------------------------------------------------------------- helpers

const hostOf = (u) => u.hostname.replace(/^\[|\]$/g, ''); // IPv6 literals come bracketed
const portOf = (u, dflt) => Number(u.port) || dflt;
const creds = (u) => ({ user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) });

// Opens a TCP connection and feeds received bytes to `consume(buf)`, which
// returns how many bytes it used (0 = need more). The protocol code calls
// `done(err, value, farewell)`; farewell bytes are flushed before closing.
function dial(host, port, signal, protocol) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (err, value, farewell) => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      if (farewell && !err) {
        sock.end(farewell);
        setTimeout(() => sock.destroy(), 1000).unref();
      } else sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const onAbort = () => done(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const session = protocol(sock, done);
    sock.on('connect', () => session.start());
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('connection closed by server')));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        let used;
        while (!finished && buf.length && (used = session.consume(buf)) > 0) buf = buf.subarray(used);
      } catch (err) {
        done(err);
      }
    });
  });
}

function httpGet(target, signal, { headers = {}, rejectUnauthorized = true } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    const mod = url.protocol === 'https:' ? https : http;
    // agent:false -> no keep-alive sockets outliving the check
    const req = mod.request(url, { headers, signal, rejectUnauthorized, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { if (body.length < 65536) body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- PostgreSQL (wire protocol v3)

function pgMessage(type, body) {
  const head = Buffer.alloc(type ? 5 : 4);
  if (type) head.write(type);
  head.writeInt32BE(body.length + 4, type ? 1 : 0);
  return Buffer.concat([head, body]);
}
const cstr = (s) => Buffer.from(`${s}\0`);
const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

function pgError(body) {
  const fields = {}; // 'E' body: (code byte, cstring)* terminated by 0
  for (let i = 0, end; body[i] && (end = body.indexOf(0, i + 1)) > 0; i = end + 1) {
    fields[String.fromCharCode(body[i])] = body.toString('utf8', i + 1, end);
  }
  return new Error(`${fields.S || 'ERROR'} ${fields.C || ''}: ${fields.M || 'unknown error'}`.replace(' :', ':'));
}

function checkPostgres(url, signal) {
  const u = new URL(url);
  const { user: rawUser, pass } = creds(u);
  const user = rawUser || 'postgres';
  const database = decodeURIComponent(u.pathname.slice(1)) || user;
  return dial(hostOf(u), portOf(u, 5432), signal, (sock, done) => {
    let scram; // { nonce, clientFirstBare, serverSignature }
    let querying = false;
    const needPassword = () => { if (!pass) throw new Error('server requires a password but DATABASE_URL has none'); };
    const auth = (body) => {
      const code = body.readInt32BE(0);
      if (code === 0) return; // AuthenticationOk
      if (code === 3) { needPassword(); return sock.write(pgMessage('p', cstr(pass))); }
      if (code === 5) { // md5(md5(password + user) + salt)
        needPassword();
        const inner = createHash('md5').update(pass + user).digest('hex');
        const outer = createHash('md5').update(inner).update(body.subarray(4, 8)).digest('hex');
        return sock.write(pgMessage('p', cstr(`md5${outer}`)));
      }
      if (code === 10) { // SASL: pick SCRAM-SHA-256 (we have no TLS, so no -PLUS)
        needPassword();
        if (!body.toString('utf8', 4).split('\0').includes('SCRAM-SHA-256')) throw new Error('no supported SASL mechanism');
        const nonce = randomBytes(18).toString('base64');
        const clientFirstBare = `n=*,r=${nonce}`; // server takes the user from the startup message
        const first = Buffer.from(`n,,${clientFirstBare}`);
        scram = { nonce, clientFirstBare };
        return sock.write(pgMessage('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(first.length), first])));
      }
      if (code === 11) { // SASLContinue: r=<nonce>,s=<salt>,i=<iterations>
        const serverFirst = body.toString('utf8', 4);
        const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
        if (!attrs.r?.startsWith(scram.nonce)) throw new Error('SCRAM: server nonce mismatch');
        const salted = pbkdf2Sync(pass, Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
        const clientKey = hmac(salted, 'Client Key');
        const storedKey = createHash('sha256').update(clientKey).digest();
        const finalNoProof = `c=biws,r=${attrs.r}`;
        const authMessage = `${scram.clientFirstBare},${serverFirst},${finalNoProof}`;
        const signature = hmac(storedKey, authMessage);
        const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
        scram.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
        return sock.write(pgMessage('p', Buffer.from(`${finalNoProof},p=${proof}`)));
      }
      if (code === 12) { // SASLFinal: verify the server knows the password too
        if (body.toString('utf8', 4) !== `v=${scram?.serverSignature}`) throw new Error('SCRAM: bad server signature');
        return;
      }
      throw new Error(`unsupported authentication method (code ${code})`);
    };
    return {
      start: () => {
        const params = Buffer.concat([int32(196608), cstr('user'), cstr(user), cstr('database'), cstr(database),
          cstr('application_name'), cstr(`${NAME}-health`), Buffer.from([0])]);
        sock.write(pgMessage('', params));
      },
      consume: (buf) => {
        if (buf.length < 5) return 0;
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return 0;
        const type = String.fromCharCode(buf[0]);
        const body = buf.subarray(5, len + 1);
        if (type === 'E') throw pgError(body);
        if (type === 'R') auth(body);
        else if (type === 'Z' && !querying) { querying = true; sock.write(pgMessage('Q', cstr('SELECT 1'))); }
        else if (type === 'C') done(null, true, pgMessage('X', Buffer.alloc(0))); // query completed
        return len + 1; // 'S', 'K', 'T', 'D', 'N' need no action
      },
    };
  });
}

// ---------------------------------------------------------------- Redis (RESP)

function checkRedis(url, signal) {
  const u = new URL(url);
  const { user, pass } = creds(u);
  const db = Number(u.pathname.slice(1)) || 0;
  const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const cmds = [];
  if (pass) cmds.push(user ? resp('AUTH', user, pass) : resp('AUTH', pass));
  if (db) cmds.push(resp('SELECT', String(db)));
  cmds.push(resp('PING'));
  return dial(hostOf(u), portOf(u, 6379), signal, (sock, done) => {
    let replies = 0;
    return {
      start: () => sock.write(cmds.join('')), // pipelined; the first error wins
      consume: (buf) => {
        const end = buf.indexOf('\r\n');
        if (end < 0) return 0;
        const line = buf.toString('utf8', 0, end);
        if (line[0] === '-') throw new Error(line.slice(1));
        if (++replies === cmds.length) {
          if (line === '+PONG') done(null, true, resp('QUIT'));
          else throw new Error(`unexpected PING reply: ${line}`);
        }
        return end + 2;
      },
    };
  });
}

// ---------------------------------------------------------------- RabbitMQ (AMQP 0-9-1)

const shortstr = (s) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length]), b]); };
const longstr = (b) => Buffer.concat([int32(b.length), b]);
const table = (...fields) => longstr(Buffer.concat(fields));

function checkAmqp(url, signal) {
  const u = new URL(url);
  const { user, pass } = creds(u);
  return dial(hostOf(u), portOf(u, 5672), signal, (sock, done) => ({
    start: () => sock.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')),
    consume: (buf) => {
      if (buf.toString('latin1', 0, 4) === 'AMQP') throw new Error('server rejected AMQP 0-9-1 protocol header');
      if (buf.length < 7) return 0;
      const size = buf.readUInt32BE(3);
      if (buf.length < size + 8) return 0;
      if (buf[0] !== 1) return size + 8; // only method frames matter here
      const method = `${buf.readUInt16BE(7)}.${buf.readUInt16BE(9)}`;
      if (method === '10.10') { // Connection.Start -> Start-Ok with PLAIN
        // authentication_failure_close makes RabbitMQ send Connection.Close with
        // a reason on bad credentials instead of silently dropping the socket.
        const caps = table(shortstr('authentication_failure_close'), Buffer.from('t\x01', 'latin1'));
        const props = table(shortstr('product'), Buffer.from('S'), longstr(Buffer.from(`${NAME}-health`)),
          shortstr('capabilities'), Buffer.from('F'), caps);
        const payload = Buffer.concat([Buffer.from([0, 10, 0, 11]), props, shortstr('PLAIN'),
          longstr(Buffer.from(u.username ? `\0${user}\0${pass}` : '\0guest\0guest')), shortstr('en_US')]);
        const frame = Buffer.concat([Buffer.from([1, 0, 0]), int32(payload.length), payload, Buffer.from([0xce])]);
        sock.write(frame);
      } else if (method === '10.30') { // Connection.Tune: credentials accepted
        done(null, true);
      } else if (method === '10.50') { // Connection.Close: reply-code, reply-text
        const code = buf.readUInt16BE(11);
        throw new Error(`${code} ${buf.toString('utf8', 14, 14 + buf[13])}`);
      }
      return size + 8;
    },
  }));
}

// ---------------------------------------------------------------- HTTP-based dependencies

const trimSlash = (s) => s.replace(/\/+$/, '');

async function checkSqs(endpoint, signal) { // any status < 500 (even "missing signature") proves it is reachable
  const { status } = await httpGet(`${trimSlash(endpoint)}/?Action=ListQueues`, signal);
  if (status >= 500) throw new Error(`HTTP ${status}`);
}

async function checkMeili(base, signal) {
  const { status } = await httpGet(`${trimSlash(base)}/health`, signal);
  if (status !== 200) throw new Error(`HTTP ${status}`);
}

async function checkOpenSearch(base, signal) {
  const headers = {};
  if (env.OPENSEARCH_USERNAME) {
    const token = Buffer.from(`${env.OPENSEARCH_USERNAME}:${env.OPENSEARCH_PASSWORD || ''}`).toString('base64');
    headers.authorization = `Basic ${token}`;
  }
  const rejectUnauthorized = env.OPENSEARCH_TLS_VERIFY !== 'false'; // demo cluster uses a self-signed cert
  const res = await httpGet(`${trimSlash(base)}/_cluster/health`, signal, { headers, rejectUnauthorized });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const { status } = JSON.parse(res.body);
  if (status !== 'green' && status !== 'yellow') throw new Error(`cluster status ${status}`);
}

function checkStorage(bucket, signal) { // src/s3.js: a HeadBucket, signed when AWS keys are set
  return checkS3(bucket, env, signal);
}

// Only configured dependencies are checked. If two share a name (e.g. both
// AMQP and SQS), the second is reported as "<name>:<variable>".
const CHECKS = {};
for (const [name, variable, fn] of [
  ['database', 'DATABASE_URL', checkPostgres],
  ['cache', 'REDIS_URL', checkRedis],
  ['queue', 'AMQP_URL', checkAmqp],
  ['queue', 'AWS_ENDPOINT_URL_SQS', checkSqs],
  ['search', 'MEILI_URL', checkMeili],
  ['search', 'OPENSEARCH_URL', checkOpenSearch],
  ['storage', 'S3_BUCKET', checkStorage],
]) {
  if (env[variable]) CHECKS[name in CHECKS ? `${name}:${variable}` : name] = (signal) => fn(env[variable], signal);
}

async function runCheck(fn) {
  const started = Date.now();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  // Racing against the abort guarantees the deadline even if a check ignores the signal.
  const aborted = new Promise((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason)));
  try {
    await Promise.race([fn(ac.signal), aborted]);
    return { ok: true, latencyMs: Date.now() - started };
  } catch (err) {
    return { ok: false, latencyMs: Date.now() - started, error: err?.message || String(err) };
  } finally {
    clearTimeout(timer);
    ac.abort(); // releases anything still open
  }
}

// A search outage degrades search only: it does not take the instance out of rotation.
const REPORTS = { health: Object.keys(CHECKS), readyz: Object.keys(CHECKS).filter((n) => !n.startsWith('search')) };
const WORDS = { health: ['healthy again', 'unhealthy'], readyz: ['ready again', 'not ready'] };
const lastOk = { health: true, readyz: true };

async function health(report) {
  const names = REPORTS[report];
  const results = await Promise.all(names.map((n) => runCheck(CHECKS[n])));
  const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
  const ok = results.every((r) => r.ok);
  if (ok !== lastOk[report]) { // log transitions only: health probes are frequent
    lastOk[report] = ok;
    if (ok) logger.info(WORDS[report][0]);
    else logger.warn(WORDS[report][1], { failing: Object.fromEntries(names.filter((n) => !checks[n].ok).map((n) => [n, checks[n].error])) });
  }
  return { ok, body: { status: ok ? 'ok' : 'unavailable', service: NAME, kind: KIND, checks } };
}

// ---------------------------------------------------------------- HTTP server

// Health and diagnostics are never cached; the root page may be, briefly (a gateway cache can show it).
function send(req, res, status, body, type = 'application/json; charset=utf-8', cache = 'no-store') {
  const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { 'content-type': type, 'content-length': data.length, 'cache-control': cache });
  res.end(req.method === 'HEAD' ? undefined : data);
}

// The gateway may forward "/api/whoami" or strip it to "/whoami": route on the last segment.
function route(req) {
  let path;
  try { path = new URL(req.url, 'http://localhost').pathname; } catch { return { path: req.url, last: '' }; } // -> 404
  const last = path.slice(path.lastIndexOf('/') + 1);
  return { path, last: last === '' ? '/' : last };
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Bounded label values: the raw path would make a series per URL.
const ROUTES = new Set(['/', 'health', 'livez', 'readyz', 'whoami', 'ws', 'metrics']);
const PROBES = new Set(['health', 'livez', 'readyz']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

async function onRequest(req, res) {
  const { path, last } = route(req);
  // For Prometheus inside the network only: the gateway adds X-Forwarded-For, so /api/metrics from
  // outside is a 404 like any unknown path.
  if (path === '/metrics' && req.headers['x-forwarded-for'] === undefined) {
    return send(req, res, 200, metrics.text(), 'text/plain; version=0.0.4; charset=utf-8');
  }
  const known = ['health', 'livez', 'readyz'].includes(last) || (KIND !== 'worker' && (last === '/' || last === 'whoami'));
  if (!known) return send(req, res, 404, { error: 'not found', service: NAME, path });
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, { error: 'method not allowed' });
  if (last === 'livez') return send(req, res, 200, { status: 'ok', service: NAME, kind: KIND });
  if (last === 'health' || last === 'readyz') {
    const { ok, body } = await health(last);
    return send(req, res, ok ? 200 : 503, body);
  }
  if (last === 'whoami') {
    const pick = ['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip'];
    return send(req, res, 200, { service: NAME, path, headers: Object.fromEntries(pick.map((h) => [h, req.headers[h] ?? null])) });
  }
  if (KIND === 'web') {
    const n = escapeHtml(NAME);
    return send(req, res, 200, `<!doctype html><html><head><meta charset="utf-8"><title>${n}</title></head><body><h1>${n}</h1><p>Web service is running.</p></body></html>\n`, 'text/html; charset=utf-8', 'public, max-age=10');
  }
  return send(req, res, 200, { service: NAME, kind: KIND, message: `${NAME} is running` }, undefined, 'public, max-age=10');
}

// ---------------------------------------------------------------- WebSocket echo (RFC 6455)

const wsSockets = new Set();
const wsFrame = (opcode, payload) => {
  const len = payload.length; // server frames are never masked
  const head = len < 126 ? Buffer.from([0x80 | opcode, len])
    : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127, 0, 0, 0, 0]), int32(len)]); // we never send > 1 MiB
  return Buffer.concat([head, payload]);
};

function onUpgrade(req, socket, head) {
  const reject = (status, text) => socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  const key = req.headers['sec-websocket-key'];
  if (KIND === 'worker' || route(req).last !== 'ws') return reject(404, 'Not Found');
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || !key) return reject(400, 'Bad Request');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  wsSockets.add(socket);
  socket.on('close', () => wsSockets.delete(socket));
  socket.on('error', () => socket.destroy());
  let buf = head;
  const parts = [];
  const closeWith = (code) => socket.end(wsFrame(8, Buffer.from([code >> 8, code & 255])));
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const fin = buf[0] & 0x80, opcode = buf[0] & 0x0f, masked = buf[1] & 0x80;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (!masked) return closeWith(1002); // clients must mask
      if (len > 1 << 20) return closeWith(1009);
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len)).map((b, i) => b ^ mask[i & 3]);
      buf = buf.subarray(off + 4 + len);
      if (opcode === 8) return closeWith(1000);
      if (opcode === 9) { socket.write(wsFrame(10, payload)); continue; }
      if (opcode === 1 || (opcode === 0 && parts.length)) {
        parts.push(payload);
        if (fin) { // echo the first complete text message, then close politely
          socket.off('data', onData);
          socket.write(wsFrame(1, Buffer.concat(parts)));
          return closeWith(1000);
        }
      }
    }
  };
  socket.on('data', onData);
  if (head.length) onData(Buffer.alloc(0));
}

// ---------------------------------------------------------------- lifecycle

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  const id = requestId(req.headers['x-request-id'], randomUUID);
  res.setHeader('x-request-id', id);
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { path, last } = route(req);
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    metrics.observe({ route: ROUTES.has(last) ? last : 'unmatched', method, status: res.statusCode }, seconds);
    // Probes and scrapes come every few seconds: debug, so LOG_LEVEL=info keeps the logs readable.
    const level = PROBES.has(last) || path === '/metrics' ? 'debug' : 'info';
    logger[level]('request', { request_id: id, method: req.method, path, status: res.statusCode, duration_ms: Math.round(seconds * 1e6) / 1e3 });
  });
  onRequest(req, res).catch((err) => {
    logger.error('request failed', { request_id: id, error: String(err?.stack || err) });
    if (!res.headersSent) send(req, res, 500, { error: 'internal error' });
    else res.destroy();
  });
});
server.on('upgrade', onUpgrade);
server.on('error', (err) => { logger.error(err.message); process.exit(1); });

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  log(`(${KIND}) listening on ${HOST}:${port}`);
  process.send?.('ready'); // PM2 wait_ready
  if (KIND === 'worker') setInterval(() => log('worker alive'), 30_000).unref();
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, shutting down`);
  // Last resort if something keeps the server open; unref'd so it never delays a clean exit.
  setTimeout(() => { log('shutdown timed out, forcing exit'); process.exit(1); }, 10_000).unref();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  for (const s of wsSockets) s.destroy();
  setTimeout(() => server.closeAllConnections(), 2000).unref(); // give in-flight requests a moment
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
