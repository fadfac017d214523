import type { StackConfig } from './types.js';

/**
 * A Kong plugin with its settings: the one source for kong/kong.yml (compose) and the
 * KongPlugin resources (k8s), so both gateways enforce the same limits.
 */
export interface KongPlugin {
  /** Resource name on k8s, unique per plugin instance. */
  id: string;
  /** Kong's plugin name. */
  name: string;
  /** Why it is there, as a comment above it. */
  comment: string;
  config: Record<string, unknown>;
}

/** The security headers the nginx gateway sends too. */
const SECURITY_HEADERS = [
  'Strict-Transport-Security: max-age=63072000; includeSubDomains',
  'X-Content-Type-Options: nosniff',
  'X-Frame-Options: SAMEORIGIN',
  'Referrer-Policy: strict-origin-when-cross-origin',
  'Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=()',
];

/** Plugins on every route. */
export function kongPlugins(config: StackConfig): KongPlugin[] {
  return [
    {
      id: 'rate-limiting',
      name: 'rate-limiting',
      comment: 'Per client address; "local" counts in each Kong node (no database in DB-less mode).',
      config: { second: 10, minute: 600, limit_by: 'ip', policy: 'local' },
    },
    {
      id: 'cors',
      name: 'cors',
      comment: 'Browsers may call the APIs from the site itself only.',
      config: {
        origins: [`https://${config.domain}`],
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        headers: ['Accept', 'Authorization', 'Content-Type', 'X-Request-ID'],
        exposed_headers: ['X-Request-ID'],
        credentials: true,
        max_age: 3600,
      },
    },
    {
      id: 'request-size-limiting',
      name: 'request-size-limiting',
      comment: 'The same body limit as the nginx gateway (client_max_body_size 16M).',
      config: { allowed_payload_size: 16, size_unit: 'megabytes' },
    },
    {
      id: 'correlation-id',
      name: 'correlation-id',
      comment: 'An X-Request-ID on every request and response, for tracing across services.',
      config: { header_name: 'X-Request-ID', generator: 'uuid#counter', echo_downstream: true },
    },
    {
      id: 'security-headers',
      name: 'response-transformer',
      comment: 'The same security headers as the nginx gateway, on every response.',
      config: { add: { headers: SECURITY_HEADERS } },
    },
    ...(config.monitoring === 'prometheus'
      ? [
          {
            id: 'prometheus',
            name: 'prometheus',
            comment: "Request, latency and status metrics, served on the status API's /metrics for Prometheus.",
            config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true },
          },
        ]
      : []),
  ];
}

/** The stricter limit on api auth paths, against credential stuffing. */
export const KONG_AUTH_RATE_LIMIT: KongPlugin = {
  id: 'auth-rate-limiting',
  name: 'rate-limiting',
  comment: 'Auth endpoints: a stricter limit against credential stuffing.',
  config: { minute: 10, limit_by: 'ip', policy: 'local' },
};
