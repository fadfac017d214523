import { otherServicesSecrets } from './app-settings.js';
import { IMAGES } from './catalog.js';
import { imageName, serviceImages, type ServiceImages } from './images.js';
import { dataServicesOf, type DataService, type DataServiceName } from './data-services.js';
import { dayTwo, dayTwoFamilies, pm2App, type DayTwo, type Pm2App } from './day2.js';
import { envGroups, required, type EnvGroup } from './env.js';
import { k8sFacts, k8sFamilies, type K8sFacts } from './k8s.js';
import { EDGE, type Edge } from './edge.js';
import { KONG_API_RATE_LIMIT, KONG_AUTH_RATE_LIMIT, kongPlugins, type KongPlugin } from './kong.js';
import { monitoringFacts, monitoringFamilies, type MonitoringFacts } from './monitoring.js';
import { nginxFacts, type NginxFacts } from './nginx.js';
import { debugPortOf } from './ports.js';
import { HEALTH_PATHS, healthCommand } from './probes.js';
import { authPrefixOf, routePrefixOf } from './routes.js';
import { searchKey, type SearchKey } from './search-key.js';
import { SECRET_FILES } from './secret-files.js';
import { DEV_CERTIFICATE, DEV_CERTIFICATE_EXTRA_NAMES } from './dev-certificate.js';
import type { ServiceConfig, StackConfig } from './types.js';
import { byCodeUnit } from './order.js';

export interface Service extends Omit<ServiceConfig, 'uses'> {
  /** Routed by the gateway (api and web services). */
  public: boolean;
  /** The path with a trailing slash ("/api/", or "/"): what a gateway matches as a prefix. */
  prefix: string | null;
  /** An api's auth endpoints ("/api/auth/"), rate-limited harder by either gateway; null otherwise. */
  authPrefix: string | null;
  /** Image repository, no tag: what CI pushes and compose.prod and the overlays pull. */
  imageName: string;
  /** Environment of the service's container, values written for compose interpolation. */
  environment: [string, string][];
  /** What development changes in it (compose.override.yaml): the emulators' endpoints. */
  devEnvironment: [string, string][];
  /**
   * What compose waits for in every file set: its data services but the emulators (ElasticMQ,
   * SeaweedFS: compose.override.yaml only, production does not run them).
   */
  waitsFor: DataServiceName[];
  /** The emulators it waits for in development (compose.override.yaml). */
  devWaitsFor: DataServiceName[];
  /** One-shot set-up services it waits to have completed (meilisearch-key: its search key). */
  waitsForSetup: string[];
  /** Data services it connects to (from its `uses` roles). */
  uses: DataServiceName[];
  /** Endpoint variables of the stack's other data services: blanked for it when run on a host. */
  notUsedVars: string[];
  /** Other services' own secrets: blanked for it when run on a host, where one .env feeds all. */
  otherSecrets: string[];
  /** On the host (PM2): [its variable, the .env key] of what it uses and its own secrets, and literal settings. */
  hostEnv: [string, string][];
  hostSettings: [string, string][];
  /** Host port the Node inspector is published on in development. */
  debugPort: number;
  /** How PM2 runs it (ecosystem.config.cjs, pm2-runtime). */
  pm2: Pm2App;
  /** Exec-form readiness probe (Dockerfile HEALTHCHECK, compose healthcheck): images have no curl. */
  healthCommand: string[];
}

