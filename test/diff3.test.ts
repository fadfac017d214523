// Line diffs and three-way merges: the semantics of `git merge-file`, checked case by case; the
// unified diff checked by `patch`, which must turn the old file into the new one with it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../src/cli/unified-diff.js';
import { diffLines, markDifferences, merge3 } from '../src/engine/diff3.js';

const lines = (text: string) => text.split(' ');
const merged = (ours: string, base: string, theirs: string) => {
  const r = merge3(lines(ours), lines(base), lines(theirs), 'gen');
  return { text: r.lines.join(' '), conflict: r.conflict };
};

describe('merge3', () => {
  it('takes each side change, the same change once, and marks changes to the same or adjacent lines', () => {
    expect(merged('a B c d e', 'a b c d e', 'a b c d E')).toEqual({ text: 'a B c d E', conflict: false });
    expect(merged('a B c', 'a b c', 'a B c')).toEqual({ text: 'a B c', conflict: false });
    expect(merged('x a b c', 'a b c', 'a b c y')).toEqual({ text: 'x a b c y', conflict: false });
    expect(merged('a c', 'a b c', 'a b c d')).toEqual({ text: 'a c d', conflict: false });
    expect(merged('a B c', 'a b c', 'a b2 c')).toEqual({ text: 'a <<<<<<< yours B ======= b2 >>>>>>> gen c', conflict: true });
    expect(merged('a B c d', 'a b c d', 'a b C d')).toEqual({ text: 'a <<<<<<< yours B c ======= b C >>>>>>> gen d', conflict: true });
    expect(merged('a', '', 'b')).toEqual({ text: '<<<<<<< yours a ======= b >>>>>>> gen', conflict: true });
  });

  it('two versions without a base: lines both have are kept, each difference is marked', () => {
    expect(markDifferences('a\nb\nc\n', 'a\nB\nc\nd\n', 'gen')).toBe('a\n<<<<<<< yours\nb\n=======\nB\n>>>>>>> gen\nc\n<<<<<<< yours\n=======\nd\n>>>>>>> gen\n');
  });

  it('stays fast where most lines repeat (a 200-service compose.yaml), and exact', () => {
    const block = (i: number) => [`  s${i}:`, '    <<: *hardening', '    image: app', '    restart: always', '    networks: [edge]', ''];
    const base = Array.from({ length: 2000 }, (_, i) => block(i)).flat();
    const ours = [...base];
    ours.splice(3, 1, '    restart: "no"');
    const theirs = [...base, ...block(2000)];
    theirs.splice(base.length - 3, 1, '    image: app:2');
    const started = Date.now();
    const r = merge3(ours, base, theirs, 'gen');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.conflict).toBe(false);
    const expected = [...theirs];
    expected.splice(3, 1, '    restart: "no"');
    expect(r.lines).toEqual(expected);
  });
});

describe('unified diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-stack-diff-'));
  const cases: [string, string | undefined, string | undefined][] = [
    ['one change', 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n', 'a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n'],
    ['two hunks', Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n', Array.from({ length: 40 }, (_, i) => (i === 2 || i === 30 ? `changed ${i}` : `line ${i}`)).join('\n') + '\nadded\n'],
    ['repeated lines', 'x\nx\nx\ny\nx\nx\n', 'x\ny\nx\nx\nx\nx\n'],
    ['a new file', undefined, 'new\nfile\n'],
    ['a deleted file', 'old\nfile\n', undefined],
  ];
  for (const [name, before, after] of cases) {
    it(`${name}: patch applies it exactly`, () => {
      const file = join(dir, name.replaceAll(' ', '-'));
      writeFileSync(file, before ?? '');
      const diff = unifiedDiff('f', before, after).join('\n') + '\n';
      writeFileSync(file + '.diff', diff);
      execFileSync('patch', ['--quiet', '--force', file, file + '.diff']);
      // A diff to /dev/null deletes the file.
      if (after === undefined) expect(existsSync(file)).toBe(false);
      else expect(readFileSync(file, 'utf8')).toBe(after);
    });
  }

  it('is empty for equal files and groups kept and changed runs', () => {
    expect(unifiedDiff('f', 'a\n', 'a\n')).toEqual([]);
    expect(diffLines(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual([{ kept: ['a'] }, { removed: ['b'], added: ['B'] }, { kept: ['c'] }]);
  });
});
