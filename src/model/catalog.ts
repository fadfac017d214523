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
  'nginx',
  'kong',
  'gateway',
  'certbot',
] as const;

/** First port handed out to a service given without one. */
export const FIRST_SERVICE_PORT = 3000;
