import { IMAGES } from './catalog.js';
import type { DataRole, StackConfig } from './types.js';

export type { DataRole };

export type DataServiceName = 'postgres' | 'redis' | 'rabbitmq' | 'elasticmq' | 'meilisearch' | 'opensearch' | 'seaweedfs';

/** A backing service of the stack: the facts every target (compose, k8s, PM2 on a host) shares. */
export interface DataService {
  name: DataServiceName;
  role: DataRole;
  image: string;
  /** The port clients connect to. */
  port: number;
  /** Other ports worth reaching in development (management UIs). */
  devPorts: number[];
  /** Named volume and where the image keeps its data; null when it keeps none. */
  volume: { name: string; mount: string } | null;
  /** Environment added in development only (dashboards, debug modes). */
  devEnvironment: [string, string][];
  /** The variable that points a service at it (DATABASE_URL...); the sample checks what is set. */
  endpointVar: string;
  /**
   * What a service run on the host (PM2) reads from .env to reach it: [its variable, the .env key].
   * Only these reach it, so a service gets the settings and secrets of what it uses and nothing more.
   */
  hostEnv: [string, string][];
  /** Literal settings it needs on the host beside those (OpenSearch's user, its demo certificate). */
  hostSettings: [string, string][];
  /** A local stand-in for a cloud service (ElasticMQ for SQS, SeaweedFS for S3): compose.override.yaml only. */
  emulator: boolean;
}

type Entry = Omit<DataService, 'name' | 'image' | 'devEnvironment' | 'emulator' | 'hostEnv' | 'hostSettings'> &
  Partial<Pick<DataService, 'devEnvironment' | 'emulator' | 'hostEnv' | 'hostSettings'>>;

const CATALOG: Record<DataServiceName, Entry> = {
  postgres: { role: 'database', endpointVar: 'DATABASE_URL', port: 5432, devPorts: [], volume: { name: 'postgres-data', mount: '/var/lib/postgresql' } },
  redis: { role: 'cache', endpointVar: 'REDIS_URL', port: 6379, devPorts: [], volume: { name: 'redis-data', mount: '/data' } },
  rabbitmq: { role: 'queue', endpointVar: 'AMQP_URL', port: 5672, devPorts: [15672], volume: { name: 'rabbitmq-data', mount: '/var/lib/rabbitmq' } },
  elasticmq: {
    role: 'queue',
    endpointVar: 'AWS_ENDPOINT_URL_SQS',
    port: 9324,
    devPorts: [9325],
    volume: null,
    emulator: true,
    hostEnv: ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_SQS', 'SQS_QUEUE_URL'].map((k) => [k, k]),
  },
  meilisearch: {
    role: 'search',
    endpointVar: 'MEILI_URL',
    port: 7700,
    devPorts: [],
    volume: { name: 'meilisearch-data', mount: '/meili_data' },
    // Development mode serves the search preview dashboard on the same port.
    devEnvironment: [['MEILI_ENV', 'development']],
    hostEnv: [
      ['MEILI_URL', 'MEILI_URL'],
      ['MEILI_API_KEY', 'MEILI_API_KEY'],
    ],
  },
  opensearch: {
    role: 'search',
    endpointVar: 'OPENSEARCH_URL',
    port: 9200,
    devPorts: [],
    volume: { name: 'opensearch-data', mount: '/usr/share/opensearch/data' },
    hostEnv: [
      ['OPENSEARCH_URL', 'OPENSEARCH_URL'],
      ['OPENSEARCH_PASSWORD', 'OPENSEARCH_INITIAL_ADMIN_PASSWORD'],
    ],
    // The development cluster's demo certificate is self-signed.
    hostSettings: [
      ['OPENSEARCH_USERNAME', 'admin'],
      ['OPENSEARCH_TLS_VERIFY', 'false'],
    ],
  },
  // Development only (compose.override.yaml): production services use S3 itself (compose.yaml, k8s).
  seaweedfs: {
    role: 'storage',
    endpointVar: 'S3_BUCKET',
    port: 8333,
    devPorts: [],
    volume: { name: 'seaweedfs-data', mount: '/data' },
    emulator: true,
    hostEnv: ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_S3', 'S3_FORCE_PATH_STYLE', 'S3_BUCKET'].map((k) => [k, k]),
  },
};

/** The data services a stack runs, in a stable order (database, cache, queue, search, storage). */
export function dataServicesOf(stack: Pick<StackConfig, 'database' | 'cache' | 'queue' | 'search'> & Partial<Pick<StackConfig, 'storage'>>): DataService[] {
  const names: DataServiceName[] = [];
  if (stack.database === 'postgres') names.push('postgres');
  if (stack.cache === 'redis') names.push('redis');
  names.push(stack.queue === 'sqs' ? 'elasticmq' : 'rabbitmq');
  names.push(stack.search);
  if (stack.storage === 's3') names.push('seaweedfs');
  return names.map((name) => {
    const entry = CATALOG[name];
    return { name, image: IMAGES[name], devEnvironment: [], emulator: false, hostEnv: [[entry.endpointVar, entry.endpointVar]], hostSettings: [], ...entry };
  });
}

/** Ports the data services hold on a developer's host: a service may not take them. */
export function dataPortsOf(stack: Parameters<typeof dataServicesOf>[0]): [number, string][] {
  return dataServicesOf(stack).flatMap((d) => [d.port, ...d.devPorts].map((p): [number, string] => [p, d.name]));
}
