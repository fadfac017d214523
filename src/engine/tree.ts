import type { EnvGroup } from '../model/env.js';
import { hashContent } from './manifest.js';

/**
 * Who owns a file decides how a re-run treats it:
 * - generated: the generator's until the person edits it (tracked in the manifest);
 * - answers:   infra-stack.yaml, edited structurally by commands, never a conflict;
 * - env:       .env, holds secrets: created once (0600), later runs only append missing keys;
 * - lines:     .gitignore: created once, later runs only append missing lines.
 */
export type Ownership = 'generated' | 'answers' | 'env' | 'lines';

/** How a secrets file's values were made, so a key appended later derives from the values there. */
export interface EnvSource {
  groups: EnvGroup[];
  secrets: Record<string, string>;
}

export interface TreeFile {
  content: string;
  /** Template (or other source) the content came from, for error messages. */
  source: string;
  ownership: Ownership;
  /** Unix mode for scripts; files default to 0o644. */
  mode?: number;
  /** Needs prettier: rendered by a template from outside the package. */
  format?: boolean;
  /** Secrets files (ownership env). */
  env?: EnvSource;
}

/** The generated repository in memory: relative POSIX path -> file. Nothing on disk yet. */
export type Tree = Map<string, TreeFile>;

// 200 services share most of their files' contents (641 distinct in 1,640 files), and the plan,
// the merge and the snapshot all ask for hashes: each distinct text is hashed once.
const hashes = new Map<string, string>();

/** hashContent of a text, computed once per distinct text. */
export function textHash(text: string): string {
  let hash = hashes.get(text);
  if (hash === undefined) {
    if (hashes.size >= 10_000) hashes.clear(); // a long-lived process (tests) renders many trees
    hashes.set(text, (hash = hashContent(text)));
  }
  return hash;
}

/** hashContent, from the cache for a text (what a run wrote it was asked the hash of already). */
export function contentHash(content: string | Buffer): string {
  return typeof content === 'string' ? textHash(content) : hashContent(content);
}

/** A rendered file's hash. */
export function fileHash(file: TreeFile): string {
  return textHash(file.content);
}
