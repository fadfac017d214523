/**
 * The development certificate: what the generated scripts/dev-certs.sh asks openssl for, and what
 * create makes the same way itself (src/cli/self-signed.ts). Besides the domain it names
 * localhost, which the README's first curl uses.
 */
export const DEV_CERTIFICATE = {
  /** The most browsers accept for a certificate. */
  days: 397,
  dnsNames: ['localhost'],
  ips: ['127.0.0.1'],
} as const;

/** The subjectAltName entries after the domain's, as openssl's -addext takes them. */
export const DEV_CERTIFICATE_EXTRA_NAMES = [...DEV_CERTIFICATE.dnsNames.map((n) => `DNS:${n}`), ...DEV_CERTIFICATE.ips.map((ip) => `IP:${ip}`)].join(',');
