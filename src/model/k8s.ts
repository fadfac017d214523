import type { DataService, DataServiceName } from './data-services.js';
import { resolveEnv, type EnvGroup } from './env.js';
import { serviceImages } from './images.js';
import { EDGE } from './edge.js';
import { KONG_API_RATE_LIMIT, KONG_AUTH_RATE_LIMIT, kongPlugins, type KongPlugin } from './kong.js';
import { HEALTH_PATHS } from './probes.js';
import { searchKey } from './search-key.js';
import type { StackConfig } from './types.js';

/**
 * Facts of the Kubernetes target (k8s/): computed once here, so the templates under
 * templates/k8s* only present them. Compose stays generated beside it for local development.
 */

/** The uid/gid app containers run as: above 10000 (kube-score), not the node image's `node` (1000). */
export const APP_UID = 10001;
/** Label key prefix of the flows the NetworkPolicies allow (`infra-stack/uses-postgres: "true"`). */
const FLOW = 'infra-stack';

export interface K8sResources {
  cpu: string;
  memory: string;
  memoryLimit: string;
}

/** An environment: one kustomize overlay. */
export interface K8sOverlay {
  name: 'staging' | 'production';
  namespace: string;
  domain: string;
  /** cert-manager ClusterIssuer the Gateway's certificate comes from. */
  issuer: string;
  replicas: { min: number; max: number };
  resources: K8sResources;
  /** Merged into the stack-config ConfigMap: settings that differ per environment. */
  config: [string, string][];
}

/** An environment variable: a literal (may use `$(VAR)` of earlier ones) or a key of the Secret. */
export type K8sEnv = { name: string; value: string } | { name: string; secretKey: string };

export interface K8sProbe {
  /** One of: an HTTP GET path, a TCP connect, or a shell script (`sh -c`, in the container). */
  httpGet: { path: string; scheme: 'HTTP' | 'HTTPS' } | null;
  tcpSocket: boolean;
  script: string | null;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}

export interface K8sProbes {
  startup: K8sProbe;
  readiness: K8sProbe;
  liveness: K8sProbe;
}

export interface K8sSecurity {
  uid: number;
  gid: number;
  readOnlyRootFilesystem: boolean;
  /** Why this workload departs from the app's settings (uid <= 10000, writable root). */
  exemption: string | null;
}

export interface K8sService {
  name: string;
  kind: string;
  public: boolean;
  port: number;
  path: string | null;
  /** Repository without tag: what an overlay's `images:` entry names. */
  imageName: string;
  image: string;
  /** Pod labels, the flow labels (`infra-stack/uses-<data>`, `infra-stack/routed`) included. */
  labels: [string, string][];
  /** Non-secret settings of this service only (its ConfigMap). */
  config: [string, string][];
  env: K8sEnv[];
  /** ServiceAccount annotations (the IAM role of a service that uses SQS). */
  serviceAccountAnnotations: [string, string][];
  probes: K8sProbes;
  /** HTTPRoutes of a public service: its path, and for an api its auth path (a stricter limit). */
  routes: K8sRoute[];
  /** The CA certificates it trusts beside the system's (OpenSearch's namespace CA), mounted read-only. */
  caMounts: { name: string; secretName: string; mount: string }[];
}

/** An HTTPRoute and what the edge does on it (src/model/edge.ts), per gateway. */
export interface K8sRoute {
  name: string;
  path: string;
  /** Kong: the KongPlugins the route's konghq.com/plugins annotation names. */
  kongPlugins: string;
  /** NGINX Gateway Fabric: the RateLimitPolicy attached to the route (null: not limited, as web pages). */
  rateLimit: { rate: string; burst: number } | null;
}

export interface K8sDataService {
  name: DataServiceName;
  role: string;
  image: string;
  port: number;
  portName: string;
  args: string[];
  env: K8sEnv[];
  probes: K8sProbes;
  security: K8sSecurity;
  /** The PersistentVolumeClaim (volumeClaimTemplates), where it is mounted and why there (or null). */
  volume: { mount: string; size: string; note: string | null };
  /** Writable scratch directories on a read-only root. */
  scratch: { name: string; mount: string }[];
  /** A set-up command (sh -c) run in the container once it started (postStart): Meilisearch's services key. */
  postStart: string | null;
  /**
   * A read-only root whose config folder must be writable: an init container (the same image)
   * copies the image's config into an emptyDir mounted there and adds to it (script lines).
   */
  seedConfig: { mount: string; script: string[] } | null;
  /** Its own TLS: a certificate from a namespace CA (cert-manager), mounted into its config. */
  tls: { secretName: string; mount: string; commonName: string; dnsNames: string[] } | null;
  resources: K8sResources;
  /** Label the pods that may reach it carry (`infra-stack/uses-postgres`). */
  usesLabel: string;
  /** When to run it yourself and when to prefer a managed service (the generated README). */
  managed: string;
}

