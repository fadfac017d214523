import { IMAGES } from './catalog.js';
import type { DataRole, StackConfig } from './types.js';

export type { DataRole };

export type DataServiceName = 'postgres' | 'redis' | 'rabbitmq' | 'elasticmq' | 'meilisearch' | 'opensearch';

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
  /** A local stand-in for a cloud service (ElasticMQ for SQS): development only, never in production files. */
  emulator: boolean;
}

type Entry = Omit<DataService, 'name' | 'image' | 'devEnvironment' | 'emulator'> & Partial<Pick<DataService, 'devEnvironment' | 'emulator'>>;

const CATALOG: Record<DataServiceName, Entry> = {
  postgres: { role: 'database', endpointVar: 'DATABASE_URL', port: 5432, devPorts: [], volume: { name: 'postgres-data', mount: '/var/lib/postgresql' } },
  redis: { role: 'cache', endpointVar: 'REDIS_URL', port: 6379, devPorts: [], volume: { name: 'redis-data', mount: '/data' } },
  rabbitmq: { role: 'queue', endpointVar: 'AMQP_URL', port: 5672, devPorts: [15672], volume: { name: 'rabbitmq-data', mount: '/var/lib/rabbitmq' } },
  elasticmq: { role: 'queue', endpointVar: 'AWS_ENDPOINT_URL_SQS', port: 9324, devPorts: [9325], volume: null, emulator: true },
  meilisearch: {
    role: 'search',
    endpointVar: 'MEILI_URL',
    port: 7700,
    devPorts: [],
    volume: { name: 'meilisearch-data', mount: '/meili_data' },
    // Development mode serves the search preview dashboard on the same port.
    devEnvironment: [['MEILI_ENV', 'development']],
  },
  opensearch: {
    role: 'search',
    endpointVar: 'OPENSEARCH_URL',
    port: 9200,
    devPorts: [],
    volume: { name: 'opensearch-data', mount: '/usr/share/opensearch/data' },
  },
};

/** The data services a stack runs, in a stable order (database, cache, queue, search). */
export function dataServicesOf(stack: Pick<StackConfig, 'database' | 'cache' | 'queue' | 'search'>): DataService[] {
  const names: DataServiceName[] = [];
  if (stack.database === 'postgres') names.push('postgres');
  if (stack.cache === 'redis') names.push('redis');
  names.push(stack.queue === 'sqs' ? 'elasticmq' : 'rabbitmq');
  names.push(stack.search);
  return names.map((name) => ({ name, image: IMAGES[name], devEnvironment: [], emulator: false, ...CATALOG[name] }));
}

/** Ports the data services hold on a developer's host: a service may not take them. */
export function dataPortsOf(stack: Pick<StackConfig, 'database' | 'cache' | 'queue' | 'search'>): [number, string][] {
  return dataServicesOf(stack).flatMap((d) => [d.port, ...d.devPorts].map((p): [number, string] => [p, d.name]));
}