/** Everything templates present, computed once from the validated answers. */
export interface StackModel {
  config: StackConfig;
  name: string;
  domain: string;
  nodeImage: string;
  services: Service[];
  /** Public services, most specific route first (the order gateways match in). */
  routes: Service[];
  workers: Service[];
  data: DataService[];
  /** Named volumes of compose.yaml: the data services' (but the emulators'), and the gateway's ACME webroot. */
  volumes: string[];
  /** Named volumes of the emulators (compose.override.yaml). */
  devVolumes: string[];
  images: typeof IMAGES;
  /** The services' scoped Meilisearch key (src/model/search-key.ts). */
  searchKey: SearchKey;
  /** The registry of the services' own images (src/model/images.ts). */
  serviceImages: ServiceImages;
  /** Quick flags for templates: has.postgres, has.kong, ... */
  has: Record<DataServiceName | StackConfig['gateway'], boolean>;
  gateway: {
    kind: StackConfig['gateway'];
    image: string;
    /** Headers and limits every gateway enforces (src/model/edge.ts). */
    edge: Edge;
    nginx: NginxFacts;
    kong: { plugins: KongPlugin[]; apiRateLimit: KongPlugin; authRateLimit: KongPlugin };
  };
  env: EnvGroup[];
  /** CI workflows, hooks, PM2, Makefile and scripts (src/model/day2.ts). */
  ops: DayTwo;
  /** Prometheus, Grafana and the exporters (src/model/monitoring.ts); null for monitoring none. */
  monitoring: MonitoringFacts | null;
  /** The Kubernetes target's facts (src/model/k8s.ts); null for target compose. */
  k8s: K8sFacts | null;
  /** Template families rendered for this stack (folders under templates/). */
  families: string[];
  /** The service whose image runs the database migrations before a release rolls out (null: no database). */
  migrator: string | null;
  /** What .gitignore keeps out of git (src/model/secret-files.ts). */
  secretFiles: readonly string[];
  /** scripts/dev-certs.sh's certificate (src/model/dev-certificate.ts). */
  devCertificate: { days: number; extraNames: string };
}

