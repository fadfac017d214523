// The sample service's /metrics (checked by promtool, Prometheus's own linter of the exposition
// format) and its JSON log lines with the gateway's request id.
import { afterAll, describe, expect, it } from 'vitest';
import { samples, startSample, type Sample } from './helpers/sample.js';
import { tool } from './helpers/tools.js';
import { run } from './helpers/validators.js';

const HAS = { promtool: tool('promtool') };

afterAll(async () => {
  await Promise.all([...samples].map((s) => s.stop()));
});

/** The JSON objects in the sample's complete lines, one per line; a line that is not JSON fails the test. */
const logLines = (output: string) =>
  output
    .slice(0, output.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Its log lines once `predicate` holds: checked on each chunk it writes, so no fixed wait however slow the machine. */
function settled(s: Sample, predicate: (lines: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const streams = [s.child.stdout!, s.child.stderr!];
    const finish = (done: () => void) => {
      streams.forEach((stream) => stream.off('data', check));
      done();
    };
    function check() {
      try {
        const lines = logLines(s.output());
        if (predicate(lines)) finish(() => resolve(lines));
      } catch (error) {
        finish(() => reject(error as Error));
      }
    }
    streams.forEach((stream) => stream.on('data', check));
    void s.exited.then(() => finish(() => reject(new Error(`the sample exited before it logged that:\n${s.output()}`))));
    check();
  });
}

describe('sample service /metrics', () => {
  it.skipIf(!HAS.promtool)('serves the Prometheus text format that promtool check metrics accepts, counting requests by route and status', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api' });
    await fetch(`${s.base}/api/whoami`);
    await fetch(`${s.base}/whoami`);
    await fetch(`${s.base}/api/nope/123`);
    await fetch(`${s.base}/health`, { method: 'POST' });
    const res = await fetch(`${s.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const lint = await run('promtool', ['check', 'metrics'], { input: text });
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    expect(text).toContain('http_requests_total{route="whoami",method="GET",status="200"} 2');
    // The raw path never becomes a label: /api/nope/123 is "unmatched".
    expect(text).toContain('http_requests_total{route="unmatched",method="GET",status="404"} 1');
    expect(text).toContain('http_requests_total{route="health",method="POST",status="405"} 1');
    // Not '123': a duration or memory figure may hold those digits.
    expect(text).not.toContain('nope');
    expect(text).toContain('http_request_duration_seconds_bucket{route="whoami",method="GET",status="200",le="+Inf"} 2');
    expect(text).toContain('http_request_duration_seconds_count{route="whoami",method="GET",status="200"} 2');
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name} [0-9.e+]+$`, 'm'));
    }
  });

  it('is not served through the gateway: a request with X-Forwarded-For gets 404', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api' });
    const proxied = await fetch(`${s.base}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(proxied.status).toBe(404);
    expect((await fetch(`${s.base}/api/metrics`)).status).toBe(404);
  });

  it('a worker serves /metrics too', async () => {
    const s = await startSample({ SERVICE_NAME: 'mailer', SERVICE_KIND: 'worker' });
    const res = await fetch(`${s.base}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('process_start_time_seconds');
  });
});

describe('sample service JSON logs', () => {
  it('one JSON object per line: time, level, service, request id from X-Request-ID, method, path, status, duration', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api' });
    const res = await fetch(`${s.base}/api/whoami?q=1`, { headers: { 'x-request-id': 'gw-4f2a.17' } });
    expect(res.headers.get('x-request-id')).toBe('gw-4f2a.17');
    const lines = await settled(s, (l) => l.some((x) => x.msg === 'request'));
    expect(lines[0]).toMatchObject({ level: 'info', service: 'orders', msg: expect.stringContaining('listening') });
    const request = lines.find((l) => l.msg === 'request')!;
    expect(request).toMatchObject({ level: 'info', service: 'orders', request_id: 'gw-4f2a.17', method: 'GET', path: '/api/whoami', status: 200 });
    expect(new Date(String(request.time)).toISOString()).toBe(request.time);
    expect(typeof request.duration_ms).toBe('number');
  });

  it('a request without an id, or with a hostile one, gets a fresh UUID (no log injection)', async () => {
    const s = await startSample({ SERVICE_NAME: 'orders', SERVICE_KIND: 'api' });
    const plain = await fetch(`${s.base}/`);
    const hostile = await fetch(`${s.base}/`, { headers: { 'x-request-id': 'a","level":"error' } });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(plain.headers.get('x-request-id')).toMatch(uuid);
    expect(hostile.headers.get('x-request-id')).toMatch(uuid);
    const lines = await settled(s, (l) => l.filter((x) => x.msg === 'request').length === 2);
    const ids = lines.filter((l) => l.msg === 'request').map((l) => l.request_id);
    expect(ids).toEqual([plain.headers.get('x-request-id'), hostile.headers.get('x-request-id')]);
    expect(lines.every((l) => l.level === 'info')).toBe(true);
  });

  it('health probes and scrapes log at debug: hidden at the default level, shown with LOG_LEVEL=debug', async () => {
    const quiet = await startSample({ SERVICE_NAME: 'a', SERVICE_KIND: 'api' });
    const verbose = await startSample({ SERVICE_NAME: 'b', SERVICE_KIND: 'api', LOG_LEVEL: 'debug' });
    for (const s of [quiet, verbose]) {
      await fetch(`${s.base}/health`);
      await fetch(`${s.base}/whoami`);
    }
    const shown = await settled(verbose, (l) => l.filter((x) => x.msg === 'request').length === 2);
    expect(shown.filter((l) => l.msg === 'request').map((l) => [l.level, l.path])).toEqual([
      ['debug', '/health'],
      ['info', '/whoami'],
    ]);
    const hidden = await settled(quiet, (l) => l.some((x) => x.msg === 'request'));
    expect(hidden.filter((l) => l.msg === 'request').map((l) => l.path)).toEqual(['/whoami']);
  });

  it('a bad PORT is one JSON error line on stderr and exit 1', async () => {
    await expect(startSample({ SERVICE_NAME: 'x', SERVICE_KIND: 'api', PORT: 'eighty' })).rejects.toThrow(/"level":"error".*PORT must be an integer/);
  });
});
