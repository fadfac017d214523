import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { hashContent } from './manifest.js';
import { fileHash, type Tree } from './tree.js';

/**
 * The exact content the generator last wrote, for every file it owns: the base of the next
 * three-way merge. It lives in the repository, so a fresh clone (with or without git, a
 * teammate's or CI's) merges offline after an upgrade of the generator or a change of the
 * team's templates, when re-rendering the old answers would no longer give the old files.
 * Brotli finds the repeats between services; base64 keeps it a text file.
 */
export const SNAPSHOT_PATH = '.infra-stack/base';

const HEADER = [
  '# What create-infra-stack last wrote (path -> content, JSON, brotli, base64): the base of its',
  '# three-way merges. Written by every run; do not edit. Secrets files (.env) are never in it.',
];

/** The snapshot's contents whose hash the manifest recorded; anything else (edited, corrupt) is left out. */
export function readSnapshot(text: string | undefined, recorded: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  let files: unknown;
  try {
    const encoded = text.split('\n').filter((line) => !line.startsWith('#')).join('');
    files = JSON.parse(brotliDecompressSync(Buffer.from(encoded, 'base64')).toString('utf8'));
  } catch {
    return out; // unreadable (say, a bad git merge of it): merges fall back to what can be re-rendered
  }
  if (typeof files !== 'object' || files === null) return out;
  for (const [path, content] of Object.entries(files)) {
    if (typeof content === 'string' && recorded[path] === hashContent(content)) out.set(path, content);
  }
  return out;
}

/**
 * The snapshot for a manifest: each recorded file's content, from the tree just rendered or
 * from the previous base, whichever has the recorded hash. The previous base is asked for only
 * when the tree lacks one (a file left in conflict): reading it costs a decompress and a hash
 * of every file.
 */
export function snapshotText(recorded: Record<string, string>, tree: Tree, previous: () => Map<string, string>): string {
  const files: Record<string, string> = {};
  for (const path of Object.keys(recorded).sort()) {
    const file = tree.get(path);
    if (file && fileHash(file) === recorded[path]) files[path] = file.content;
    else if (previous().get(path) !== undefined) files[path] = previous().get(path)!;
  }
  const json = Buffer.from(JSON.stringify(files), 'utf8');
  const packed = brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 6, // within 1% of the best size, ten times faster
      // A 1 MB window: as small as the 16 MB one for 200 services (54.8 vs 54.9 KB), faster, and
      // ~7 MB less memory at the run's peak.
      [constants.BROTLI_PARAM_LGWIN]: 20,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  }).toString('base64');
  const lines = packed.match(/.{1,76}/g) ?? [];
  return [...HEADER, ...lines, ''].join('\n');
}