export function buildModel(config: StackConfig): StackModel {
  const data = dataServicesOf(config);
  const dataNames = data.map((d) => d.name);
  const emulators = data.filter((d) => d.emulator).map((d) => d.name);
  const otherSecrets = otherServicesSecrets(config.services);
  const services = config.services.map((s, i): Service => {
    const uses = data.filter((d) => s.uses.includes(d.role)).map((d) => d.name);
    return {
      ...s,
      public: s.kind !== 'worker',
      prefix: routePrefixOf(s.path),
      authPrefix: s.kind === 'api' ? authPrefixOf(s.path!) : null,
      imageName: imageName(serviceImages(config), config.name, s.name),
      environment: serviceEnvironment(s, uses),
      devEnvironment: [
        ...(uses.includes('elasticmq') ? elasticmqEnvironment(config.name, !uses.includes('seaweedfs')) : []),
        ...(uses.includes('seaweedfs') ? SEAWEEDFS_ENVIRONMENT : []),
      ],
      waitsFor: uses.filter((u) => !emulators.includes(u)),
      devWaitsFor: uses.filter((u) => emulators.includes(u)),
      waitsForSetup: uses.includes('meilisearch') ? ['meilisearch-key'] : [],
      uses,
      notUsedVars: data.filter((d) => !uses.includes(d.name)).map((d) => d.endpointVar),
      otherSecrets: otherSecrets(s),
      hostEnv: uniqueKeys([...data.filter((d) => uses.includes(d.name)).flatMap((d) => d.hostEnv), ...s.secrets.map((k): [string, string] => [k, k])]),
      hostSettings: data.filter((d) => uses.includes(d.name)).flatMap((d) => d.hostSettings),
      debugPort: debugPortOf(i),
      pm2: pm2App(s.kind, config.sample),
      // Readiness: compose starts the gateway once it passes, and restarts nothing on it.
      healthCommand: healthCommand(s.port, HEALTH_PATHS.ready),
    };
  });
  // With a database: an api or web service that uses it runs its migrations (else the first service).
  const migrator = dataNames.includes('postgres') ? (services.find((s) => s.uses.includes('postgres') && s.kind !== 'worker') ?? services[0]!).name : null;
  const routes = services
    .filter((s) => s.public)
    .sort((a, b) => (b.path?.length ?? 0) - (a.path?.length ?? 0) || byCodeUnit(a.name, b.name));
  const monitoring = monitoringFacts(config, dataNames, dataNames.includes('postgres'));
  const has = Object.fromEntries(
    (['postgres', 'redis', 'rabbitmq', 'elasticmq', 'meilisearch', 'opensearch', 'seaweedfs', 'nginx', 'kong'] as const).map((n) => [
      n,
      dataNames.includes(n as DataServiceName) || config.gateway === n,
    ]),
  ) as StackModel['has'];

  return {
    config,
    name: config.name,
    domain: config.domain,
    nodeImage: `node:${config.node}-alpine`,
    services,
    routes,
    workers: services.filter((s) => !s.public),
    data,
    // acme-webroot: where certbot answers Let's Encrypt challenges that nginx serves.
    volumes: [
      ...data.flatMap((d) => (d.volume && !d.emulator ? [d.volume.name] : [])),
      ...(config.gateway === 'nginx' ? ['acme-webroot'] : []),
      ...(monitoring ? ['prometheus-data', 'grafana-data', 'backup-metrics'] : []),
    ],
    devVolumes: data.flatMap((d) => (d.volume && d.emulator ? [d.volume.name] : [])),
    images: IMAGES,
    searchKey: searchKey(config.name),
    serviceImages: serviceImages(config),
    has,
    gateway: {
      kind: config.gateway,
      image: IMAGES[config.gateway],
      nginx: nginxFacts(config),
      edge: EDGE,
      kong: { plugins: kongPlugins(config), apiRateLimit: KONG_API_RATE_LIMIT, authRateLimit: KONG_AUTH_RATE_LIMIT },
    },
    env: envGroups(config, dataNames),
    ops: dayTwo(config, data, services),
    monitoring,
    k8s: config.target === 'k8s' ? k8sFacts(config, services, data, envGroups(config, dataNames), migrator) : null,
    migrator,
    secretFiles: SECRET_FILES,
    devCertificate: { days: DEV_CERTIFICATE.days, extraNames: DEV_CERTIFICATE_EXTRA_NAMES },
    families: [
      'base',
      'docker',
      'ops',
      config.gateway,
      ...(config.sample ? ['sample'] : []),
      ...(has.elasticmq ? ['sqs'] : []),
      ...(has.seaweedfs ? ['s3'] : []),
      ...dayTwoFamilies(config, has.postgres),
      ...k8sFamilies(config, dataNames),
      ...monitoringFamilies(config),
    ],
  };
}

