import { EDGE } from './edge.js';
import type { StackConfig } from './types.js';

/**
 * A Kong plugin with its settings: the one source for kong/kong.yml (compose) and the
 * KongPlugin resources (k8s), so both enforce what the nginx gateway does (src/model/edge.ts).
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

/** Plugins on every route. */
export function kongPlugins(config: StackConfig): KongPlugin[] {
  return [
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
      comment: `The same body limit as the nginx gateway (client_max_body_size ${EDGE.maxBodyMegabytes}M).`,
      config: { allowed_payload_size: EDGE.maxBodyMegabytes, size_unit: 'megabytes' },
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
      comment: 'The same security headers as the nginx gateway (CSP included), on every response.',
      config: { add: { headers: EDGE.headers.map(([name, value]) => `${name}: ${value}`) } },
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

/** An api's routes only, as nginx limits its api locations (web pages and static files are not limited). */
export const KONG_API_RATE_LIMIT: KongPlugin = {
  id: 'api-rate-limiting',
  name: 'rate-limiting',
  comment: `Per client address, an api's routes only; "local" counts in each Kong node (no database in DB-less mode).`,
  config: { second: EDGE.apiRateLimit.perSecond, minute: EDGE.apiRateLimit.perSecond * 60, limit_by: 'ip', policy: 'local' },
};

/** The stricter limit on api auth paths, against credential stuffing (it takes the place of the api limit there). */
export const KONG_AUTH_RATE_LIMIT: KongPlugin = {
  id: 'auth-rate-limiting',
  name: 'rate-limiting',
  comment: 'Auth endpoints: a stricter limit against credential stuffing.',
  config: { minute: EDGE.authRateLimit.perMinute, limit_by: 'ip', policy: 'local' },
};
