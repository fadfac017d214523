import { NGINX_IMAGE_VERSION } from './catalog.js';
import type { StackConfig } from './types.js';

/** What the nginx config must say for the version it runs on (Mozilla guideline 6.0, intermediate). */
export interface NginxFacts {
  version: string;
  /** `http2 on;` from 1.25.1; before it, `listen 443 ssl http2`. */
  http2Directive: boolean;
  /** `ssl_session_tickets off;` only for 1.5.9 to 1.23.1 (later versions rotate ticket keys). */
  sessionTicketsOff: boolean;
  /** Key exchange groups: the hybrid post-quantum group needs OpenSSL 3.5, which only the pinned image is known to have. */
  ecdhCurve: string;
  /** Certificate folder, relative to nginx.conf (/etc/nginx/certs in the container): certbot's layout, also scripts/dev-certs.sh's. */
  certDir: string;
  /** Some api asked for the short GET cache. */
  proxyCache: boolean;
}

/** The oldest nginx the templates render for: `ssl_protocols TLSv1.3` needs 1.13.0. */
export const OLDEST_NGINX = '1.13.0';

export function nginxFacts(config: StackConfig): NginxFacts {
  const version = config.nginxVersion ?? NGINX_IMAGE_VERSION;
  const pinnedImage = version === NGINX_IMAGE_VERSION;
  return {
    version,
    http2Directive: atLeast(version, '1.25.1'),
    sessionTicketsOff: atLeast(version, '1.5.9') && !atLeast(version, '1.23.2'),
    ecdhCurve: (pinnedImage ? ['X25519MLKEM768'] : []).concat(['X25519', 'prime256v1', 'secp384r1']).join(':'),
    certDir: `certs/live/${config.domain}`,
    proxyCache: config.services.some((s) => s.cache),
  };
}

/** Dotted versions compared numerically: atLeast('1.25.10', '1.25.1'). */
export function atLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}
