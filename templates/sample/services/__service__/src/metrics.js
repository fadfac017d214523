// Prometheus metrics in the text exposition format (version 0.0.4), built-ins only: requests by
// route, method and status, their duration as a histogram, and the process's own gauges. Names
// follow the Prometheus conventions, so the generated dashboards and alerts read them.
import { readdirSync } from 'node:fs';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const started = Date.now() / 1000 - process.uptime();

// Label values are escaped as the format asks: backslash, double quote, newline.
const escape = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs) => `{${Object.entries(pairs).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;

export function createMetrics() {
  const requests = new Map(); // key -> { labels, count, sum, buckets[] }

  /** One finished request; `route` must be one of a small set (never the raw path: cardinality). */
  function observe({ route, method, status }, seconds) {
    const key = `${route} ${method} ${status}`;
    let series = requests.get(key);
    if (!series) {
      series = { labels: { route, method, status: String(status) }, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
      requests.set(key, series);
    }
    series.count += 1;
    series.sum += seconds;
    BUCKETS.forEach((le, i) => { if (seconds <= le) series.buckets[i] += 1; });
  }

  function openFds() {
    try { return readdirSync('/proc/self/fd').length; } catch { return null; } // Linux only
  }

  /** The whole exposition, as GET /metrics returns it. */
  function text() {
    const out = [];
    const all = [...requests.values()];
    out.push('# HELP http_requests_total HTTP requests served, by route, method and status.', '# TYPE http_requests_total counter');
    for (const s of all) out.push(`http_requests_total${labels(s.labels)} ${s.count}`);
    out.push('# HELP http_request_duration_seconds Time to serve an HTTP request.', '# TYPE http_request_duration_seconds histogram');
    for (const s of all) {
      BUCKETS.forEach((le, i) => out.push(`http_request_duration_seconds_bucket${labels({ ...s.labels, le })} ${s.buckets[i]}`));
      out.push(`http_request_duration_seconds_bucket${labels({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`http_request_duration_seconds_sum${labels(s.labels)} ${s.sum}`);
      out.push(`http_request_duration_seconds_count${labels(s.labels)} ${s.count}`);
    }
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const gauges = [
      ['process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', (cpu.user + cpu.system) / 1e6],
      ['process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', memory.rss],
      ['process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.', started],
      ['process_open_fds', 'gauge', 'Open file descriptors.', openFds()],
      ['nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use, in bytes.', memory.heapUsed],
      ['nodejs_heap_size_total_bytes', 'gauge', 'V8 heap allocated, in bytes.', memory.heapTotal],
    ];
    for (const [name, type, help, value] of gauges) {
      if (value === null) continue;
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    }
    return out.join('\n') + '\n';
  }

  return { observe, text };
}
