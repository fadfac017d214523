/**
 * Pinned images and the ports and names of the stack's own services.
 * One place to bump before a release (see REFERENCE.md for the sources).
 */
export const IMAGES = {
  postgres: 'postgres:18-alpine',
  redis: 'redis:8-alpine',
  rabbitmq: 'rabbitmq:4-management-alpine',
  elasticmq: 'softwaremill/elasticmq-native:1.7.1',
  meilisearch: 'getmeili/meilisearch:v1.54',
  opensearch: 'opensearchproject/opensearch:3',
  // The local stand-in for S3: MinIO publishes no images any more (REFERENCE.md section 9).
  seaweedfs: 'chrislusf/seaweedfs:4.47',
  nginx: 'nginx:1.30-alpine',
  kong: 'kong:3.9',
  certbot: 'certbot/certbot:v5.8.0',
} as const;

/** The nginx version inside IMAGES.nginx: templates render directives for it. */
export const NGINX_IMAGE_VERSION = '1.30.0';

export const NODE_VERSIONS = ['20', '22', '24', '26'] as const;
export const DEFAULT_NODE_VERSION = '24';

/** Names taken by the stack itself: a user's service cannot use them. */
export const RESERVED_NAMES = [
  'postgres',
  'redis',
  'rabbitmq',
  'elasticmq',
  'meilisearch',
  'opensearch',
  'seaweedfs',
  'nginx',
  'kong',
  'gateway',
  'certbot',
  // k8s resources of the stack that a service's resource of the same name would replace: network
  // policies, the HTTP->HTTPS HTTPRoute, and stack-config (a service's ConfigMap is <name>-config).
  'default-deny',
  'allow-dns',
  'acme-http01-solver',
  'https-redirect',
  'stack',
] as const;

/** Beginnings of names taken too: the uses-<data service> network policies, and compose's x- extensions. */
export const RESERVED_PREFIXES = ['uses-', 'x-'] as const;

/** First port handed out to a service given without one. */
export const FIRST_SERVICE_PORT = 3000;

/**
 * GitHub Actions the generated workflows use (REFERENCE.md section 6: current majors). A third-party
 * action is pinned to a full commit SHA: trivy-action's tags were force-pushed to malicious commits
 * in March 2026 (aquasecurity/trivy-action#541), and a SHA cannot be moved.
 */
export const ACTIONS = {
  checkout: 'actions/checkout@v7',
  setupNode: 'actions/setup-node@v7',
  setupBuildx: 'docker/setup-buildx-action@v4',
  login: 'docker/login-action@v4',
  metadata: 'docker/metadata-action@v6',
  buildPush: 'docker/build-push-action@v7',
  trivy: 'aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25',
  trivyVersion: 'v0.36.0',
} as const;

/** Tools the generated day-2 files pin (REFERENCE.md sections 7 and 8). */
export const TOOLS = {
  pm2: '7.0.4',
  husky: '9.1.7',
  /** lint-staged 17 needs Node >= 22.22.1 (REFERENCE.md section 7); 16.4 runs on Node >= 20.17. */
  lintStaged: { version: '17.6.1', node: '>=22.22.1' },
  lintStagedForOlderNode: { version: '16.4.0', node: '>=20.17' },
  prettier: '3.10.1',
  preCommitHooks: 'v6.0.0',
  hadolint: 'v2.15.1',
  shellcheckPy: 'v0.11.0.1',
} as const;
