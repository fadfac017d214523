import type { DataService, DataServiceName } from './data-services.js';

/**
 * The CI test job's service containers: one per data service the stack runs (ElasticMQ for SQS,
 * as in development; not SeaweedFS), with throwaway credentials that are not secrets. Each service's matrix
 * entry gets the connection settings of what it uses only.
 */
export interface CiContainer {
  name: DataServiceName;
  image: string;
  env: [string, string][];
  port: number;
  /** `docker run --health-cmd`: the job starts once every container is healthy. */
  healthCmd: string;
  /** What a service that uses it gets: [variable, value]. */
  connection: [string, string][];
}

export interface CiFacts {
  /** The compose file sets the infrastructure job checks: base, development, production. */
  composeFileSets: string[][];
  containers: CiContainer[];
  /** Every connection variable: the job's env reads each from the service's matrix entry. */
  vars: string[];
  /** Per service: its matrix entry's connection values (what it uses only). */
  matrix: { service: string; values: [string, string][] }[];
}

const OPENSEARCH_CI_PASSWORD = 'Ci-0pensearch!'; // the image refuses weak initial passwords

function container(d: DataService, stack: string): CiContainer | null {
  const base = { name: d.name, image: d.image, port: d.port };
  switch (d.name) {
    case 'postgres':
      return {
        ...base,
        env: [['POSTGRES_USER', 'ci'], ['POSTGRES_PASSWORD', 'ci'], ['POSTGRES_DB', 'ci']],
        healthCmd: 'pg_isready -U ci -d ci',
        connection: [['DATABASE_URL', 'postgres://ci:ci@localhost:5432/ci']],
      };
    case 'redis':
      return { ...base, env: [], healthCmd: 'redis-cli ping', connection: [['REDIS_URL', 'redis://localhost:6379/0']] };
    case 'rabbitmq':
      return {
        ...base,
        env: [['RABBITMQ_DEFAULT_USER', 'ci'], ['RABBITMQ_DEFAULT_PASS', 'ci']],
        healthCmd: 'rabbitmq-diagnostics -q ping',
        connection: [['AMQP_URL', 'amqp://ci:ci@localhost:5672/']],
      };
    case 'elasticmq':
      return {
        ...base,
        env: [],
        // Older tags are Alpine (busybox wget), newer ones Debian slim (bash, no wget or curl).
        healthCmd: "wget -q -O /dev/null 'http://127.0.0.1:9324/?Action=ListQueues' 2>/dev/null || bash -c 'exec 3<>/dev/tcp/127.0.0.1/9324'",
        connection: [
          ['AWS_REGION', 'us-east-1'],
          ['AWS_ACCESS_KEY_ID', 'ci'],
          ['AWS_SECRET_ACCESS_KEY', 'ci'],
          ['AWS_ENDPOINT_URL_SQS', 'http://localhost:9324'],
          // Tests create the queue (CreateQueue): a service container cannot mount elasticmq.conf.
          ['SQS_QUEUE_URL', `http://localhost:9324/000000000000/${stack}-jobs`],
        ],
      };
    case 'meilisearch':
      return {
        ...base,
        env: [['MEILI_MASTER_KEY', 'ci-master-key-not-a-secret']],
        healthCmd: 'curl -fsS http://127.0.0.1:7700/health',
        connection: [
          ['MEILI_URL', 'http://localhost:7700'],
          ['MEILI_API_KEY', 'ci-master-key-not-a-secret'],
        ],
      };
    case 'opensearch':
      return {
        ...base,
        env: [
          ['discovery.type', 'single-node'],
          ['OPENSEARCH_JAVA_OPTS', '-Xms512m -Xmx512m'],
          ['OPENSEARCH_INITIAL_ADMIN_PASSWORD', OPENSEARCH_CI_PASSWORD],
        ],
        healthCmd: `curl -fsk -u 'admin:${OPENSEARCH_CI_PASSWORD}' https://127.0.0.1:9200/_cluster/health`,
        connection: [
          ['OPENSEARCH_URL', 'https://localhost:9200'],
          ['OPENSEARCH_USERNAME', 'admin'],
          ['OPENSEARCH_PASSWORD', OPENSEARCH_CI_PASSWORD],
          // The throwaway container's demo certificate: CI only, never a deployed environment.
          ['OPENSEARCH_TLS_VERIFY', 'false'],
        ],
      };
    case 'seaweedfs':
      // A service container takes no command or mounted script, and SeaweedFS needs both (its
      // entrypoint.sh creates the bucket): a test that needs S3 starts its own.
      return null;
  }
}

export function ciFacts(stack: string, data: DataService[], services: { name: string; uses: DataServiceName[] }[]): CiFacts {
  const containers = data.flatMap((d) => container(d, stack) ?? []);
  return {
    composeFileSets: [['compose.yaml'], ['compose.yaml', 'compose.override.yaml'], ['compose.yaml', 'compose.prod.yaml']],
    containers,
    vars: containers.flatMap((c) => c.connection.map(([key]) => key)),
    matrix: services.map((s) => ({ service: s.name, values: containers.filter((c) => s.uses.includes(c.name)).flatMap((c) => c.connection) })),
  };
}
