/**
 * Who owns a file decides how a re-run treats it:
 * - generated: the generator's until the person edits it (tracked in the manifest);
 * - answers:   infra-stack.yaml, edited structurally by commands, never a conflict;
 * - env:       .env, holds secrets: created once, later runs only append missing keys.
 */
export type Ownership = 'generated' | 'answers' | 'env';

export interface TreeFile {
  content: string;
  /** Template (or other source) the content came from, for error messages. */
  source: string;
  ownership: Ownership;
  /** Unix mode for scripts; files default to 0o644. */
  mode?: number;
  /** Needs prettier: rendered by a template from outside the package. */
  format?: boolean;
}

/** The generated repository in memory: relative POSIX path -> file. Nothing on disk yet. */
export type Tree = Map<string, TreeFile>;
