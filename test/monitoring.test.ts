// `monitoring: prometheus`: the Prometheus config and alert rules pass promtool on every combination,
// the rules fire as meant (promtool test rules), compose keeps the profile out of a plain `up` and
// Grafana on loopback, the k8s component builds, and a real Prometheus scrapes the running sample
// services and the real postgres, redis and node exporters, finding every metric the dashboard names.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Tree } from '../src/engine/tree.js';
import { buildModel } from '../src/model/stack-model.js';
import type { StackConfig } from '../src/model/types.js';
import { kustomize, type Resource } from './helpers/k8s.js';
import { samples, startSample } from './helpers/sample.js';
import { freePort, startHttpDaemon, startPostgres, startRedis, type RunningService } from './helpers/services.js';
import { COMBINATIONS, configOf, INFRA_STACK_BIN, prettierDiffs, renderTree, runCli, writeStack } from './helpers/stack.js';
import { tempDirs } from './helpers/temp.js';
import { tool } from './helpers/tools.js';
import { dockerComposeConfig, installedNginxVersion, nginxTest, run, validateCompose } from './helpers/validators.js';

const HAS = {
  promtool: tool('promtool'),
  prometheus: tool('prometheus'),
  dockerCompose: tool('docker-compose'),
  kubectl: tool('kubectl'),
  exporters: tool('prometheus-postgres-exporter') && tool('prometheus-redis-exporter') && tool('prometheus-node-exporter'),
  nginx: tool('nginx') && tool('prometheus-nginx-exporter'),
};
const HOOK_MS = 90_000;
const { tempDir, removeLater } = tempDirs();

const monitored = (overrides: Record<string, unknown> = {}) => configOf({ monitoring: 'prometheus', ...overrides });
const content = (tree: Tree, path: string) => {
  const file = tree.get(path);
  if (!file) throw new Error(`${path} was not rendered`);
  return file.content;
};

/** Writes the tree's monitoring/prometheus/ files into a temp dir and returns it. */
function prometheusDir(tree: Tree): string {
  const dir = tempDir();
  for (const name of ['prometheus.yml', 'alerts.yml']) writeFileSync(join(dir, name), content(tree, `monitoring/prometheus/${name}`));
  return dir;
}

const VARIANTS: { label: string; overrides: Record<string, unknown> }[] = [
  ...COMBINATIONS.flatMap((combo) =>
    (['compose', 'k8s'] as const).map((target) => ({ label: `${combo.gateway} + ${combo.queue} + ${combo.search}, ${target}`, overrides: { ...combo, target } })),
  ),
  { label: 'no database, no cache', overrides: { database: 'none', cache: 'none' } },
  { label: 'no database, k8s', overrides: { database: 'none', target: 'k8s' } },
];