export interface K8sGateway {
  /** GatewayClass the Gateway uses. */
  className: string;
  /** Written in k8s/cluster/ (Kong); NGINX Gateway Fabric's Helm chart installs its own. */
  gatewayClass: { controllerName: string } | null;
  /** Namespace the controller (and, for Kong's chart, the proxy) runs in: allowed to reach routed pods. */
  controllerNamespace: string;
  /** What a person installs in the cluster for it. */
  implementation: string;
  install: string;
  /** Kong: every KongPlugin resource (k8s/base/kong-plugins.yaml); each route names its own. */
  kongPlugins: KongPlugin[];
  /**
   * NGINX Gateway Fabric: the security headers every route sets (ResponseHeaderModifier), the body
   * limit (ClientSettingsPolicy) and RateLimitPolicies (NGF 2.4+); null for Kong, whose plugins do it.
   */
  ngf: { headers: { name: string; value: string }[]; maxBodySize: string } | null;
}

export interface K8sFacts {
  registry: string;
  imageTag: string;
  appUid: number;
  /** The base's requests and limits and autoscaling of every app Deployment (overlays change them). */
  appResources: K8sResources;
  hpa: { min: number; max: number; cpuUtilization: number };
  flowPrefix: string;
  /** Keyed by service name: templates look a service's facts up by `service.name`. */
  services: Record<string, K8sService>;
  /** Services in infra-stack.yaml order (kustomization resources, overlay images). */
  serviceList: K8sService[];
  /** In-cluster data services: the data-services component. SQS is AWS SQS, not ElasticMQ. */
  data: K8sDataService[];
  /** SQS: its region, the IAM roles' prefix, and the private ranges its HTTPS egress leaves out. */
  sqs: { region: string; roleArnPrefix: string; privateRanges: string[] } | null;
  /** S3 itself (SeaweedFS is for development only): reached over HTTPS with the pods' IAM role, public addresses only. */
  s3: { region: string; endpoint: string; privateRanges: string[] } | null;
  /** Non-secret settings every pod shares (the stack-config ConfigMap). */
  config: [string, string][];
  /** Keys of the Secret generated from each overlay's git-ignored secrets.env. */
  secretKeys: string[];
  /** The secret variables only (secrets.env and secrets.env.example). */
  secretGroups: EnvGroup[];
  overlays: K8sOverlay[];
  gateway: K8sGateway;
  /** Label on every Deployment: scripts/k8s-apply.sh applies them after the migrations. */
  rolloutLabel: string;
  /** The migration Job runs `npm run migrate --if-present` in this service's image. */
  migrate: { service: string; image: string } | null;
  /** Backup CronJob (pg_dump) of the in-cluster Postgres. */
  backup: { schedule: string; retentionDays: number; size: string } | null;
}

/** Template families of the k8s target. */
export function k8sFamilies(config: StackConfig, dataNames: DataServiceName[]): string[] {
  if (config.target !== 'k8s') return [];
  return ['k8s', ...(config.gateway === 'kong' ? ['k8s-kong'] : []), ...(dataNames.includes('postgres') ? ['k8s-postgres'] : [])];
}

interface ServiceInput {
  name: string;
  /** Its image repository, no tag (src/model/images.ts): the one compose.prod.yaml pulls. */
  imageName: string;
  secrets: string[];
  env: Record<string, string>;
  kind: string;
  public: boolean;
  port: number;
  path: string | null;
  uses: DataServiceName[];
}

