export const SERVICE_KINDS = ['api', 'web', 'worker'] as const;
export const GATEWAYS = ['nginx', 'kong'] as const;
export const QUEUES = ['rabbitmq', 'sqs'] as const;
export const SEARCHES = ['meilisearch', 'opensearch'] as const;
export const TARGETS = ['compose', 'k8s'] as const;
export const DATABASES = ['postgres', 'none'] as const;
export const CACHES = ['redis', 'none'] as const;
export const PROCESS_MANAGERS = ['node', 'pm2'] as const;
export const HOOKS = ['pre-commit', 'husky'] as const;
export const MONITORINGS = ['prometheus', 'none'] as const;
export const STORAGES = ['s3', 'none'] as const;

export type ServiceKind = (typeof SERVICE_KINDS)[number];
export const DATA_ROLES = ['database', 'cache', 'queue', 'search', 'storage'] as const;
export type DataRole = (typeof DATA_ROLES)[number];
export type Gateway = (typeof GATEWAYS)[number];
export type Queue = (typeof QUEUES)[number];
export type Search = (typeof SEARCHES)[number];
export type Target = (typeof TARGETS)[number];
export type Database = (typeof DATABASES)[number];
export type Cache = (typeof CACHES)[number];
export type ProcessManager = (typeof PROCESS_MANAGERS)[number];
export type Hooks = (typeof HOOKS)[number];
export type Monitoring = (typeof MONITORINGS)[number];
export type Storage = (typeof STORAGES)[number];

/** One service as a person describes it (infra-stack.yaml `services[]`). */
export interface ServiceConfig {
  name: string;
  kind: ServiceKind;
  port: number;
  /** Route behind the gateway; null for workers, which are not routed. */
  path: string | null;
  /** Opt-in: the gateway caches this api's GET responses briefly (nginx proxy_cache). */
  cache: boolean;
  /** What it connects to: the stack's database, cache, queue and search, or fewer (least privilege). */
  uses: DataRole[];
  /** The app's own secrets (JWT_ACCESS_SECRET, ...): random values in .env and each k8s secrets.env, given to it alone. */
  secrets: string[];
  /** The app's own plain settings (LOG_LEVEL: info), in its environment on every path. */
  env: Record<string, string>;
}

/** The answers: what infra-stack.yaml holds, validated. Input to every run. */
export interface StackConfig {
  name: string;
  domain: string;
  node: string;
  gateway: Gateway;
  queue: Queue;
  search: Search;
  target: Target;
  database: Database;
  cache: Cache;
  /** Ship a runnable sample per service (src/index.js with /livez, /readyz and /health). */
  sample: boolean;
  /** What runs a service inside its image: `node` directly, or `pm2-runtime` (ecosystem.config.cjs). */
  processManager: ProcessManager;
  /** Git hooks: the pre-commit framework (.pre-commit-config.yaml) or husky + lint-staged (package.json). */
  hooks: Hooks;
  /** Prometheus + Grafana (compose `monitoring` profile, k8s Prometheus Operator component), or none. */
  monitoring: Monitoring;
  /** Object storage: S3 (SeaweedFS stands in locally, AWS S3 or any S3 endpoint in production), or none. */
  storage: Storage;
  /** nginx the config is rendered for, when not the pinned image's (an nginx on a host). */
  nginxVersion?: string;
  /** A team's template folder, relative to the repository: its files override the built-in ones by path. */
  templates?: string;
  /** A team preset npm package (a dev dependency of the repository): its templates are used on every run. */
  preset?: string;
  /** Files (or folders, ending in "/") the generator no longer writes, updates or deletes. */
  skip?: string[];
  /** Registry (and namespace) the service images are pushed to; k8s default: ghcr.io/<name>. */
  registry?: string;
  services: ServiceConfig[];
}
