import { randomBytes } from 'node:crypto';
import type { EnvGroup, SecretKind } from '../model/env.js';

/**
 * Fresh random values for every secret of the stack. URL-safe (they end up inside
 * connection URLs) and free of `$` (compose would read it as interpolation).
 */
export function generateSecrets(groups: EnvGroup[]): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const v of groups.flatMap((g) => g.vars)) {
    if (v.secret && v.secret !== 'derived') secrets[v.key] = secretOf(v.secret);
  }
  return secrets;
}

function secretOf(kind: Exclude<SecretKind, 'derived'>): string {
  const random = (bytes: number) => randomBytes(bytes).toString('base64url');
  switch (kind) {
    case 'password':
      return random(24);
    case 'key':
      return random(32);
    case 'opensearch-password':
      // OpenSearch demands upper, lower, digit and a special character.
      return `Os1-${random(24)}`;
  }
}
