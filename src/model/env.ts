import { appSecretGroup } from './app-settings.js';
import type { DataServiceName } from './data-services.js';
import { searchKey, searchKeyValue } from './search-key.js';
import type { StackConfig } from './types.js';

/** How .env gets a value the first time: a random secret, or one computed from other secrets (`derived`). */
export type SecretKind = 'password' | 'key' | 'opensearch-password' | 'derived';

export interface EnvVar {
  key: string;
  comment: string;
  /** A plain default, or one built from other variables (a URL from a user and password). */
  value: string | ((vars: Record<string, string>) => string);
  /** Set for secrets: .env gets a fresh random value, .env.example an empty one. */
  secret?: SecretKind;
}

export interface EnvGroup {
  title: string;
  vars: EnvVar[];
}

/** `${KEY:?...}`: compose refuses to start when a required variable is missing. */
export function required(key: string): string {
  return `\${${key}:?set ${key} in .env}`;
}

/**
 * Every variable a generated file reads, grouped as .env.example shows them.
 * Compose reads them from .env; a service run on the host (PM2, node --watch) reads the URLs.
 */
export function envGroups(config: StackConfig, data: DataServiceName[]): EnvGroup[] {
  const has = (name: DataServiceName) => data.includes(name);
  const groups: EnvGroup[] = [
    {
      title: 'Images',
      vars: [
        { key: 'IMAGE_TAG', value: 'dev', comment: 'Tag of the service images to run (a release tag or git sha in production)' },
      ],
    },
  ];
  if (has('postgres')) {
    groups.push({
      title: 'PostgreSQL',
      vars: [
        { key: 'POSTGRES_USER', value: 'app', comment: 'Database owner' },
        { key: 'POSTGRES_PASSWORD', value: '', comment: 'Required: a long random string', secret: 'password' },
        { key: 'POSTGRES_DB', value: config.name.replaceAll('-', '_'), comment: 'Database name' },
        {
          key: 'DATABASE_URL',
          value: (v) => `postgres://${v.POSTGRES_USER}:${v.POSTGRES_PASSWORD}@127.0.0.1:5432/${v.POSTGRES_DB}`,
          comment: 'For services run on the host; containers get theirs from compose',
        },
      ],
    });
  }
  if (has('postgres')) {
    groups.push({
      title: 'Backups (the backup service of compose.prod.yaml)',
      vars: [
        { key: 'BACKUP_AT', value: '03:15', comment: 'When the daily backup runs, UTC (HH:MM)' },
        { key: 'BACKUP_RETENTION_DAYS', value: '30', comment: 'Days a backup is kept in production' },
      ],
    });
  }
  if (has('redis')) {
    groups.push({
      title: 'Redis',
      vars: [
        { key: 'REDIS_PASSWORD', value: '', comment: 'Required: a long random string', secret: 'password' },
        { key: 'REDIS_URL', value: (v) => `redis://:${v.REDIS_PASSWORD}@127.0.0.1:6379/0`, comment: 'For services run on the host' },
      ],
    });
  }
  if (has('rabbitmq')) {
    groups.push({
      title: 'RabbitMQ',
      vars: [
        { key: 'RABBITMQ_DEFAULT_USER', value: 'app', comment: 'Broker user (the image has no *_FILE variables since 3.9)' },
        { key: 'RABBITMQ_DEFAULT_PASS', value: '', comment: 'Required: a long random string', secret: 'password' },
        { key: 'AMQP_URL', value: (v) => `amqp://${v.RABBITMQ_DEFAULT_USER}:${v.RABBITMQ_DEFAULT_PASS}@127.0.0.1:5672/`, comment: 'For services run on the host' },
      ],
    });
  }
  if (has('elasticmq')) {
    groups.push({
      title: 'SQS (AWS SQS in production; ElasticMQ in development, compose.override.yaml)',
      vars: [
        { key: 'AWS_REGION', value: 'us-east-1', comment: `AWS region of the queue${has('seaweedfs') ? ' and the bucket' : ''}` },
        {
          key: 'SQS_QUEUE_URL',
          value: `http://127.0.0.1:9324/000000000000/${config.name}-jobs`,
          comment: `Production: https://sqs.<region>.amazonaws.com/<account id>/${config.name}-jobs (the default is ElasticMQ's, for services run on the host)`,
        },
        ...awsCredentials(config),
        { key: 'AWS_ENDPOINT_URL_SQS', value: 'http://127.0.0.1:9324', comment: 'Services run on the host only; containers get AWS (production) or ElasticMQ (development) from compose' },
      ],
    });
  }
  if (has('seaweedfs')) {
    groups.push({
      title: 'Object storage (SeaweedFS locally, S3 in production)',
      vars: [
        ...(has('elasticmq') ? [] : [{ key: 'AWS_REGION', value: 'us-east-1', comment: 'AWS region of the bucket' }, ...awsCredentials(config)]),
        { key: 'S3_BUCKET', value: `${config.name}-uploads`, comment: 'The bucket: created by SeaweedFS at start; create it yourself in production' },
        { key: 'AWS_ENDPOINT_URL_S3', value: 'http://127.0.0.1:8333', comment: 'SeaweedFS, for services run on the host' },
        { key: 'S3_FORCE_PATH_STYLE', value: 'true', comment: 'Path-style bucket URLs, as SeaweedFS needs' },
        {
          key: 'S3_ENDPOINT_URL',
          value: 'https://s3.us-east-1.amazonaws.com',
          comment: 'Production (compose.yaml): S3 itself or any S3 endpoint (DigitalOcean Spaces, R2...); development uses SeaweedFS',
        },
      ],
    });
  }
  if (has('meilisearch')) {
    groups.push({
      title: 'Meilisearch',
      vars: [
        { key: 'MEILI_MASTER_KEY', value: '', comment: 'Required: at least 16 bytes; Meilisearch and the key set-up only, never a service', secret: 'key' },
        {
          key: 'MEILI_API_KEY',
          value: (v) => searchKeyValue(v.MEILI_MASTER_KEY!, searchKey(config.name).uid),
          comment: `The services' key (search, documents, index settings, tasks), derived from the master key: recompute it when that changes`,
          secret: 'derived',
        },
        { key: 'MEILI_URL', value: 'http://127.0.0.1:7700', comment: 'For services run on the host' },
      ],
    });
  }
  if (has('opensearch')) {
    groups.push({
      title: 'OpenSearch',
      vars: [
        {
          key: 'OPENSEARCH_INITIAL_ADMIN_PASSWORD',
          value: '',
          comment: 'Required: 8-100 characters with upper, lower, digit and special; must be strong',
          secret: 'opensearch-password',
        },
        {
          key: 'OPENSEARCH_APP_PASSWORD',
          value: '',
          comment: "Kubernetes: the services' own user (app: its indices only), never admin",
          secret: 'opensearch-password',
        },
        { key: 'OPENSEARCH_URL', value: 'https://127.0.0.1:9200', comment: 'For services run on the host' },
      ],
    });
  }
  if (config.monitoring === 'prometheus') {
    groups.push({
      title: 'Monitoring (docker compose --profile monitoring)',
      vars: [{ key: 'GRAFANA_ADMIN_PASSWORD', value: '', comment: `Required: Grafana's admin password (user admin)`, secret: 'password' }],
    });
  }
  const appSecrets = appSecretGroup(config.services);
  if (appSecrets) groups.push(appSecrets);
  return groups;
}

