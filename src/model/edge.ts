/**
 * What the gateway does at the edge, whichever renders it: nginx (compose), Kong (compose and k8s)
 * and NGINX Gateway Fabric (k8s). One fact, so every target sends the same headers and enforces the
 * same limits, and the generated files describe them in the same words.
 */
export interface Edge {
  /** Sent on every response, errors included. */
  headers: [string, string][];
  /** Per client address on an api's routes (not on web pages or their static files). */
  apiRateLimit: { perSecond: number; burst: number };
  /** Per client address on an api's auth endpoints (`<path>/auth/`): against credential stuffing. */
  authRateLimit: { perMinute: number; burst: number };
  /** The largest request body, in megabytes. */
  maxBodyMegabytes: number;
}

export const EDGE: Edge = {
  headers: [
    ['Strict-Transport-Security', 'max-age=63072000; includeSubDomains'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'SAMEORIGIN'],
    ['Referrer-Policy', 'strict-origin-when-cross-origin'],
    // A strict default for an API and a bundled front end; loosen it per route if a page needs more.
    ['Content-Security-Policy', "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
  ],
  apiRateLimit: { perSecond: 10, burst: 20 },
  authRateLimit: { perMinute: 10, burst: 5 },
  maxBodyMegabytes: 16,
};
