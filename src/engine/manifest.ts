import { hash as digest } from 'node:crypto';
import { InputError, UsageError } from '../model/errors.js';
import { byCodeUnit } from '../model/order.js';
import type { StackConfig } from '../model/types.js';
import { VERSION } from '../version.js';
import { readRepoText, unsafeOutputReason } from './disk.js';

export const MANIFEST_PATH = '.infra-stack/manifest.json';

/** What the generator last wrote: path -> hash, so a re-run can tell the person's edits from its own. */
export interface Manifest {
  generator: string;
  version: string;
  /** The answers of the last run: re-rendered, they are the base of a three-way merge. */
  answers?: StackConfig;
  files: Record<string, string>;
  /** Set when `files` is exactly what the run's inputs render (see unchanged.ts). */
  fresh?: Fresh;
}

/** What the manifest's `fresh` holds: the run's inputs, and the snapshot it left. */
export interface Fresh {
  /** Hash of everything a render depends on: generator, version, answers, templates. */
  inputs: string;
  /** Hash of the snapshot (.infra-stack/base) the run left, byte for byte. */
  base: string;
}

const SHA256 = /^sha256-[A-Za-z0-9+/]{43}=$/;

export function hashContent(content: string | Buffer): string {
  // One call, not a Hash object (a stream) per file: a third less time for a 64-file create.
  return 'sha256-' + digest('sha256', content, 'base64');
}

export function emptyManifest(version: string): Manifest {
  return { generator: 'create-infra-stack', version, files: {} };
}

/**
 * Reads .infra-stack/manifest.json. It is a file in the repository that anyone can commit, so
 * it is checked like input: every path must be inside the repository (no `..`, no absolute
 * path) and every hash a sha256; anything else is refused with one line (exit 2).
 */
function parseManifest(text: string | undefined, version: string): Manifest {
  if (text === undefined) return emptyManifest(version);
  const refuse = (field: string, value: unknown, allowed: string) => new InputError(`${MANIFEST_PATH} ${field}`, value, allowed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw refuse('(the whole file)', (error as Error).message, 'JSON written by create-infra-stack; restore it from git or delete it');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('(the whole file)', parsed, 'a JSON object');
  const m = parsed as Record<string, unknown>;
  if (typeof m.version !== 'string') throw refuse('version', m.version, 'a version string');
  if (m.answers !== undefined && (typeof m.answers !== 'object' || m.answers === null || Array.isArray(m.answers))) {
    throw refuse('answers', m.answers, 'an object of answers');
  }
  const files = m.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw refuse('files', files, 'an object of path -> hash');
  for (const [path, hash] of Object.entries(files)) {
    const unsafe = unsafeOutputReason(path);
    if (unsafe) throw refuse('files', path, `paths of generated files inside the repository (this is ${unsafe})`);
    if (typeof hash !== 'string' || !SHA256.test(hash)) throw refuse(`files[${JSON.stringify(path)}]`, hash, 'a sha256 hash');
  }
  // Only ever a shortcut: one that is not two hashes is dropped (the run renders, and records a good one).
  const fresh = m.fresh as Fresh | undefined;
  const freshOk = typeof fresh === 'object' && fresh !== null && SHA256.test(String(fresh.inputs)) && SHA256.test(String(fresh.base));
  return { ...(parsed as Manifest), generator: 'create-infra-stack', fresh: freshOk ? { inputs: fresh.inputs, base: fresh.base } : undefined };
}

export function manifestText(manifest: Manifest): string {
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => byCodeUnit(a, b)));
  return JSON.stringify({ ...manifest, files }, null, 2) + '\n';
}

/** The previous run's manifest; a repository written by a newer generator is refused (exit 2). */
export function readManifest(dir: string): { manifest: Manifest; text: string | undefined } {
  const text = readRepoText(dir, MANIFEST_PATH);
  const manifest = parseManifest(text, VERSION);
  if (newer(manifest.version, VERSION)) {
    throw new UsageError(
      `This repository was last written by create-infra-stack ${manifest.version}, newer than this one (${VERSION}). Run the repository's own: \`npm install\`, then \`npx infra-stack\`.`,
    );
  }
  return { manifest, text };
}

/** a > b for versions like 1.2.3 (a pre-release counts as its release). */
function newer(a: string, b: string): boolean {
  const parts = (v: string) => v.split(/[-+]/)[0].split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}