/**
 * AWS keys, shared by SQS and S3. Locally they are the emulators': ElasticMQ takes any, SeaweedFS
 * checks them, so with object storage they are random. In production leave them empty so the SDK uses
 * the instance role (least privilege: the queue's and the bucket's actions only), or set an IAM user's.
 */
function awsCredentials(config: StackConfig): EnvVar[] {
  if (config.storage !== 's3') {
    return [
      {
        key: 'AWS_ACCESS_KEY_ID',
        value: 'local',
        comment: 'Production: empty, so the SDK uses the instance role (sqs:SendMessage, ReceiveMessage, DeleteMessage on the queue only); ElasticMQ takes any value',
      },
      { key: 'AWS_SECRET_ACCESS_KEY', value: 'local', comment: 'Production: empty, as AWS_ACCESS_KEY_ID' },
    ];
  }
  return [
    {
      key: 'AWS_ACCESS_KEY_ID',
      value: '',
      comment: "Required: SeaweedFS's access key locally; production: empty for the instance role (or an IAM user's key)",
      secret: 'key',
    },
    { key: 'AWS_SECRET_ACCESS_KEY', value: '', comment: 'Required: its secret key; production: as AWS_ACCESS_KEY_ID', secret: 'key' },
  ];
}

/**
 * Resolves every variable in order: secrets from `secrets` (or `<KEY>` placeholders when
 * absent, for .env.example), plain values as they are, derived values from the ones before.
 */
export function resolveEnv(
  groups: EnvGroup[],
  secrets: Record<string, string> | null,
  /** Values a .env already holds: kept, and what derives from them is built from them. */
  existing: Record<string, string> = {},
): Map<string, string> {
  const vars: Record<string, string> = {};
  for (const v of groups.flatMap((g) => g.vars)) {
    if (existing[v.key] !== undefined) vars[v.key] = existing[v.key];
    else if (v.secret === 'derived') vars[v.key] = secrets && typeof v.value === 'function' ? v.value(vars) : `<${v.key}>`;
    else if (v.secret) vars[v.key] = secrets ? (secrets[v.key] ?? '') : `<${v.key}>`;
    else vars[v.key] = typeof v.value === 'function' ? v.value(vars) : v.value;
  }
  return new Map(Object.entries(vars));
}
