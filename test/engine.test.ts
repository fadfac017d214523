import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, operations, type ApplyFs } from '../src/engine/apply.js';
import { emptyManifest, hashContent } from '../src/engine/manifest.js';
import { plan } from '../src/engine/plan.js';
import { createRenderer } from '../src/engine/render.js';
import type { Tree, TreeFile } from '../src/engine/tree.js';
import { configOf, renderTree } from './helpers/stack.js';

const gen = (content: string): TreeFile => ({ content, source: 'test', ownership: 'generated' });

describe('plan', () => {
  const tree: Tree = new Map([
    ['new.txt', gen('new\n')],
    ['same.txt', gen('same\n')],
    ['ours.txt', gen('ours v2\n')],
    ['edited.txt', gen('edited v2\n')],
    ['kept.txt', gen('kept v1\n')],
    ['foreign.txt', gen('generated\n')],
  ]);
  const manifest = {
    ...emptyManifest('1'),
    files: {
      'same.txt': hashContent('same\n'),
      'ours.txt': hashContent('ours v1\n'),
      'edited.txt': hashContent('edited v1\n'),
      'kept.txt': hashContent('kept v1\n'),
      'gone.txt': hashContent('gone\n'),
      'gone-edited.txt': hashContent('gone\n'),
    },
  };
  const disk = new Map<string, string | undefined>([
    ['new.txt', undefined],
    ['same.txt', 'same\n'],
    ['ours.txt', 'ours v1\n'],
    ['edited.txt', 'edited v1 + my change\n'],
    ['kept.txt', 'kept v1 + my change\n'],
    ['foreign.txt', 'written by a person\n'],
    ['gone.txt', 'gone\n'],
    ['gone-edited.txt', 'gone + my change\n'],
  ]);
  const result = plan(tree, disk, manifest, '2');
  const action = (path: string) => result.entries.find((e) => e.path === path)?.action;

  it('tells the generator files from the person files', () => {
    expect(action('new.txt')).toBe('CREATE');
    expect(action('same.txt')).toBe('UNCHANGED');
    expect(action('ours.txt')).toBe('UPDATE');
    expect(action('edited.txt')).toBe('CONFLICT');
    expect(action('kept.txt')).toBe('KEPT');
    expect(action('foreign.txt')).toBe('CONFLICT');
    expect(action('gone.txt')).toBe('DELETE');
    expect(action('gone-edited.txt')).toBe('KEPT');
  });

  it('writes a conflict beside the person file, never over it', () => {
    const conflict = result.entries.find((e) => e.path === 'edited.txt')!;
    expect(conflict.write).toEqual({ path: 'edited.txt.infra-stack-new', content: 'edited v2\n', mode: 0o644 });
  });

  it('keeps the old hash of a person-edited file, so it stays theirs', () => {
    expect(result.manifest.files['edited.txt']).toBe(hashContent('edited v1\n'));
    expect(result.manifest.files['ours.txt']).toBe(hashContent('ours v2\n'));
    expect(result.manifest.files['foreign.txt']).toBeUndefined();
    expect(result.manifest.files['gone.txt']).toBeUndefined();
    expect(result.manifest.version).toBe('2');
  });

  it('appends only missing keys to .env and never rewrites its secrets', () => {
    const env: Tree = new Map([['.env', { content: '# a\nA=new-a\n# b\nB=new-b\n', source: 't', ownership: 'env' }]]);
    const p = plan(env, new Map([['.env', 'A=mine\n']]), emptyManifest('1'), '1');
    expect(p.entries[0].action).toBe('UPDATE');
    expect(p.entries[0].write!.content).toBe('A=mine\n\n# Added by infra-stack\n# b\nB=new-b\n');
    const again = plan(env, new Map([['.env', p.entries[0].write!.content]]), emptyManifest('1'), '1');
    expect(again.entries[0].action).toBe('UNCHANGED');
  });
});

describe('render', () => {
  it('is strict: a missing field is an error naming the template', async () => {
    const render = await createRenderer({
      templates: new Map([['t/x', { id: 't/x.hbs', family: 't', output: 'x', handlebars: true, builtin: true, text: '{{nope}}' }]]),
      partials: new Map(),
    });
    expect(() => render('t/x', {})).toThrow(/templates\/t\/x\.hbs: .*nope/);
  });

  it('does not HTML-escape', async () => {
    const render = await createRenderer({
      templates: new Map([['t/x', { id: 't/x.hbs', family: 't', output: 'x', handlebars: true, builtin: true, text: '{{v}}' }]]),
      partials: new Map(),
    });
    expect(render('t/x', { v: '<a href="x">&' })).toBe('<a href="x">&');
  });
});

/** Every file under `dir` with its content and mode, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) {
        out[relative(dir, path) + '/'] = '';
        walk(path);
      } else out[relative(dir, path)] = `${(st.mode & 0o777).toString(8)} ${readFileSync(path, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

/** Node's fs, failing the Nth rename: a disk that fills up halfway through a run. */
function failingFs(failAt: number): ApplyFs {
  let renames = 0;
  return {
    ...fs,
    renameSync: (from: string, to: string) => {
      if (++renames === failAt) throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
      fs.renameSync(from, to);
    },
  } as ApplyFs;
}

describe('apply', () => {
  it('leaves the directory exactly as it was when a write fails halfway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-stack-apply-'));
    mkdirSync(join(dir, 'services'));
    writeFileSync(join(dir, 'compose.yaml'), 'mine: true\n');
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const before = snapshot(dir);

    const ops = operations([
      { path: 'a/b/c.txt', action: 'CREATE', reason: '', write: { path: 'a/b/c.txt', content: 'c', mode: 0o644 } },
      { path: 'compose.yaml', action: 'UPDATE', reason: '', write: { path: 'compose.yaml', content: 'new: true\n', mode: 0o644 } },
      { path: 'run.sh', action: 'UPDATE', reason: '', write: { path: 'run.sh', content: 'echo\n', mode: 0o755 } },
      { path: 'services/x/Dockerfile', action: 'CREATE', reason: '', write: { path: 'services/x/Dockerfile', content: 'FROM x\n', mode: 0o644 } },
      { path: 'z.txt', action: 'CREATE', reason: '', write: { path: 'z.txt', content: 'z', mode: 0o644 } },
    ]);
    for (let failAt = 1; failAt <= ops.length; failAt++) {
      expect(() => apply(dir, ops, failingFs(failAt))).toThrow(/injected/);
      expect(snapshot(dir)).toEqual(before);
    }
    apply(dir, ops);
    expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).toBe('new: true\n');
    expect(statSync(join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
  });

  it('a whole stack: a failure at any point leaves nothing behind', async () => {
    const tree = await renderTree(configOf());
    const p = plan(tree, new Map(), emptyManifest('1'), '1');
    const ops = operations(p.entries);
    const parent = mkdtempSync(join(tmpdir(), 'infra-stack-apply-'));
    const dir = join(parent, 'repo');
    for (const failAt of [1, Math.floor(ops.length / 2), ops.length]) {
      expect(() => apply(dir, ops, failingFs(failAt))).toThrow(/injected/);
      expect(readdirSync(parent)).toEqual([]);
    }
  });
});
