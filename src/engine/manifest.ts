import { createHash } from 'node:crypto';
import type { StackConfig } from '../model/types.js';

export const MANIFEST_PATH = '.infra-stack/manifest.json';

/** What the generator last wrote: path -> hash, so a re-run can tell the person's edits from its own. */
export interface Manifest {
  generator: string;
  version: string;
  /** The answers of the last run: re-rendered, they are the base of a three-way merge. */
  answers?: StackConfig;
  files: Record<string, string>;
}

export function hashContent(content: string): string {
  return 'sha256-' + createHash('sha256').update(content).digest('base64');
}

export function emptyManifest(version: string): Manifest {
  return { generator: 'create-infra-stack', version, files: {} };
}

export function parseManifest(text: string | undefined, version: string): Manifest {
  if (text === undefined) return emptyManifest(version);
  try {
    const parsed = JSON.parse(text) as Manifest;
    if (typeof parsed.files !== 'object' || parsed.files === null) throw new Error('no files');
    return parsed;
  } catch {
    throw new Error(`${MANIFEST_PATH} is not a manifest written by create-infra-stack; restore it from git or delete it`);
  }
}

export function manifestText(manifest: Manifest): string {
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ ...manifest, files }, null, 2) + '\n';
}
