import { describe, expect, it } from 'vitest';
import { emptyManifest, hashContent } from '../src/engine/manifest.js';
import { plan } from '../src/engine/plan.js';
import { createRenderer } from '../src/engine/render.js';
import type { Tree, TreeFile } from '../src/engine/tree.js';

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
    expect(p.entries[0].write!.content.toString()).toBe('A=mine\n\n# Added by infra-stack\n# b\nB=new-b\n');
    const again = plan(env, new Map([['.env', p.entries[0].write!.content]]), emptyManifest('1'), '1');
    expect(again.entries[0].action).toBe('UNCHANGED');
  });
});

describe('plan, on bytes', () => {
  it('reads a CRLF file as LF: the generator file it was, written back CRLF', () => {
    const tree: Tree = new Map([['a.yaml', gen('a: 2\nb: 1\n')]]);
    const manifest = { ...emptyManifest('1'), files: { 'a.yaml': hashContent('a: 1\nb: 1\n') } };
    const p = plan(tree, new Map([['a.yaml', Buffer.from('a: 1\r\nb: 1\r\n')]]), manifest, '1');
    expect(p.entries[0].action).toBe('UPDATE');
    expect(p.entries[0].write!.content.toString()).toBe('a: 2\r\nb: 1\r\n');
    const same = plan(tree, new Map([['a.yaml', Buffer.from('a: 2\r\nb: 1\r\n')]]), manifest, '1');
    expect(same.entries[0].action).toBe('UNCHANGED');
  });

  it('appends the .gitignore lines a person lacks, with their comment, after their bytes', () => {
    const tree: Tree = new Map([['.gitignore', { content: '# Secrets\n.env\n*.key\n\n# Logs\nlogs/\n', source: 't', ownership: 'lines' }]]);
    const mine = Buffer.from('.env\n# caf\xe9\n', 'latin1');
    const p = plan(tree, new Map([['.gitignore', mine]]), emptyManifest('1'), '1');
    expect(p.entries[0]).toMatchObject({ action: 'UPDATE', reason: 'adds *.key, logs/' });
    const written = p.entries[0].write!.content as Buffer;
    expect(written.subarray(0, mine.length)).toEqual(mine);
    expect(written.subarray(mine.length).toString()).toBe('\n# Added by infra-stack\n*.key\n# Logs\nlogs/\n');
    expect(p.manifest.files['.gitignore']).toBeUndefined();
  });

  it('a new .env key derived from others is built from the values already in the file', () => {
    const groups = [
      {
        title: 'db',
        vars: [
          { key: 'USER', value: 'app', comment: 'user' },
          { key: 'PASS', value: '', comment: 'password', secret: 'password' as const },
          { key: 'URL', value: (v: Record<string, string>) => `pg://${v.USER}:${v.PASS}@db`, comment: 'url' },
        ],
      },
    ];
    const env = { content: '# user\nUSER=app\n# password\nPASS=fresh\n# url\nURL=pg://app:fresh@db\n', source: 't', ownership: 'env' as const, env: { groups, secrets: { PASS: 'fresh' } } };
    const p = plan(new Map([['.env', env]]), new Map([['.env', 'USER=bob\nPASS="old"\n']]), emptyManifest('1'), '1');
    expect(p.entries[0].write!.content.toString()).toBe('USER=bob\nPASS="old"\n\n# Added by infra-stack\n# url\nURL=pg://bob:old@db\n');
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