/** Connection settings a service gets in compose, by the data services it uses. */
function serviceEnvironment(s: ServiceConfig, uses: DataServiceName[]): [string, string][] {
  const env: [string, string][] = [
    ['NODE_ENV', 'production'],
    ['PORT', String(s.port)],
    ['SERVICE_NAME', s.name],
    ['SERVICE_KIND', s.kind],
  ];
  if (uses.includes('postgres')) {
    env.push([
      'DATABASE_URL',
      `postgres://${required('POSTGRES_USER')}:${required('POSTGRES_PASSWORD')}@postgres:5432/${required('POSTGRES_DB')}`,
    ]);
  }
  if (uses.includes('redis')) env.push(['REDIS_URL', `redis://:${required('REDIS_PASSWORD')}@redis:6379/0`]);
  if (uses.includes('rabbitmq')) {
    env.push([
      'AMQP_URL',
      `amqp://${required('RABBITMQ_DEFAULT_USER')}:${required('RABBITMQ_DEFAULT_PASS')}@rabbitmq:5672/`,
    ]);
  }
  if (uses.includes('elasticmq')) {
    // AWS SQS itself; development points these at ElasticMQ (devEnvironment).
    env.push(
      ['AWS_REGION', required('AWS_REGION')],
      ...AWS_KEYS,
      ['AWS_ENDPOINT_URL_SQS', `https://sqs.${required('AWS_REGION')}.amazonaws.com`],
      ['SQS_QUEUE_URL', required('SQS_QUEUE_URL')],
    );
  }
  if (uses.includes('meilisearch')) {
    env.push(['MEILI_URL', 'http://meilisearch:7700'], ['MEILI_API_KEY', required('MEILI_API_KEY')]);
  }
  if (uses.includes('opensearch')) {
    env.push(
      ['OPENSEARCH_URL', 'https://opensearch:9200'],
      ['OPENSEARCH_USERNAME', 'admin'],
      ['OPENSEARCH_PASSWORD', required('OPENSEARCH_INITIAL_ADMIN_PASSWORD')],
      // The single-node demo certificate is self-signed; mount real certificates and drop this in production.
      ['OPENSEARCH_TLS_VERIFY', 'false'],
    );
  }
  if (uses.includes('seaweedfs')) {
    // S3 itself (or any S3 endpoint); development points these at SeaweedFS (devEnvironment). The
    // SQS block may have set the AWS ones.
    const storage: [string, string][] = [
      ['AWS_REGION', required('AWS_REGION')],
      ...AWS_KEYS,
      ['AWS_ENDPOINT_URL_S3', required('S3_ENDPOINT_URL')],
      ['S3_FORCE_PATH_STYLE', 'false'],
      ['S3_BUCKET', required('S3_BUCKET')],
    ];
    env.push(...storage.filter(([key]) => !env.some(([set]) => set === key)));
  }
  // Its own settings and secrets (infra-stack.yaml): no other service's environment has them.
  env.push(...Object.entries(s.env), ...s.secrets.map((key): [string, string] => [key, required(key)]));
  return env;
}

/**
 * The AWS keys of SQS and S3 alike: empty ones let the SDK use the instance role, which
 * .env.example recommends for production, so compose must not refuse to start without them.
 */
const AWS_KEYS: [string, string][] = [
  ['AWS_ACCESS_KEY_ID', '${AWS_ACCESS_KEY_ID:-}'],
  ['AWS_SECRET_ACCESS_KEY', '${AWS_SECRET_ACCESS_KEY:-}'],
];

/**
 * ElasticMQ in place of SQS: any key works, the queue is the one elasticmq.conf creates. A service
 * that also uses storage keeps the .env keys, which SeaweedFS checks (ElasticMQ takes them too).
 */
function elasticmqEnvironment(name: string, anyKey: boolean): [string, string][] {
  return [
    ...(anyKey
      ? ([
          ['AWS_ACCESS_KEY_ID', 'local'],
          ['AWS_SECRET_ACCESS_KEY', 'local'],
        ] as [string, string][])
      : []),
    ['AWS_ENDPOINT_URL_SQS', 'http://elasticmq:9324'],
    ['SQS_QUEUE_URL', `http://elasticmq:9324/000000000000/${name}-jobs`],
  ];
}

/** SeaweedFS in place of S3: the keys of .env, required as SeaweedFS checks them; path-style bucket URLs. */
const SEAWEEDFS_ENVIRONMENT: [string, string][] = [
  ['AWS_ACCESS_KEY_ID', required('AWS_ACCESS_KEY_ID')],
  ['AWS_SECRET_ACCESS_KEY', required('AWS_SECRET_ACCESS_KEY')],
  ['AWS_ENDPOINT_URL_S3', 'http://seaweedfs:8333'],
  ['S3_FORCE_PATH_STYLE', 'true'],
];

/** The first of each variable: two data services may both need one (AWS keys for SQS and S3). */
function uniqueKeys(pairs: [string, string][]): [string, string][] {
  return pairs.filter(([key], i) => pairs.findIndex(([k]) => k === key) === i);
}

/** Whether the answers (`skip:` in infra-stack.yaml) hand this path over to the person. */
export function isSkipped(config: Pick<StackConfig, 'skip'>, path: string): boolean {
  return (config.skip ?? []).some((skip) => (skip.endsWith('/') ? path.startsWith(skip) : path === skip));
}