export function k8sFacts(config: StackConfig, services: ServiceInput[], data: DataService[], env: EnvGroup[], migrator: string | null): K8sFacts {
  const images = serviceImages(config);
  const values = resolveEnv(env, null);
  const setting = (key: string) => values.get(key)!;
  const region = 'us-east-1';
  const roleArnPrefix = `arn:aws:iam::000000000000:role/${config.name}`;
  // AWS is reached on public addresses only: RFC 1918, carrier-grade NAT (some pod networks) and
  // link-local (instance metadata) stay closed to the SQS and S3 egress.
  const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];
  const sqs = data.some((d) => d.name === 'elasticmq') ? { region, roleArnPrefix, privateRanges } : null;
  const s3 = data.some((d) => d.name === 'seaweedfs') ? { region, endpoint: `https://s3.${region}.amazonaws.com`, privateRanges } : null;

  // Settings every pod may read; none points a pod at a data service (a set endpoint variable is a
  // dependency the sample checks), so those are per service, by what it uses (endpoints below).
  const shared: [string, string][] = [];
  const endpoints = new Map<DataServiceName, [string, string][]>();
  for (const d of data) {
    if (d.name === 'postgres') shared.push(['POSTGRES_USER', setting('POSTGRES_USER')], ['POSTGRES_DB', setting('POSTGRES_DB')]);
    if (d.name === 'rabbitmq') shared.push(['RABBITMQ_DEFAULT_USER', setting('RABBITMQ_DEFAULT_USER')]);
    if (d.name === 'elasticmq') {
      shared.push(['AWS_REGION', region], ['SQS_QUEUE_URL', sqsQueueUrl(config.name, region, null)]);
      // The sample's /health checks this endpoint is reachable; AWS SDKs use it as the SQS endpoint.
      endpoints.set(d.name, [['AWS_ENDPOINT_URL_SQS', `https://sqs.${region}.amazonaws.com`]]);
    }
    if (d.name === 'meilisearch') endpoints.set(d.name, [['MEILI_URL', `http://meilisearch:${d.port}`]]);
    // Per environment (overlays); a service that uses storage gets it as S3_BUCKET.
    if (d.name === 'seaweedfs') shared.push(['S3_BUCKET_NAME', `${config.name}-uploads`]);
    if (d.name === 'opensearch') {
      endpoints.set(d.name, [
        ['OPENSEARCH_URL', `https://opensearch:${d.port}`],
        // The least-privilege user (its indices only), never admin; TLS verified against the namespace CA.
        ['OPENSEARCH_USERNAME', 'app'],
        ['NODE_EXTRA_CA_CERTS', `${OPENSEARCH_CA_MOUNT}/ca.crt`],
      ]);
    }
  }

  const k8sServices = services.map((s): K8sService => {
    const uses = s.uses.map(flowName);
    return {
      name: s.name,
      kind: s.kind,
      public: s.public,
      port: s.port,
      path: s.path,
      imageName: s.imageName,
      image: `${s.imageName}:${images.firstRelease}`,
      labels: [
        ['app.kubernetes.io/name', s.name],
        ['app.kubernetes.io/component', s.kind],
        ...uses.map((u): [string, string] => [`${FLOW}/uses-${u}`, 'true']),
        ...(s.public ? [[`${FLOW}/routed`, 'true'] as [string, string]] : []),
      ],
      config: [
        ['NODE_ENV', 'production'],
        ['PORT', String(s.port)],
        ['SERVICE_NAME', s.name],
        ['SERVICE_KIND', s.kind],
        ...s.uses.flatMap((u) => endpoints.get(u) ?? []),
        ...Object.entries(s.env),
      ],
      // Its own secrets (infra-stack.yaml), from the overlay's Secret like the stack's.
      env: [...connectionEnv(s.uses, s3), ...s.secrets.map((key) => ({ name: key, secretKey: key }))],
      serviceAccountAnnotations:
        (sqs && s.uses.includes('elasticmq')) || (s3 && s.uses.includes('seaweedfs')) ? [['eks.amazonaws.com/role-arn', `${roleArnPrefix}-${s.name}`]] : [],
      probes: appProbes(),
      routes: s.public && s.path ? routesOf(config, s.name, s.kind, s.path) : [],
      caMounts: s.uses.includes('opensearch') ? [{ name: 'opensearch-ca', secretName: 'opensearch-tls', mount: OPENSEARCH_CA_MOUNT }] : [],
    };
  });

  // The emulators are development only: SQS and S3 are AWS's here.
  const dataServices = data.filter((d) => !d.emulator).map((d) => dataService(d, config.name));
  // AWS keys are the local emulators': pods act as their IAM role instead (IRSA).
  const secretGroups = env
    .map((g) => ({ ...g, vars: g.vars.filter((v) => v.secret && !v.key.startsWith('AWS_')) }))
    .filter((g) => g.vars.length > 0);

  return {
    registry: images.registry,
    imageTag: images.firstRelease,
    appUid: APP_UID,
    appResources: { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
    hpa: { min: 2, max: 4, cpuUtilization: 70 },
    flowPrefix: FLOW,
    services: Object.fromEntries(k8sServices.map((s) => [s.name, s])),
    serviceList: k8sServices,
    data: dataServices,
    sqs,
    s3,
    config: shared,
    secretKeys: secretGroups.flatMap((g) => g.vars.map((v) => v.key)),
    secretGroups,
    overlays: [
      overlay(config, 'staging', { min: 2, max: 3 }, { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' }, sqs, s3),
      overlay(config, 'production', { min: 3, max: 10 }, { cpu: '250m', memory: '256Mi', memoryLimit: '512Mi' }, sqs, s3),
    ],
    gateway: gatewayFacts(config),
    rolloutLabel: `${FLOW}/apply`,
    migrate: migrator ? { service: migrator, image: k8sServices.find((s) => s.name === migrator)!.image } : null,
    backup: data.some((d) => d.name === 'postgres') ? { schedule: '17 3 * * *', retentionDays: 14, size: '20Gi' } : null,
  };
}

/** In NetworkPolicy labels SQS and S3 are named for what they are on k8s, not for the local emulators. */
function flowName(name: DataServiceName): string {
  return name === 'elasticmq' ? 'sqs' : name === 'seaweedfs' ? 's3' : name;
}

function sqsQueueUrl(name: string, region: string, environment: string | null): string {
  return `https://sqs.${region}.amazonaws.com/000000000000/${name}${environment ? `-${environment}` : ''}-jobs`;
}

function overlay(
  config: StackConfig,
  name: K8sOverlay['name'],
  replicas: K8sOverlay['replicas'],
  resources: K8sResources,
  sqs: K8sFacts['sqs'],
  s3: K8sFacts['s3'],
): K8sOverlay {
  return {
    name,
    namespace: `${config.name}-${name}`,
    domain: name === 'production' ? config.domain : `staging.${config.domain}`,
    // Staging proves the issuance works without spending Let's Encrypt's production rate limits.
    issuer: name === 'production' ? 'letsencrypt-production' : 'letsencrypt-staging',
    replicas,
    resources,
    config: [
      ...(sqs ? [['SQS_QUEUE_URL', sqsQueueUrl(config.name, sqs.region, name)] as [string, string]] : []),
      ...(s3 ? [['S3_BUCKET_NAME', `${config.name}-${name}-uploads`] as [string, string]] : []),
    ],
  };
}

/**
 * The app's connection settings. Secrets come from the generated Secret; the URLs are built by
 * Kubernetes from them (`$(VAR)` of variables defined before), so no committed file holds one.
 */
function connectionEnv(uses: DataServiceName[], s3: K8sFacts['s3']): K8sEnv[] {
  const env: K8sEnv[] = [];
  if (uses.includes('postgres')) {
    env.push(
      { name: 'POSTGRES_PASSWORD', secretKey: 'POSTGRES_PASSWORD' },
      { name: 'DATABASE_URL', value: 'postgres://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@postgres:5432/$(POSTGRES_DB)' },
    );
  }
  if (uses.includes('redis')) {
    env.push({ name: 'REDIS_PASSWORD', secretKey: 'REDIS_PASSWORD' }, { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@redis:6379/0' });
  }
  if (uses.includes('rabbitmq')) {
    env.push(
      { name: 'RABBITMQ_DEFAULT_PASS', secretKey: 'RABBITMQ_DEFAULT_PASS' },
      { name: 'AMQP_URL', value: 'amqp://$(RABBITMQ_DEFAULT_USER):$(RABBITMQ_DEFAULT_PASS)@rabbitmq:5672/' },
    );
  }
  if (uses.includes('meilisearch')) env.push({ name: 'MEILI_API_KEY', secretKey: 'MEILI_API_KEY' });
  if (uses.includes('opensearch')) env.push({ name: 'OPENSEARCH_PASSWORD', secretKey: 'OPENSEARCH_APP_PASSWORD' });
  if (s3 && uses.includes('seaweedfs')) {
    // No keys: the AWS SDK exchanges the ServiceAccount's token for the IAM role (IRSA).
    env.push(
      { name: 'AWS_REGION', value: s3.region },
      { name: 'AWS_ENDPOINT_URL_S3', value: s3.endpoint },
      { name: 'S3_BUCKET', value: '$(S3_BUCKET_NAME)' },
    );
  }
  return env;
}

/**
 * Liveness (and startup) only ask whether the process answers: a data service's outage must not
 * restart every pod. Readiness asks whether this pod can serve, so an outage takes pods out of
 * rotation and a rollout waits for them; /health stays the full report for people.
 */
function appProbes(): K8sProbes {
  const on = (path: string) => ({ ...NO_PROBE, httpGet: { path, scheme: 'HTTP' as const } });
  return {
    startup: { ...on(HEALTH_PATHS.live), periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
    readiness: { ...on(HEALTH_PATHS.ready), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    liveness: { ...on(HEALTH_PATHS.live), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  };
}

const NO_PROBE = { httpGet: null, tcpSocket: false, script: null };

const OPENSEARCH_CONFIG = '/usr/share/opensearch/config';
/** Where a service that uses OpenSearch finds the CA that signed its certificate. */
const OPENSEARCH_CA_MOUNT = '/etc/opensearch-ca';

/** The security plugin on the namespace CA's certificate (cert-manager), for HTTP and the transport. */
function opensearchTlsSettings(): K8sEnv[] {
  const files = { pemcert_filepath: 'certs/tls.crt', pemkey_filepath: 'certs/tls.key', pemtrustedcas_filepath: 'certs/ca.crt' };
  return [
    { name: 'plugins.security.ssl.http.enabled', value: 'true' },
    ...Object.entries(files).flatMap(([k, v]) => [
      { name: `plugins.security.ssl.http.${k}`, value: v },
      { name: `plugins.security.ssl.transport.${k}`, value: v },
    ]),
    { name: 'plugins.security.ssl.transport.enforce_hostname_verification', value: 'false' },
    { name: 'plugins.security.nodes_dn', value: 'CN=opensearch' },
  ];
}

/**
 * The init container's script: the image's config into the writable emptyDir, then the security
 * plugin's users (admin, and app for the services) with hashes of the Secret's passwords, and the
 * app role: its own indices (<stack>-*) and cluster health, nothing else.
 */
function opensearchSecurityConfig(stack: string): string[] {
  const dir = '/seed/opensearch-security';
  return [
    'set -eu',
    `cp -a ${OPENSEARCH_CONFIG}/. /seed/`,
    `hash() { ${'/usr/share/opensearch/plugins/opensearch-security/tools/hash.sh'} -p "$1" | tail -n 1; }`,
    'admin=$(hash "$OPENSEARCH_INITIAL_ADMIN_PASSWORD")',
    'app=$(hash "$OPENSEARCH_APP_PASSWORD")',
    `printf '%s\\n' '_meta: {type: internalusers, config_version: 2}' "admin: {hash: '$admin', reserved: true, backend_roles: [admin]}" "app: {hash: '$app', reserved: true}" > ${dir}/internal_users.yml`,
    `printf '%s\\n' '_meta: {type: roles, config_version: 2}' 'app:' '  reserved: true' '  cluster_permissions: [cluster_monitor, cluster_composite_ops]' '  index_permissions:' '    - {index_patterns: ["${stack}-*"], allowed_actions: [crud, create_index, manage]}' > ${dir}/roles.yml`,
    `printf '%s\\n' '_meta: {type: rolesmapping, config_version: 2}' 'all_access: {reserved: false, backend_roles: [admin]}' 'app: {reserved: true, users: [app]}' > ${dir}/roles_mapping.yml`,
  ];
}
type Check = Partial<Pick<K8sProbe, 'httpGet' | 'tcpSocket' | 'script'>>;

/** A data service's probes: up to 5 minutes to start; liveness a plain TCP connect unless given. */
function probes(startup: Check, readiness = startup, liveness: Check = { tcpSocket: true }): K8sProbes {
  return {
    startup: { ...NO_PROBE, ...startup, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
    readiness: { ...NO_PROBE, ...readiness, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    liveness: { ...NO_PROBE, ...liveness, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
  };
}

const hardened = (readOnly = true, uid = APP_UID): K8sSecurity => ({ uid, gid: uid, readOnlyRootFilesystem: readOnly, exemption: null });

function dataService(d: DataService, stack: string): K8sDataService {
  const base = {
    postStart: null,
    seedConfig: null,
    tls: null,
    name: d.name,
    role: d.role,
    image: d.image,
    port: d.port,
    volume: { mount: d.volume!.mount, size: '10Gi', note: null },
    usesLabel: `${FLOW}/uses-${d.name}`,
  };
  switch (d.name) {
    case 'postgres':
      return {
        ...base,
        volume: { ...base.volume, note: 'Postgres 18 keeps PGDATA in 18/docker below this: mount /var/lib/postgresql, not .../data' },
        portName: 'postgres',
        args: [],
        env: [{ name: 'POSTGRES_PASSWORD', secretKey: 'POSTGRES_PASSWORD' }],
        probes: probes({ script: 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' }),
        security: {
          uid: 70,
          gid: 70,
          readOnlyRootFilesystem: true,
          exemption: "uid 70, the alpine image's postgres user: initdb refuses a uid without a passwd entry",
        },
        scratch: [
          { name: 'run', mount: '/var/run/postgresql' },
          { name: 'tmp', mount: '/tmp' },
        ],
        resources: { cpu: '250m', memory: '512Mi', memoryLimit: '1Gi' },
        managed: 'Amazon RDS / Aurora, Cloud SQL, Azure Database: backups, point-in-time recovery, failover and upgrades are done for you',
      };
    case 'redis':
      return {
        ...base,
        volume: { ...base.volume, size: '2Gi' },
        portName: 'redis',
        // Protected mode is off in the image: the password is the only lock on the door.
        args: ['--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes'],
        env: [
          { name: 'REDIS_PASSWORD', secretKey: 'REDIS_PASSWORD' },
          { name: 'REDISCLI_AUTH', secretKey: 'REDIS_PASSWORD' },
        ],
        probes: probes({ script: 'redis-cli ping | grep -q PONG' }),
        security: hardened(),
        scratch: [{ name: 'tmp', mount: '/tmp' }],
        resources: { cpu: '100m', memory: '256Mi', memoryLimit: '512Mi' },
        managed: 'ElastiCache / Memorystore when the cache must survive a node loss or needs replicas',
      };
    case 'rabbitmq':
      return {
        ...base,
        portName: 'amqp',
        args: [],
        env: [{ name: 'RABBITMQ_DEFAULT_PASS', secretKey: 'RABBITMQ_DEFAULT_PASS' }],
        probes: probes({ script: 'rabbitmq-diagnostics -q ping' }),
        // The image's data and config folders are mode 1777 for arbitrary uids; HOME (the Erlang cookie) is the volume.
        security: hardened(),
        scratch: [{ name: 'tmp', mount: '/tmp' }],
        resources: { cpu: '250m', memory: '512Mi', memoryLimit: '1Gi' },
        managed: 'Amazon MQ for RabbitMQ, or the RabbitMQ Cluster Operator for a three-node quorum cluster',
      };
    case 'meilisearch':
      return {
        ...base,
        portName: 'http',
        args: [],
        env: [
          { name: 'MEILI_MASTER_KEY', secretKey: 'MEILI_MASTER_KEY' },
          { name: 'MEILI_ENV', value: 'production' },
          { name: 'MEILI_NO_ANALYTICS', value: 'true' },
        ],
        probes: probes({ httpGet: { path: '/health', scheme: 'HTTP' } }, undefined, { httpGet: { path: '/health', scheme: 'HTTP' } }),
        // The services' scoped key (MEILI_API_KEY in secrets.env, derived from the master key): 201 created, 409 it exists.
        postStart: [
          `until curl -fs -o /dev/null http://127.0.0.1:${d.port}/health; do sleep 1; done`,
          `status=$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:${d.port}/keys -H "Authorization: Bearer $MEILI_MASTER_KEY" -H 'Content-Type: application/json' --data '${searchKey(stack).body}')`,
          `{ [ "$status" = 201 ] || [ "$status" = 409 ]; }`,
        ].join(' && '),
        security: hardened(),
        scratch: [{ name: 'tmp', mount: '/tmp' }],
        resources: { cpu: '250m', memory: '512Mi', memoryLimit: '1Gi' },
        managed: 'Meilisearch Cloud when the index must be highly available (Meilisearch itself runs one node)',
      };
    case 'opensearch':
      return {
        ...base,
        portName: 'https',
        args: [],
        env: [
          { name: 'OPENSEARCH_INITIAL_ADMIN_PASSWORD', secretKey: 'OPENSEARCH_INITIAL_ADMIN_PASSWORD' },
          { name: 'OPENSEARCH_APP_PASSWORD', secretKey: 'OPENSEARCH_APP_PASSWORD' },
          { name: 'discovery.type', value: 'single-node' },
          // No privileged init container for vm.max_map_count: mmap is off instead.
          { name: 'node.store.allow_mmap', value: 'false' },
          { name: 'OPENSEARCH_JAVA_OPTS', value: '-Xms512m -Xmx512m' },
          // Not the image's demo certificates: the namespace CA's (tls below), which the services verify.
          { name: 'DISABLE_INSTALL_DEMO_CONFIG', value: 'true' },
          ...opensearchTlsSettings(),
          // The users and roles the init container wrote load into the security index at first start.
          { name: 'plugins.security.allow_default_init_securityindex', value: 'true' },
        ],
        probes: probes(
          { tcpSocket: true },
          { script: `curl -fs -o /dev/null --cacert ${OPENSEARCH_CONFIG}/certs/ca.crt -u "admin:$OPENSEARCH_INITIAL_ADMIN_PASSWORD" "https://localhost:9200/_cluster/health?local=true"` },
        ),
        security: { ...hardened(true, 1000), exemption: "uid 1000: the image's files belong to it" },
        scratch: [
          { name: 'logs', mount: '/usr/share/opensearch/logs' },
          { name: 'tmp', mount: '/tmp' },
        ],
        seedConfig: { mount: OPENSEARCH_CONFIG, script: opensearchSecurityConfig(stack) },
        tls: { secretName: 'opensearch-tls', mount: `${OPENSEARCH_CONFIG}/certs`, commonName: 'opensearch', dnsNames: ['opensearch', 'opensearch-0.opensearch', 'localhost'] },
        resources: { cpu: '500m', memory: '1Gi', memoryLimit: '2Gi' },
        managed: 'Amazon OpenSearch Service: a single node has no replica, so a lost volume loses the index',
      };
    default:
      throw new Error(`${d.name} does not run in Kubernetes`);
  }
}

function gatewayFacts(config: StackConfig): K8sGateway {
  if (config.gateway === 'kong') {
    return {
      className: 'kong',
      gatewayClass: { controllerName: 'konghq.com/kic-gateway-controller' },
      controllerNamespace: 'kong',
      implementation: 'Kong Ingress Controller 3.x',
      install: 'helm install kong kong/ingress -n kong --create-namespace',
      kongPlugins: [...kongPlugins(config), KONG_API_RATE_LIMIT, KONG_AUTH_RATE_LIMIT],
      ngf: null,
    };
  }
  return {
    className: 'nginx',
    gatewayClass: null,
    controllerNamespace: 'nginx-gateway',
    // RateLimitPolicy is in NGINX Gateway Fabric from 2.4.
    implementation: 'NGINX Gateway Fabric 2.4 or later',
    install: 'helm install ngf oci://ghcr.io/nginx/charts/nginx-gateway-fabric -n nginx-gateway --create-namespace',
    kongPlugins: [],
    ngf: { headers: EDGE.headers.map(([name, value]) => ({ name, value })), maxBodySize: `${EDGE.maxBodyMegabytes}m` },
  };
}

/** A public service's routes: its path; an api's auth path too, limited harder (as on the compose gateways). */
function routesOf(config: StackConfig, name: string, kind: string, path: string): K8sRoute[] {
  const common = kongPlugins(config).map((p) => p.id);
  if (kind !== 'api') return [{ name, path, kongPlugins: common.join(','), rateLimit: null }];
  return [
    { name, path, kongPlugins: [...common, KONG_API_RATE_LIMIT.id].join(','), rateLimit: { rate: `${EDGE.apiRateLimit.perSecond}r/s`, burst: EDGE.apiRateLimit.burst } },
    {
      name: `${name}-auth`,
      path: `${path === '/' ? '' : path}/auth`,
      kongPlugins: [...common, KONG_AUTH_RATE_LIMIT.id].join(','),
      rateLimit: { rate: `${EDGE.authRateLimit.perMinute}r/m`, burst: EDGE.authRateLimit.burst },
    },
  ];
}
