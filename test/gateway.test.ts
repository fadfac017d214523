// The nginx gateway for real: Debian's nginx, with the generated config rendered for its
// version and the certificate from the generated scripts/dev-certs.sh, in front of the sample
// services, all inside a network namespace made by the test (so it can bind 80 and 443).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from './helpers/services.js';
import { configOf, writeStack } from './helpers/stack.js';
import { tool } from './helpers/tools.js';
import { installedNginxVersion, kongConfigProblems, nssWrapperLibrary } from './helpers/validators.js';

const DOMAIN = 'gw.localhost';
const available = tool('nginx') && tool('ip') && tool('curl') && tool('openssl');

describe.skipIf(!available)('nginx gateway, running', () => {
  const ns = `infra-stack-gw-${process.pid}`;
  const children: ChildProcess[] = [];
  let stack: string;
  let prefix: string;

  /** A command inside the namespace; never throws, returns what happened. */
  const inNs = (command: string, args: string[], input?: string) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', input, timeout: 15_000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  /** curl inside the namespace, the domain pinned to loopback, certificate checked against the dev CA. */
  const curl = (...args: string[]) =>
    inNs('curl', ['-sS', '--cacert', join(stack, 'certs/live', DOMAIN, 'fullchain.pem'), '--resolve', `${DOMAIN}:443:127.0.0.1`, '--resolve', `${DOMAIN}:80:127.0.0.1`, ...args]);
  const headers = (text: string) =>
    new Map(
      text
        .split('\r\n')
        .filter((l) => l.includes(':') && !l.startsWith('HTTP/'))
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
    );
  const https = (path: string) => `https://${DOMAIN}${path}`;

  beforeAll(async () => {
    const version = installedNginxVersion();
    if (!version) throw new Error('nginx -v printed no version');
    const config = configOf(
      {
        nginxVersion: version,
        domain: DOMAIN,
        services: [
          { name: 'api', kind: 'api', port: 3000, cache: true },
          { name: 'web', kind: 'web', port: 3001 },
          { name: 'jobs', kind: 'worker', port: 3002 },
        ],
      },
      'gw',
    );
    stack = await writeStack(config);
    const certs = spawnSync('sh', ['scripts/dev-certs.sh'], { cwd: stack, encoding: 'utf8' });
    expect(certs.status, certs.stderr).toBe(0);

    // nginx reads its config from a copy: nginx.conf, conf.d/, snippets/, certs/, and Debian's mime.types.
    prefix = mkdtempSync(join(tmpdir(), 'infra-stack-gw-'));
    cpSync(join(stack, 'nginx'), prefix, { recursive: true });
    cpSync(join(stack, 'certs'), join(prefix, 'certs'), { recursive: true });
    cpSync('/etc/nginx/mime.types', join(prefix, 'mime.types'));
    writeFileSync(join(prefix, 'hosts'), '127.0.0.1 api\n127.0.0.1 web\n127.0.0.1 localhost\n');

    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    expect(inNs('ip', ['link', 'set', 'lo', 'up']).code).toBe(0);

    // The sample serves no files: web gets a stand-in for its built assets (names starting "served" or "index-").
    const assets = join(prefix, 'assets.mjs');
    writeFileSync(
      assets,
      `import http from 'node:http';
const create = http.createServer;
http.createServer = (handler) => create((req, res) =>
  /^\\/assets\\/(served|index-)/.test(req.url) ? res.writeHead(200, { 'cache-control': 'public, max-age=60' }).end('x') : handler(req, res));
`,
    );
    for (const s of config.services) {
      const preload = s.kind === 'web' ? ['--import', assets] : [];
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...preload, join(stack, 'services', s.name, 'src/index.js')], {
        env: { PATH: process.env.PATH, PORT: String(s.port), SERVICE_NAME: s.name, SERVICE_KIND: s.kind, HOST: '127.0.0.1' },
        stdio: 'ignore',
      });
      children.push(child);
    }
    const log = join(prefix, 'nginx.log');
    const nginx = spawn(
      'ip',
      ['netns', 'exec', ns, 'nginx', '-e', 'stderr', '-c', join(prefix, 'nginx.conf'), '-p', `${prefix}/`, '-g', 'daemon off;'],
      // Files, not pipes: node's pipes are sockets, which nginx cannot open as /dev/stderr.
      { env: { ...process.env, LD_PRELOAD: nssWrapperLibrary(), NSS_WRAPPER_HOSTS: join(prefix, 'hosts') }, stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] },
    );
    children.push(nginx);
    await waitFor(() => curl('-o', '/dev/null', '-w', '%{http_code}', https('/api/health')).stdout === '200', 20_000, {
      what: 'nginx and the samples to answer',
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nnginx log:\n${readFileSync(log, 'utf8')}`);
    });
  }, 60_000);

  afterAll(async () => {
    for (const child of children.reverse()) child.kill(child.spawnargs.includes('nginx') ? 'SIGQUIT' : 'SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    spawnSync('ip', ['netns', 'del', ns]);
    if (prefix) rmSync(prefix, { recursive: true, force: true });
    if (stack) rmSync(stack, { recursive: true, force: true });
  }, 30_000);

  it('serves HTTP/2 over TLS 1.3 with a certificate from scripts/dev-certs.sh', () => {
    const r = curl('-v', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', https('/healthz'));
    expect(r.stdout).toBe('2 200');
    expect(r.stderr).toMatch(/SSL connection using TLSv1\.3/);
  });

  it('accepts TLS 1.2 and refuses TLS 1.1', () => {
    const tls12 = inNs('openssl', ['s_client', '-connect', '127.0.0.1:443', '-servername', DOMAIN, '-tls1_2'], 'Q\n');
    expect(tls12.stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/);
    // The client offers TLS 1.1 (security level 0 lets OpenSSL 3 do so); the server must say no.
    const tls11 = inNs('openssl', ['s_client', '-connect', '127.0.0.1:443', '-servername', DOMAIN, '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'], 'Q\n');
    expect(tls11.code).not.toBe(0);
    expect(tls11.stderr + tls11.stdout).toMatch(/alert protocol version|unsupported protocol|wrong version number/);
    expect(tls11.stderr + tls11.stdout).not.toMatch(/no protocols available/);
  });

  it('redirects port 80 to https, keeping the path and query', () => {
    const r = curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://${DOMAIN}/api/items?page=2&sort=name`);
    expect(r.stdout).toBe(`308 https://${DOMAIN}/api/items?page=2&sort=name`);
    expect(curl('-o', '/dev/null', '-w', '%{http_code}', `http://${DOMAIN}/healthz`).stdout).toBe('200');
  });

  const SECURITY_HEADERS = [
    'strict-transport-security',
    'x-content-type-options',
    'x-frame-options',
    'referrer-policy',
    'content-security-policy',
    'permissions-policy',
  ];
  it.each([
    ['a proxied 200', '/api/whoami', 200],
    ['a 404 from a service', '/api/nothing-here', 404],
    ['a denied dotfile', '/.env', 403],
    ['a static asset', '/app.js', 404],
    ['the gateway health', '/healthz', 200],
  ])('puts the security headers on %s', (_label, path, status) => {
    const r = curl('-D', '-', '-o', '/dev/null', https(path));
    expect(r.stdout).toMatch(new RegExp(`^HTTP/2 ${status}`));
    const h = headers(r.stdout);
    for (const name of SECURITY_HEADERS) expect(h.get(name), name).toBeTruthy();
    expect(Number(/max-age=(\d+)/.exec(h.get('strict-transport-security')!)![1])).toBeGreaterThanOrEqual(31536000);
    expect(h.get('server')).toBe('nginx');
  });

  it('routes each path to its own service with the forwarding headers', () => {
    const api = JSON.parse(curl(https('/api/whoami')).stdout);
    expect(api.service).toBe('api');
    expect(api.path).toBe('/api/whoami');
    expect(api.headers).toMatchObject({ host: DOMAIN, 'x-forwarded-proto': 'https', 'x-forwarded-host': DOMAIN, 'x-real-ip': '127.0.0.1' });
    const web = JSON.parse(curl(https('/whoami')).stdout);
    expect(web.service).toBe('web');
    expect(curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', https('/api')).stdout).toBe(`308 https://${DOMAIN}/api/`);
  });

  it('caches a fingerprinted asset for a year only when it was served: not an error, not an unhashed name', () => {
    const cacheControl = (path: string, status: number) => {
      const r = curl('-D', '-', '-o', '/dev/null', https(path));
      expect(r.stdout, path).toMatch(new RegExp(`^HTTP/2 ${status}`));
      return headers(r.stdout).get('cache-control');
    };
    expect(cacheControl('/assets/served.3f9a1c2b.js', 200)).toBe('public, max-age=31536000, immutable');
    expect(cacheControl('/assets/index-B1x9Qz4k.css', 200)).toBe('public, max-age=31536000, immutable');
    // A 404 of a fingerprinted name keeps the service's no-store (a deploy that lost the file must not stick).
    expect(cacheControl('/assets/missing.3f9a1c2b.js', 404)).toBe('no-store');
    // No hash in the name: the service decides.
    expect(cacheControl('/assets/served.js', 200)).toBe('public, max-age=60');
    expect(cacheControl('/assets/served-minified.js', 200)).toBe('public, max-age=60');
  });

  it('caches GET responses of an api that opted in, and says so', () => {
    // A fresh key each run: the cache lives in /tmp, which this nginx shares with the host.
    const url = https(`/api/?cache-test=${process.pid}-${Date.now()}`);
    const first = headers(curl('-D', '-', '-o', '/dev/null', url).stdout);
    const second = headers(curl('-D', '-', '-o', '/dev/null', url).stdout);
    expect(first.get('x-cache-status')).toBe('MISS');
    expect(second.get('x-cache-status')).toBe('HIT');
    // A response the service marks no-store is never served from the cache.
    const health = headers(curl('-D', '-', '-o', '/dev/null', https('/api/health')).stdout);
    expect(health.get('x-cache-status')).not.toBe('HIT');
    expect(headers(curl('-D', '-', '-o', '/dev/null', https('/api/health')).stdout).get('x-cache-status')).not.toBe('HIT');
    expect(second.get('strict-transport-security')).toBeTruthy();
  });

  it('passes a WebSocket upgrade through to the service', () => {
    const r = curl('--http1.1', '-i', '-N', '--max-time', '2', '-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket',
      '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', https('/api/ws'));
    expect(r.stdout).toMatch(/^HTTP\/1\.1 101 /);
    // RFC 6455's example key and its accept value: computed by the sample, behind nginx.
    expect(headers(r.stdout).get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('answers 429 past the rate limit, stricter on auth paths', () => {
    const codes = (path: string, n: number) =>
      curl('-o', '/dev/null', '-w', '%{http_code}\n', ...Array.from({ length: n }, () => https(path))).stdout.trim().split('\n');
    const auth = codes('/api/auth/login', 10);
    expect(auth.slice(0, 5), auth.join(' ')).not.toContain('429');
    expect(auth.filter((c) => c === '429').length).toBeGreaterThanOrEqual(3);
    const api = codes('/api/health', 60);
    expect(api.slice(0, 15), api.join(' ')).not.toContain('429');
    expect(api.filter((c) => c === '429').length).toBeGreaterThan(10);
    // The 429 carries the security headers too.
    const h = headers(curl('-D', '-', '-o', '/dev/null', https('/api/health')).stdout);
    expect(h.get('strict-transport-security')).toBeTruthy();
  });
});

describe('kong gateway', () => {
  it('routes https only, redirects http with 308, and keeps the admin API private', async () => {
    const stack = await writeStack(configOf({ gateway: 'kong', domain: 'shop.example.com' }));
    const kong = parse(readFileSync(join(stack, 'kong/kong.yml'), 'utf8'));
    expect(kongConfigProblems(kong)).toEqual([]);
    expect(kong._format_version).toBe('3.0');
    const routes = kong.services.flatMap((s: { routes: object[] }) => s.routes);
    for (const route of routes) expect(route).toMatchObject({ protocols: ['https'], https_redirect_status_code: 308 });
    const cors = kong.plugins.find((p: { name: string }) => p.name === 'cors');
    expect(cors.config.origins).toEqual(['https://shop.example.com']);
    // Rate limits as on nginx: an api's routes only (web pages and static files are not limited),
    // the stricter one on its auth path.
    expect(kong.plugins.find((p: { name: string }) => p.name === 'rate-limiting')).toBeUndefined();
    const service = (name: string) => kong.services.find((s: { name: string }) => s.name === name);
    expect(service('api').plugins).toEqual([{ name: 'rate-limiting', config: { second: 10, minute: 600, limit_by: 'ip', policy: 'local' } }]);
    expect(service('web').plugins).toBeUndefined();
    const auth = service('api').routes.find((r: { name: string }) => r.name === 'api-auth');
    expect(auth.plugins).toEqual([{ name: 'rate-limiting', config: { minute: 10, limit_by: 'ip', policy: 'local' } }]);
    // /healthz answered by Kong itself on both ports, as nginx does (the printed curl, load balancers).
    expect(kong.routes).toEqual([
      expect.objectContaining({ name: 'healthz', paths: ['~/healthz$'], protocols: ['http', 'https'], plugins: [expect.objectContaining({ name: 'request-termination', config: expect.objectContaining({ status_code: 200 }) })] }),
    ]);
    // The same security headers, CSP included, as the nginx gateway's snippet.
    const nginx = await writeStack(configOf({ gateway: 'nginx' }));
    const nginxHeaders = [...readFileSync(join(nginx, 'nginx/snippets/security-headers.conf'), 'utf8').matchAll(/^add_header (\S+) "(.*)" always;$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    rmSync(nginx, { recursive: true, force: true });
    const kongHeaders = kong.plugins.find((p: { name: string }) => p.name === 'response-transformer').config.add.headers;
    expect(nginxHeaders.map((h) => h.split(':')[0])).toContain('Content-Security-Policy');
    expect(kongHeaders).toEqual(nginxHeaders);

    const compose = parse(readFileSync(join(stack, 'compose.yaml'), 'utf8'), { merge: true });
    const gateway = compose.services.gateway;
    expect(gateway.image).toBe('kong:3.9');
    expect(gateway.environment.KONG_ADMIN_LISTEN).toMatch(/^127\.0\.0\.1:|^off$/);
    expect(gateway.ports).toEqual(['80:8000', '443:8443']);
    expect(gateway.read_only).toBe(true);
    expect(gateway.environment.KONG_SSL_CERT).toBe('/etc/kong/certs/live/shop.example.com/fullchain.pem');
    rmSync(stack, { recursive: true, force: true });
  });
});
