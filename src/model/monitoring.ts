import type { DataServiceName } from './data-services.js';
import type { StackConfig } from './types.js';

/**
 * Facts of `monitoring: prometheus`: what Prometheus scrapes, the alerts, the dashboard. Computed
 * once here; compose (the `monitoring` profile), the Prometheus and Grafana files and the k8s
 * component (Prometheus Operator) only present them.
 */

/** Pinned images of the monitoring profile (REFERENCE: current tags, never `latest`). */
const MONITORING_IMAGES = {
  prometheus: 'prom/prometheus:v3.13.1',
  grafana: 'grafana/grafana:12.2.0',
  nodeExporter: 'prom/node-exporter:v1.9.1',
  postgresExporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1',
  redisExporter: 'oliver006/redis_exporter:v1.74.0',
  nginxExporter: 'nginx/nginx-prometheus-exporter:1.4.2',
} as const;

/** Grafana listens on the host's loopback only: reach it with an SSH tunnel, never from the internet. */
export const GRAFANA_PORT = 3030;
/** nginx's stub_status, on a port only the exporter (inside the network) reaches. */
const NGINX_STATUS_PORT = 8081;
/** Kong's status API, where its prometheus plugin serves /metrics. */
const KONG_STATUS_PORT = 8007;

/** The metric scripts/backup.sh writes for node-exporter's textfile collector. */
export const BACKUP_METRIC = 'infra_stack_backup_last_success_timestamp_seconds';

