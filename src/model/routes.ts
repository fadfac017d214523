/** The path with a trailing slash ("/api/", or "/"): what a gateway matches as a prefix. */
export function routePrefixOf(path: string | null): string | null {
  return path === null ? null : path === '/' ? '/' : `${path}/`;
}

/** An api's auth endpoints ("/api/auth/"), which both gateways rate-limit harder. */
export function authPrefixOf(path: string): string {
  return `${path === '/' ? '' : path}/auth/`;
}

/** Exact paths the gateway answers itself (snippets/healthz.conf): no service may be routed there. */
export const GATEWAY_PATHS = ['/healthz'];
