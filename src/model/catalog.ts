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
  // An exact release: a StatefulSet must never upgrade itself on a restart (no rollback for an index).
  opensearch: 'opensearchproject/opensearch:3.8.0',
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
  // The one-shot service that creates the services' scoped search key.
  'meilisearch-key',
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
 * GitHub Actions the generated workflows use, each pinned to the full commit SHA of a release (the
 * GitHub hardening guide): a tag can be moved, as trivy-action's were to malicious commits in March
 * 2026 (aquasecurity/trivy-action#541); a SHA cannot. The version is written beside it as a comment,
 * which Dependabot updates together with the SHA (.github/dependabot.yml).
 */
export const ACTIONS = {
  checkout: { action: 'actions/checkout', sha: '3d3c42e5aac5ba805825da76410c181273ba90b1', version: 'v7.0.1' },
  setupNode: { action: 'actions/setup-node', sha: '820762786026740c76f36085b0efc47a31fe5020', version: 'v7.0.0' },
  setupBuildx: { action: 'docker/setup-buildx-action', sha: '37fe631027851001ddb9b187196cc803df7f5f0e', version: 'v4.3.0' },
  login: { action: 'docker/login-action', sha: '4907a6ddec9925e35a0a9e82d7399ccc52663121', version: 'v4.1.0' },
  metadata: { action: 'docker/metadata-action', sha: 'dc802804100637a589fabce1cb79ff13a1411302', version: 'v6.2.0' },
  buildPush: { action: 'docker/build-push-action', sha: '53b7df96c91f9c12dcc8a07bcb9ccacbed38856a', version: 'v7.3.0' },
  trivy: { action: 'aquasecurity/trivy-action', sha: 'ed142fd0673e97e23eac54620cfb913e5ce36c25', version: 'v0.36.0' },
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