export interface ScrapeJob {
  job: string;
  target: string;
  /** What it is, for the dashboard: an app service, a data service's exporter, the gateway, the host. */
  kind: 'service' | 'data' | 'gateway' | 'host' | 'self';
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export interface DashboardPanel {
  title: string;
  type: 'timeseries' | 'stat';
  /** PromQL, one per series; every metric name in them is one a scrape target exports. */
  queries: { expr: string; legend: string }[];
  unit: string;
}

export interface GrafanaPanel {
  id: number;
  title: string;
  type: DashboardPanel['type'];
  datasource: { type: 'prometheus'; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig: { defaults: { unit: string }; overrides: never[] };
  targets: { refId: string; expr: string; legendFormat: string; datasource: { type: 'prometheus'; uid: string } }[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  refresh: string;
  time: { from: string; to: string };
  panels: GrafanaPanel[];
}

/** The uid of the provisioned Prometheus data source (grafana/provisioning/datasources). */
const DATASOURCE = { type: 'prometheus' as const, uid: 'prometheus' };

export interface MonitoringFacts {
  images: typeof MONITORING_IMAGES;
  grafanaPort: number;
  nginxStatusPort: number;
  kongStatusPort: number;
  /** Compose scrape jobs (service names resolve on the compose networks). */
  jobs: ScrapeJob[];
  /** The Grafana dashboard (its JSON model): the stack's rows of panels. */
  dashboard: GrafanaDashboard;
  /** alerts.yml: the alert rules of compose (node-exporter, the backup textfile metric). */
  ruleFile: { groups: RuleGroup[] };
  /** The k8s PrometheusRule's spec (kubelet volume stats, kube-state-metrics). */
  k8sRuleSpec: { groups: RuleGroup[] };
  exporters: { postgres: boolean; redis: boolean };
}

/** Template families of `monitoring: prometheus`: compose's, the nginx status page, the k8s component. */
export function monitoringFamilies(config: StackConfig): string[] {
  if (config.monitoring !== 'prometheus') return [];
  return ['monitoring', ...(config.gateway === 'nginx' ? ['monitoring-nginx'] : []), ...(config.target === 'k8s' ? ['k8s-monitoring'] : [])];
}

export function monitoringFacts(config: StackConfig, data: DataServiceName[], backups: boolean): MonitoringFacts | null {
  if (config.monitoring !== 'prometheus') return null;
  const jobs: ScrapeJob[] = [
    { job: 'prometheus', target: 'localhost:9090', kind: 'self' },
    ...config.services.map((s): ScrapeJob => ({ job: s.name, target: `${s.name}:${s.port}`, kind: 'service' })),
    ...(data.includes('postgres') ? [{ job: 'postgres', target: 'postgres-exporter:9187', kind: 'data' } as const] : []),
    ...(data.includes('redis') ? [{ job: 'redis', target: 'redis-exporter:9121', kind: 'data' } as const] : []),
    // The official image enables the rabbitmq_prometheus plugin: /metrics on 15692.
    ...(data.includes('rabbitmq') ? [{ job: 'rabbitmq', target: 'rabbitmq:15692', kind: 'data' } as const] : []),
    config.gateway === 'nginx'
      ? { job: 'gateway', target: 'nginx-exporter:9113', kind: 'gateway' }
      : { job: 'gateway', target: `gateway:${KONG_STATUS_PORT}`, kind: 'gateway' },
    { job: 'node', target: 'node-exporter:9100', kind: 'host' },
  ];
  const services = config.services.map((s) => s.name);
  return {
    images: MONITORING_IMAGES,
    grafanaPort: GRAFANA_PORT,
    nginxStatusPort: NGINX_STATUS_PORT,
    kongStatusPort: KONG_STATUS_PORT,
    jobs,
    ruleFile: {
      groups: [
        ...commonRules(),
        {
          name: 'host',
          rules: [
            rule(
              'DiskFilling',
              'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} < 0.10',
              '15m',
              'warning',
              'Less than 10% free on {{ $labels.mountpoint }}',
            ),
            rule(
              'DiskFullIn24Hours',
              'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}[6h], 24 * 3600) < 0',
              '1h',
              'critical',
              '{{ $labels.mountpoint }} fills up within a day at the current rate',
            ),
          ],
        },
        // Daily backups: more than 26 hours means at least one was missed.
        ...(backups ? [backupRule(`time() - ${BACKUP_METRIC} > 26 * 3600`, 'The last successful PostgreSQL backup is more than 26 hours old')] : []),
      ],
    },
    k8sRuleSpec: {
      groups: [
        ...commonRules(),
        {
          name: 'volumes',
          rules: [
            rule(
              'VolumeFilling',
              'kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.10',
              '15m',
              'warning',
              'Less than 10% free on the volume {{ $labels.persistentvolumeclaim }}',
            ),
          ],
        },
        // kube-state-metrics: the backup CronJob's last successful run.
        ...(backups
          ? [backupRule('time() - kube_cronjob_status_last_successful_time{cronjob="postgres-backup"} > 26 * 3600', 'The postgres-backup CronJob has not succeeded for more than 26 hours')]
          : []),
      ],
    },
    dashboard: dashboard(config.name, services, jobs),
    exporters: { postgres: data.includes('postgres'), redis: data.includes('redis') },
  };
}

function rule(alert: string, expr: string, pending: string, severity: AlertRule['labels']['severity'], summary: string): AlertRule {
  return { alert, expr, for: pending, labels: { severity }, annotations: { summary } };
}

function backupRule(expr: string, summary: string): RuleGroup {
  return { name: 'backups', rules: [rule('BackupTooOld', expr, '10m', 'critical', summary)] };
}

/** Alerts on the app services' own metrics: the same on compose and k8s. */
function commonRules(): RuleGroup[] {
  return [
    {
      name: 'availability',
      rules: [rule('TargetDown', 'up == 0', '2m', 'critical', '{{ $labels.job }} ({{ $labels.instance }}) cannot be scraped')],
    },
    {
      name: 'http',
      rules: [
        rule(
          'HighErrorRate',
          'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05',
          '10m',
          'warning',
          'More than 5% of the requests to {{ $labels.job }} fail with 5xx',
        ),
        rule(
          'HighLatency',
          'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) > 1',
          '10m',
          'warning',
          '95th percentile latency of {{ $labels.job }} above 1 s',
        ),
      ],
    },
  ];
}

function dashboard(name: string, services: string[], jobs: ScrapeJob[]): GrafanaDashboard {
  const panels: DashboardPanel[] = [
    { title: 'Targets up', type: 'stat', unit: 'none', queries: [{ expr: 'up', legend: '{{job}}' }] },
    ...services.flatMap((s): DashboardPanel[] => [
      { title: `${s}: requests per second`, type: 'timeseries', unit: 'reqps', queries: [{ expr: `sum by (status) (rate(http_requests_total{job="${s}"}[5m]))`, legend: '{{status}}' }] },
      {
        title: `${s}: error rate`,
        type: 'timeseries',
        unit: 'percentunit',
        queries: [{ expr: `sum(rate(http_requests_total{job="${s}",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="${s}"}[5m]))`, legend: '5xx' }],
      },
      {
        title: `${s}: latency`,
        type: 'timeseries',
        unit: 's',
        queries: [0.5, 0.95, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{job="${s}"}[5m])))`,
          legend: `p${q * 100}`,
        })),
      },
      { title: `${s}: memory`, type: 'timeseries', unit: 'bytes', queries: [{ expr: `process_resident_memory_bytes{job="${s}"}`, legend: '{{instance}}' }] },
    ]),
    ...(jobs.some((j) => j.job === 'postgres')
      ? [{ title: 'PostgreSQL: connections', type: 'timeseries' as const, unit: 'none', queries: [{ expr: 'sum(pg_stat_database_numbackends)', legend: 'connections' }] }]
      : []),
    ...(jobs.some((j) => j.job === 'redis')
      ? [{ title: 'Redis: memory used', type: 'timeseries' as const, unit: 'bytes', queries: [{ expr: 'redis_memory_used_bytes', legend: 'used' }] }]
      : []),
    ...(jobs.some((j) => j.job === 'rabbitmq')
      ? [{ title: 'RabbitMQ: messages ready', type: 'timeseries' as const, unit: 'none', queries: [{ expr: 'sum(rabbitmq_queue_messages_ready)', legend: 'ready' }] }]
      : []),
    jobs.some((j) => j.job === 'gateway' && j.target.startsWith('nginx-exporter'))
      ? { title: 'Gateway: active connections', type: 'timeseries', unit: 'none', queries: [{ expr: 'nginx_connections_active', legend: 'active' }] }
      : { title: 'Gateway: active connections', type: 'timeseries', unit: 'none', queries: [{ expr: 'kong_nginx_connections_total{state="active"}', legend: 'active' }] },
    { title: 'Host: disk free', type: 'timeseries', unit: 'percentunit', queries: [{ expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}', legend: '{{mountpoint}}' }] },
  ];
  return {
    uid: `${name}-stack`.slice(0, 40),
    title: `${name} stack`,
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    panels: panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      type: p.type,
      datasource: DATASOURCE,
      // Two panels a row, 12 of Grafana's 24 columns each.
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), expr: q.expr, legendFormat: q.legend, datasource: DATASOURCE })),
    })),
  };
}
