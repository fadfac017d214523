import { createHash, createHmac } from 'node:crypto';

/**
 * The services' Meilisearch key: scoped to what an app does (search, documents, index settings,
 * tasks), never the master key, which only Meilisearch and the step that creates this key hold.
 * Meilisearch derives a key's value from its uid and the master key (HMAC-SHA256 of the uid,
 * lowercase hex), so the value is known before the key exists: .env and secrets.env get it, and
 * the key is created with that uid when Meilisearch starts (compose: the meilisearch-key service;
 * k8s: the StatefulSet's postStart).
 */
export interface SearchKey {
  uid: string;
  description: string;
  actions: string[];
  indexes: string[];
  /** The POST /keys body. */
  body: string;
}

/** A UUID v4 layout from the stack name: stable across runs, so `update` keeps the same key. */
function uidOf(stack: string): string {
  const b = createHash('sha256').update(`infra-stack meilisearch key ${stack}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function searchKey(stack: string): SearchKey {
  const key = {
    uid: uidOf(stack),
    description: `${stack} services`,
    // No keys.*, dumps, snapshots or index deletion: those stay with the master key.
    actions: ['search', 'documents.*', 'indexes.create', 'indexes.get', 'indexes.update', 'settings.*', 'tasks.get', 'stats.get'],
    indexes: ['*'],
  };
  return { ...key, body: JSON.stringify({ ...key, expiresAt: null }) };
}

/** The key's value, as Meilisearch computes it from the uid and the master key. */
export function searchKeyValue(masterKey: string, uid: string): string {
  return createHmac('sha256', masterKey).update(uid).digest('hex');
}
