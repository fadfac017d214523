import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hashContent } from '../../src/engine/manifest.js';

/**
 * Every entry below `dir`, byte for byte: files as mode, owner and base64 content, folders,
 * and links with their target. Two snapshots are equal only if nothing at all changed.
 */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const rel = prefix + name;
      const st = lstatSync(path);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(path)}`;
      else if (st.isDirectory()) {
        out[rel + '/'] = meta;
        walk(path, rel + '/');
      } else if (!st.isFile()) out[rel] = `${meta} special`;
      else out[rel] = `${meta} ${readFileSync(path).toString('base64')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** Paths of files the engine leaves only while it runs: temps, backups, journal, lock. */
export function leftovers(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter(
    (p) => p.endsWith('.infra-stack-tmp') || p === '.infra-stack/journal.json' || p.startsWith('.infra-stack/lock'),
  );
}

/** Every file the manifest lists holds the content whose hash it records (a consistent repository). */
export function manifestMismatches(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, '.infra-stack/manifest.json'), 'utf8')) as { files: Record<string, string> };
  return Object.entries(manifest.files)
    .filter(([path, hash]) => {
      try {
        return hashContent(readFileSync(join(dir, path))) !== hash;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}
