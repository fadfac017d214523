import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { fileHash, textHash, type Tree } from './tree.js';

/**
 * The exact content the generator last wrote, for every file it owns: the base of the next
 * three-way merge. It lives in the repository, so a fresh clone (with or without git, a
 * teammate's or CI's) merges offline after an upgrade of the generator or a change of the
 * team's templates, when re-rendering the old answers would no longer give the old files.
 * Brotli finds the repeats between services; base64 keeps it a text file.
 */
export const SNAPSHOT_PATH = '.infra-stack/base';

const HEADER = [
  '# What create-infra-stack last wrote, the base of its three-way merges (file contents as JSON,',
  '# brotli, base64). Written by every run; do not edit. Secrets files (.env) are never in it.',
];

/** The snapshot's contents whose hash the manifest recorded; anything else (edited, corrupt) is left out. */
export function readSnapshot(text: string | undefined, recorded: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  let parsed: unknown;
  try {
    const encoded = text.split('\n').filter((line) => !line.startsWith('#')).join('');
    parsed = JSON.parse(brotliDecompressSync(Buffer.from(encoded, 'base64')).toString('utf8'));
  } catch {
    return out; // unreadable (say, a bad git merge of it): merges fall back to what can be re-rendered
  }
  for (const [path, content] of contentsOf(parsed)) {
    if (recorded[path] === textHash(content)) out.set(path, content);
  }
  return out;
}

/** path -> content of either layout: `{ files: { path: index }, contents: [...] }`, or the first layout, `{ path: content }`. */
function contentsOf(parsed: unknown): [string, string][] {
  if (typeof parsed !== 'object' || parsed === null) return [];
  const { files, contents } = parsed as { files?: unknown; contents?: unknown };
  if (typeof files === 'object' && files !== null && Array.isArray(contents)) {
    return Object.entries(files).flatMap(([path, i]) => (typeof contents[i as number] === 'string' ? [[path, contents[i as number] as string]] : []));
  }
  return Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
}

/**
 * The snapshot for a manifest: each recorded file's content, from the tree just rendered or
 * from the previous base, whichever has the recorded hash. The previous base is asked for only
 * when the tree lacks one (a file left in conflict): reading it costs a decompress and a hash
 * of every file.
 */
export function snapshotText(recorded: Record<string, string>, tree: Tree, previous: () => Map<string, string>): string {
  // Each content once, however many files have it (200 services share most of theirs): a fifth
  // of the bytes to serialise and compress.
  const files: Record<string, number> = {};
  const contents: string[] = [];
  const indexOf = new Map<string, number>();
  const add = (path: string, content: string) => {
    const hash = recorded[path];
    let i = indexOf.get(hash);
    if (i === undefined) indexOf.set(hash, (i = contents.push(content) - 1));
    files[path] = i;
  };
  for (const path of Object.keys(recorded).sort()) {
    const file = tree.get(path);
    if (file && fileHash(file) === recorded[path]) add(path, file.content);
    else if (previous().get(path) !== undefined) add(path, previous().get(path)!);
  }
  const json = JSON.stringify({ files, contents });
  const packed = brotliCompressSync(json, {
    params: {
      // Quality 3 with a 256 KB window: at 200 services (1.7 MB of distinct contents) 3 ms, 72 KB;
      // quality 6 with a 16 MB window took 21 ms for 61 KB.
      [constants.BROTLI_PARAM_QUALITY]: 3,
      [constants.BROTLI_PARAM_LGWIN]: 18,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  }).toString('base64');
  const lines = packed.match(/.{1,76}/g) ?? [];
  return [...HEADER, ...lines, ''].join('\n');
}
