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

const hashes = new WeakMap<TreeFile, string>();
// 200 services share most of their files' contents (641 distinct in 1,640 files): each is hashed once.
const byContent = new Map<string, string>();

/** A rendered file's hash, computed once: the plan, the merge and the snapshot all ask, for a thousand files. */
export function fileHash(file: TreeFile): string {
  let hash = hashes.get(file);
  if (hash === undefined) {
    hash = byContent.get(file.content);
    if (hash === undefined) {
      if (byContent.size >= 10_000) byContent.clear(); // a long-lived process (tests) renders many trees
      byContent.set(file.content, (hash = hashContent(file.content)));
    }
    hashes.set(file, hash);
  }
  return hash;
}
