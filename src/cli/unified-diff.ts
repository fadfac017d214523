import { diffLines } from '../engine/diff3.js';

type Line = { mark: ' ' | '-' | '+'; text: string; oldNo: number; newNo: number };

const CONTEXT = 3;

/** A unified diff (as `diff -u` / `git diff` print it) of one file; undefined is an absent file. */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string[] {
  const lines: Line[] = [];
  let oldNo = 0;
  let newNo = 0;
  for (const chunk of diffLines(split(before), split(after))) {
    if ('kept' in chunk) for (const text of chunk.kept) lines.push({ mark: ' ', text, oldNo: ++oldNo, newNo: ++newNo });
    else {
      for (const text of chunk.removed) lines.push({ mark: '-', text, oldNo: ++oldNo, newNo });
      for (const text of chunk.added) lines.push({ mark: '+', text, oldNo, newNo: ++newNo });
    }
  }
  const changed = lines.flatMap((line, i) => (line.mark === ' ' ? [] : [i]));
  if (changed.length === 0) return [];
  const out = [`--- ${before === undefined ? '/dev/null' : `a/${path}`}`, `+++ ${after === undefined ? '/dev/null' : `b/${path}`}`];
  let i = 0;
  while (i < changed.length) {
    const start = Math.max(0, changed[i] - CONTEXT);
    let end = changed[i];
    while (i < changed.length && changed[i] - end <= 2 * CONTEXT) end = changed[i++];
    const hunk = lines.slice(start, Math.min(lines.length, end + CONTEXT + 1));
    const olds = hunk.filter((l) => l.mark !== '+');
    const news = hunk.filter((l) => l.mark !== '-');
    // A range with no lines names the line before it (0 at the top of the file).
    const oldStart = olds.length > 0 ? olds[0].oldNo : hunk[0].oldNo;
    const newStart = news.length > 0 ? news[0].newNo : hunk[0].newNo;
    out.push(`@@ -${oldStart},${olds.length} +${newStart},${news.length} @@`);
    for (const line of hunk) out.push(line.mark + line.text);
  }
  return out;
}

function split(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