describe.skipIf(!HAS.promtool).each(VARIANTS)('promtool, $label', ({ overrides }) => {
  const config = monitored(overrides);
  let tree: Tree;
  beforeAll(async () => {
    tree = await renderTree(config);
  });

  it('promtool check config accepts prometheus.yml and the alerts.yml it loads', async () => {
    const dir = prometheusDir(tree);
    const r = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('scrapes every service, each data service with an exporter, the gateway and the host', () => {
    const jobs = (parse(content(tree, 'monitoring/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }).scrape_configs;
    const targets = Object.fromEntries(jobs.map((j) => [j.job_name, j.static_configs[0].targets[0]]));
    for (const s of config.services) expect(targets[s.name]).toBe(`${s.name}:${s.port}`);
    expect(targets.postgres).toBe(config.database === 'postgres' ? 'postgres-exporter:9187' : undefined);
    expect(targets.redis).toBe(config.cache === 'redis' ? 'redis-exporter:9121' : undefined);
    expect(targets.rabbitmq).toBe(config.queue === 'rabbitmq' ? 'rabbitmq:15692' : undefined);
    expect(targets.gateway).toBe(config.gateway === 'nginx' ? 'nginx-exporter:9113' : 'gateway:8007');
    expect(targets.node).toBe('node-exporter:9100');
  });

  it.skipIf(config.target !== 'k8s' || !HAS.kubectl)('k8s: the overlays build with a PodMonitor per service; promtool check rules accepts the PrometheusRule', async () => {
    const dir = await writeStack(config);
    removeLater(dir);
    for (const overlay of ['staging', 'production']) {
      const resources = await kustomize(join(dir, 'k8s/overlays', overlay));
      const monitors = resources.filter((r) => r.kind === 'PodMonitor');
      expect(monitors.map((m) => m.metadata.name).sort()).toEqual(config.services.map((s) => s.name).sort());
      const rule = resources.find((r) => r.kind === 'PrometheusRule') as Resource & { spec: unknown };
      const rulesFile = join(tempDir(), 'rules.yml');
      writeFileSync(rulesFile, stringify(rule.spec));
      const r = await run('promtool', ['check', 'rules', rulesFile]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // Prometheus (namespace monitoring) may reach every service's http port, past the gateway-only policies.
      const policy = resources.find((r) => r.kind === 'NetworkPolicy' && r.metadata.name === 'allow-prometheus-scrapes') as Resource & { spec: { podSelector: { matchExpressions: { values: string[] }[] } } };
      expect(policy.spec.podSelector.matchExpressions[0].values.sort()).toEqual(config.services.map((s) => s.name).sort());
    }
  });
});

describe.skipIf(!HAS.promtool)('the checks are live', () => {
  it('promtool check rules rejects a broken expression, and check config a missing rule file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'alerts.yml'), 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(http_requests_total[5m])\n');
    expect((await run('promtool', ['check', 'rules', join(dir, 'alerts.yml')])).code).not.toBe(0);
    writeFileSync(join(dir, 'prometheus.yml'), 'rule_files: [missing.yml]\nscrape_configs: []\n');
    expect((await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')])).code).not.toBe(0);
  });
});

describe.skipIf(!HAS.promtool)('the alerts fire when they should (promtool test rules)', () => {
  it('target down, error rate, latency, disk filling and backup too old fire; healthy series do not', async () => {
    const tree = await renderTree(monitored());
    const dir = prometheusDir(tree);
    const tests = {
      rule_files: ['alerts.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'up{job="api",instance="api:3000"}', values: '1 1 0x30' },
            { series: 'up{job="web",instance="web:3001"}', values: '1x30' },
            { series: 'http_requests_total{job="api",status="500"}', values: '0+10x30' },
            { series: 'http_requests_total{job="api",status="200"}', values: '0+10x30' },
            { series: 'http_requests_total{job="web",status="200"}', values: '0+100x30' },
            // 19 of 20 requests take 2.5-5 s: the 95th percentile is above 1 s.
            { series: 'http_request_duration_seconds_bucket{job="api",le="1"}', values: '0+1x30' },
            { series: 'http_request_duration_seconds_bucket{job="api",le="2.5"}', values: '0+1x30' },
            { series: 'http_request_duration_seconds_bucket{job="api",le="5"}', values: '0+20x30' },
            { series: 'http_request_duration_seconds_bucket{job="api",le="+Inf"}', values: '0+20x30' },
            { series: 'node_filesystem_avail_bytes{fstype="ext4",mountpoint="/"}', values: '5x30' },
            { series: 'node_filesystem_size_bytes{fstype="ext4",mountpoint="/"}', values: '100x30' },
            { series: 'node_filesystem_avail_bytes{fstype="ext4",mountpoint="/data"}', values: '50x30' },
            { series: 'node_filesystem_size_bytes{fstype="ext4",mountpoint="/data"}', values: '100x30' },
          ],
          alert_rule_test: [
            {
              eval_time: '20m',
              alertname: 'TargetDown',
              exp_alerts: [{ exp_labels: { severity: 'critical', job: 'api', instance: 'api:3000' }, exp_annotations: { summary: 'api (api:3000) cannot be scraped' } }],
            },
            { eval_time: '20m', alertname: 'HighErrorRate', exp_alerts: [{ exp_labels: { severity: 'warning', job: 'api' }, exp_annotations: { summary: 'More than 5% of the requests to api fail with 5xx' } }] },
            { eval_time: '20m', alertname: 'HighLatency', exp_alerts: [{ exp_labels: { severity: 'warning', job: 'api' }, exp_annotations: { summary: '95th percentile latency of api above 1 s' } }] },
            {
              eval_time: '20m',
              alertname: 'DiskFilling',
              exp_alerts: [{ exp_labels: { severity: 'warning', fstype: 'ext4', mountpoint: '/' }, exp_annotations: { summary: 'Less than 10% free on /' } }],
            },
          ],
        },
        {
          // A backup at t=0 and none after: too old once 26 hours (and the 10 minutes of `for`) pass.
          interval: '1m',
          input_series: [{ series: 'infra_stack_backup_last_success_timestamp_seconds', values: '0x2000' }],
          alert_rule_test: [
            { eval_time: '25h', alertname: 'BackupTooOld', exp_alerts: [] },
            { eval_time: '27h', alertname: 'BackupTooOld', exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: { summary: 'The last successful PostgreSQL backup is more than 26 hours old' } }] },
          ],
        },
        {
          // A backup every minute (the value follows the clock): never too old.
          interval: '1m',
          input_series: [{ series: 'infra_stack_backup_last_success_timestamp_seconds', values: '0+60x2000' }],
          alert_rule_test: [{ eval_time: '30h', alertname: 'BackupTooOld', exp_alerts: [] }],
        },
      ],
    };
    writeFileSync(join(dir, 'alerts.test.yml'), stringify(tests));
    const r = await run('promtool', ['test', 'rules', join(dir, 'alerts.test.yml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
    // The same test fails when a rule is broken: here TargetDown no longer fires.
    writeFileSync(join(dir, 'alerts.yml'), content(tree, 'monitoring/prometheus/alerts.yml').replace('expr: up == 0', 'expr: up == 2'));
    expect((await run('promtool', ['test', 'rules', join(dir, 'alerts.test.yml')])).code).not.toBe(0);
  });
});

describe('compose profile monitoring', () => {
  const config = monitored();
  let dir = '';
  let compose: { services: Record<string, Record<string, unknown>>; networks: Record<string, { internal?: boolean } | null>; volumes: Record<string, unknown> };
  beforeAll(async () => {
    dir = await writeStack(config);
    removeLater(dir);
    compose = parse(content(await renderTree(config), 'compose.yaml'), { merge: true });
  });
  const MONITORING = ['prometheus', 'grafana', 'node-exporter', 'postgres-exporter', 'redis-exporter', 'nginx-exporter'];

  it('matches the compose-spec schema; every monitoring service is in the profile, pinned, with data on named volumes', () => {
    expect(validateCompose(compose)).toEqual([]);
    for (const name of MONITORING) {
      expect(compose.services[name].profiles, name).toEqual(['monitoring']);
      expect(String(compose.services[name].image), name).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
    expect(compose.services.prometheus.volumes).toContain('prometheus-data:/prometheus');
    expect(compose.services.grafana.volumes).toContain('grafana-data:/var/lib/grafana');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['prometheus-data', 'grafana-data']));
  });

  it('Grafana is published on 127.0.0.1 only, with its admin password required from .env; Prometheus and exporters publish nothing', () => {
    expect(compose.services.grafana.ports).toEqual(['127.0.0.1:3030:3000']);
    expect((compose.services.grafana.environment as Record<string, string>).GF_SECURITY_ADMIN_PASSWORD).toBe('${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in .env}');
    for (const name of MONITORING.filter((n) => n !== 'grafana')) expect(compose.services[name].ports, name).toBeUndefined();
    // Prometheus sits on internal networks only: it reaches the services, never the internet.
    for (const network of compose.services.prometheus.networks as string[]) expect(compose.networks[network]?.internal, network).toBe(true);
  });

  it.skipIf(!HAS.dockerCompose)('docker-compose config: valid, and the profile brings every monitoring service', async () => {
    const r = await dockerComposeConfig(dir, ['compose.yaml']);
    expect(r.ok, r.stderr).toBe(true);
    const profiled = await run('docker-compose', ['-f', 'compose.yaml', '--profile', 'monitoring', 'config', '--services'], { cwd: dir });
    expect(profiled.stdout.trim().split('\n')).toEqual(expect.arrayContaining(MONITORING));
  });

  it('the output is prettier-clean (nginx + k8s, kong + compose)', async () => {
    for (const c of [monitored({ target: 'k8s' }), monitored({ gateway: 'kong', queue: 'sqs' })]) {
      const diffs = await prettierDiffs(c);
      expect(diffs, diffs.join('\n\n')).toEqual([]);
    }
  });

  it('kong: the prometheus plugin on every route and the status API on the monitoring network; no stub_status file', async () => {
    const tree = await renderTree(monitored({ gateway: 'kong' }));
    const kong = parse(content(tree, 'kong/kong.yml')) as { plugins: { name: string }[] };
    expect(kong.plugins.map((p) => p.name)).toContain('prometheus');
    const gateway = (parse(content(tree, 'compose.yaml'), { merge: true }) as typeof compose).services.gateway;
    expect((gateway.environment as Record<string, string>).KONG_STATUS_LISTEN).toBe('0.0.0.0:8007');
    expect(gateway.ports).toEqual(['80:8000', '443:8443']);
    expect(tree.has('nginx/conf.d/stub-status.conf')).toBe(false);
  });

  it('monitoring none: no monitoring file, service or variable', async () => {
    const tree = await renderTree(configOf({ target: 'k8s' }));
    expect([...tree.keys()].filter((p) => /monitoring|stub-status/.test(p))).toEqual([]);
    expect(content(tree, 'compose.yaml')).not.toMatch(/prometheus|grafana/);
    expect(content(tree, '.env.example')).not.toContain('GRAFANA');
  });

  it('add service adds its scrape job and dashboard rows; update with monitoring: prometheus turns it on', async () => {
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'billing', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const model = buildModel({ ...config, services: [...config.services, { ...config.services[0], name: 'billing', port: 3003, path: '/billing' }] });
    const prom = parse(readText(dir, 'monitoring/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string }[] };
    expect(prom.scrape_configs.map((j) => j.job_name)).toContain('billing');
    const dashboard = JSON.parse(readText(dir, 'monitoring/grafana/dashboards/stack.json')) as { panels: { title: string }[] };
    expect(dashboard.panels.map((p) => p.title)).toEqual(model.monitoring!.dashboard.panels.map((p) => p.title));
    expect(dashboard.panels.filter((p) => p.title.startsWith('billing:'))).toHaveLength(4);

    const plain = await writeStack(configOf());
    removeLater(plain);
    writeFileSync(join(plain, 'infra-stack.yaml'), readText(plain, 'infra-stack.yaml').replace('monitoring: none', 'monitoring: prometheus'));
    const envBefore = readText(plain, '.env');
    const update = runCli(INFRA_STACK_BIN, ['update', '--dir', plain]);
    expect(update.code, update.stderr).toBe(0);
    expect(readText(plain, '.env').startsWith(envBefore)).toBe(true);
    expect(readText(plain, '.env')).toMatch(/^GRAFANA_ADMIN_PASSWORD=\S{20,}$/m);
    expect(readText(plain, 'monitoring/prometheus/prometheus.yml')).toContain('job_name: api');
  });

  it('--monitoring is a create flag, recorded in infra-stack.yaml; a wrong value is one line and exit 2', () => {
    const target = join(tempDir(), 'app');
    const bad = runCli(join(INFRA_STACK_BIN, '..', 'create-infra-stack.cjs'), [target, '--yes', '--monitoring', 'datadog', '--no-git', '--no-install']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('monitoring');
    expect(bad.stderr).toContain('prometheus, none');
  });
});

const readText = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(stripped.slice(m.index + m[0].length)))
    .map((m) => m[0])
    .filter((name) => !/^(and|or|unless|bool|offset)$/.test(name));
}

describe.skipIf(!HAS.prometheus || !HAS.exporters)('a real Prometheus with the generated config', () => {
  const config: StackConfig = monitored({ queue: 'sqs' });
  const running: RunningService[] = [];
  let prometheus: RunningService;
  let tree: Tree;

  beforeAll(async () => {
    tree = await renderTree(config);
    const [pg, redis] = await Promise.all([startPostgres(), startRedis('r-' + Math.random().toString(36).slice(2))]);
    running.push(pg, redis);
    const ports = { pgExporter: await freePort(), redisExporter: await freePort(), node: await freePort(), prometheus: await freePort() };
    const dir = tempDir();
    mkdirSync(join(dir, 'textfile'));
    // What scripts/backup.sh writes after a successful dump.
    writeFileSync(join(dir, 'textfile', 'backup.prom'), `infra_stack_backup_last_success_timestamp_seconds ${Math.floor(Date.now() / 1000)}\n`);
    running.push(
      await startHttpDaemon('prometheus-postgres-exporter', [`--web.listen-address=127.0.0.1:${ports.pgExporter}`], ports.pgExporter, '/metrics', {
        ...process.env,
        DATA_SOURCE_NAME: `postgresql://${pg.user}:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}/${pg.database}?sslmode=disable`,
      }),
      await startHttpDaemon(
        'prometheus-redis-exporter',
        ['-web.listen-address', `127.0.0.1:${ports.redisExporter}`, '-redis.addr', `redis://127.0.0.1:${redis.port}`, '-redis.password', redis.password ?? ''],
        ports.redisExporter,
        '/metrics',
      ),
      await startHttpDaemon(
        'prometheus-node-exporter',
        [`--web.listen-address=127.0.0.1:${ports.node}`, `--collector.textfile.directory=${join(dir, 'textfile')}`],
        ports.node,
        '/metrics',
      ),
    );
    const started = await Promise.all(config.services.map((s) => startSample({ SERVICE_NAME: s.name, SERVICE_KIND: s.kind })));
    // The generated config, with the compose host names pointed at the processes started here and a
    // 1 s interval so the test need not wait 15 s. The gateway (nginx or Kong) needs Docker: left out.
    const where: Record<string, string> = {
      prometheus: `127.0.0.1:${ports.prometheus}`,
      postgres: `127.0.0.1:${ports.pgExporter}`,
      redis: `127.0.0.1:${ports.redisExporter}`,
      node: `127.0.0.1:${ports.node}`,
      ...Object.fromEntries(config.services.map((s, i) => [s.name, `127.0.0.1:${started[i].port}`])),
    };
    const generated = parse(content(tree, 'monitoring/prometheus/prometheus.yml')) as {
      global: Record<string, string>;
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    generated.global.scrape_interval = '1s';
    generated.global.evaluation_interval = '1s';
    generated.scrape_configs = generated.scrape_configs.filter((j) => j.job_name !== 'gateway');
    for (const job of generated.scrape_configs) job.static_configs[0].targets = [where[job.job_name]];
    writeFileSync(join(dir, 'prometheus.yml'), stringify(generated));
    writeFileSync(join(dir, 'alerts.yml'), content(tree, 'monitoring/prometheus/alerts.yml'));
    prometheus = await startHttpDaemon(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${ports.prometheus}`],
      ports.prometheus,
      '/-/ready',
    );
    running.push(prometheus);
    for (const s of started) for (const path of ['/', '/health', '/nope']) await fetch(s.base + path);
  }, HOOK_MS);

  afterAll(async () => {
    await Promise.all([...samples].map((s) => s.stop()));
    for (const service of running.reverse()) await service.stop();
  }, HOOK_MS);

  const api = async <T>(path: string): Promise<T> => ((await (await fetch(prometheus.url + path)).json()) as { data: T }).data;

  /** What `read` returns once `done` holds of it, or after 20 s (Prometheus scrapes and evaluates each second): the caller asserts. */
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 20_000;
    let value = await read();
    while (!done(value) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      value = await read();
    }
    return value;
  }

  it('reports every service and exporter up', async () => {
    const health = await eventually(
      async () => {
        const { activeTargets } = await api<{ activeTargets: { labels: { job: string }; health: string }[] }>('/api/v1/targets');
        return Object.fromEntries(activeTargets.map((t) => [t.labels.job, t.health]));
      },
      (h) => Object.keys(h).length > 0 && Object.values(h).every((x) => x === 'up'),
    );
    expect(health).toEqual(Object.fromEntries([...config.services.map((s) => s.name), 'prometheus', 'postgres', 'redis', 'node'].map((job) => [job, 'up'])));
  });

  it('loads the generated alert rules, with nothing firing on a healthy stack', async () => {
    // A rule's health is "unknown" until its first evaluation.
    const { groups } = await eventually(
      () => api<{ groups: { name: string; rules: { name: string; health: string; state: string }[] }[] }>('/api/v1/rules'),
      (r) => r.groups.every((g) => g.rules.every((rule) => rule.health !== 'unknown')),
    );
    expect(groups.map((g) => g.name).sort()).toEqual(['availability', 'backups', 'host', 'http']);
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.every((r) => r.health === 'ok')).toBe(true);
    expect(rules.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual([]);
  });

  it('every metric a dashboard panel or alert names is one something here exports (the gateway\'s aside)', async () => {
    const model = buildModel(config).monitoring!;
    const queries = [...model.dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...model.ruleFile.groups.flatMap((g) => g.rules.map((r) => r.expr))];
    const names = [...new Set(queries.flatMap(metricNames))];
    expect(names.length).toBeGreaterThan(5);
    // Until the scrapes after the traffic arrive. nginx_connections_active comes from
    // nginx-prometheus-exporter: checked against a real nginx below.
    const missing = await eventually(
      async () => {
        const exported = new Set(await api<string[]>('/api/v1/label/__name__/values'));
        return names.filter((n) => !exported.has(n) && n !== 'nginx_connections_active');
      },
      (m) => m.length === 0,
    );
    expect(missing).toEqual([]);
    expect(metricNames('sum by (le) (rate(http_request_duration_seconds_bucket{job="a"}[5m]))')).toEqual(['http_request_duration_seconds_bucket']);
  });
});

describe.skipIf(!HAS.nginx)('the nginx gateway\'s stub_status, read by nginx-prometheus-exporter', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await renderTree(monitored({ nginxVersion: installedNginxVersion() ?? undefined }));
  });

  it('nginx -t accepts the whole gateway config with conf.d/stub-status.conf', async () => {
    const confDir = join(tempDir(), 'nginx');
    for (const [path, file] of tree) {
      if (!path.startsWith('nginx/')) continue;
      mkdirSync(dirname(join(confDir, path.slice('nginx/'.length))), { recursive: true });
      writeFileSync(join(confDir, path.slice('nginx/'.length)), file.content);
    }
    const r = await nginxTest(confDir);
    expect(r.ok, r.stderr).toBe(true);
  });

  it('a running nginx serves the status page the exporter turns into nginx_connections_active', async () => {
    const dir = tempDir();
    const [statusPort, exporterPort] = [await freePort(), await freePort()];
    // The generated server block as it is, on a free port, in a minimal nginx of its own.
    const server = content(tree, 'nginx/conf.d/stub-status.conf').replace('listen 8081;', `listen 127.0.0.1:${statusPort};`);
    writeFileSync(join(dir, 'stub-status.conf'), server);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/tmp;\n  proxy_temp_path ${dir}/tmp;\n  fastcgi_temp_path ${dir}/tmp;\n  uwsgi_temp_path ${dir}/tmp;\n  scgi_temp_path ${dir}/tmp;\n  include ${dir}/stub-status.conf;\n}\n`,
    );
    const nginx = await startHttpDaemon('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], statusPort, '/stub_status');
    try {
      expect((await fetch(`${nginx.url}/`)).status).toBe(404);
      const exporter = await startHttpDaemon(
        'prometheus-nginx-exporter',
        ['-nginx.scrape-uri', `${nginx.url}/stub_status`, '-web.listen-address', `127.0.0.1:${exporterPort}`],
        exporterPort,
        '/metrics',
      );
      try {
        const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
        expect(metrics).toMatch(/^nginx_up 1$/m);
        expect(metrics).toMatch(/^nginx_connections_active \d+$/m);
        // The dashboard's gateway panel reads that metric.
        const model = buildModel(monitored()).monitoring!;
        expect(model.dashboard.panels.find((p) => p.title.startsWith('Gateway'))!.targets[0].expr).toBe('nginx_connections_active');
      } finally {
        await exporter.stop();
      }
    } finally {
      await nginx.stop();
    }
  });
});
