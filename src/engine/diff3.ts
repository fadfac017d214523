/**
 * Line diffs and three-way merges. Myers' O(ND) diff: fast where two versions differ in a few
 * places, however long they are and however many lines repeat (a 200-service compose.yaml
 * repeats most of its lines 200 times, which makes LCS-by-candidates take tens of seconds).
 */

/** Past this many inserted plus deleted lines the versions are treated as unrelated (memory grows with its square). */
const MAX_EDITS = 2000;

/**
 * For each line of `a`, the index of the line of `b` it is kept as, or -1 where it was deleted:
 * a shortest edit script's matching, increasing.
 */
function matchLines(a: string[], b: string[]): Int32Array {
  const n = a.length;
  const m = b.length;
  const match = new Int32Array(n).fill(-1);
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v for k in [-d-1, d+1] as it was before step d.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return match; // unrelated: nothing kept
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const before = trace[d];
    const at = (k: number) => before[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) match[--x] = --y;
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) match[--x] = --y;
  return match;
}

export type Chunk = { kept: string[] } | { removed: string[]; added: string[] };

/** The diff of `a` to `b` as runs of kept lines and of changes. */
export function diffLines(a: string[], b: string[]): Chunk[] {
  const match = matchLines(a, b);
  const chunks: Chunk[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && match[i] === j) {
      const start = i;
      while (i < a.length && match[i] === j) {
        i++;
        j++;
      }
      chunks.push({ kept: a.slice(start, i) });
      continue;
    }
    let nextI = i;
    while (nextI < a.length && match[nextI] < 0) nextI++;
    const nextJ = nextI < a.length ? match[nextI] : b.length;
    chunks.push({ removed: a.slice(i, nextI), added: b.slice(j, nextJ) });
    i = nextI;
    j = nextJ;
  }
  return chunks;
}

export interface LineMerge {
  lines: string[];
  conflict: boolean;
}

/**
 * A three-way merge of `ours` and `theirs` from `base`, as `git merge-file` does: a change on
 * one side is taken, the same change on both is taken once, different changes to the same or
 * adjacent lines are a conflict, written between markers (`<<<<<<< yours`, `=======`,
 * `>>>>>>> <label>`).
 */
export function merge3(ours: string[], base: string[], theirs: string[], label: string): LineMerge {
  const toOurs = matchLines(base, ours);
  const toTheirs = matchLines(base, theirs);
  const lines: string[] = [];
  let conflict = false;
  let io = 0;
  let ia = 0;
  let ib = 0;
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((line, i) => line === y[i]);
  while (io < base.length || ia < ours.length || ib < theirs.length) {
    // Lines all three keep in step.
    if (io < base.length && toOurs[io] === ia && toTheirs[io] === ib) {
      lines.push(base[io]);
      io++;
      ia++;
      ib++;
      continue;
    }
    // A changed region: up to the next base line both sides keep.
    let next = io;
    while (next < base.length && (toOurs[next] < 0 || toTheirs[next] < 0)) next++;
    const aEnd = next < base.length ? toOurs[next] : ours.length;
    const bEnd = next < base.length ? toTheirs[next] : theirs.length;
    const [o, a, b] = [base.slice(io, next), ours.slice(ia, aEnd), theirs.slice(ib, bEnd)];
    if (same(a, o)) lines.push(...b);
    else if (same(b, o) || same(a, b)) lines.push(...a);
    else {
      conflict = true;
      lines.push('<<<<<<< yours', ...a, '=======', ...b, `>>>>>>> ${label}`);
    }
    [io, ia, ib] = [next, aEnd, bEnd];
  }
  return { lines, conflict };
}

/**
 * Two versions with no common ancestor (a file the generator never wrote): the lines both have
 * are kept, every place they differ is marked as a conflict.
 */
export function markDifferences(ours: string, theirs: string, label: string): string {
  const lines = (text: string) => (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const marked = diffLines(lines(ours), lines(theirs)).flatMap((chunk) =>
    'kept' in chunk ? chunk.kept : ['<<<<<<< yours', ...chunk.removed, '=======', ...chunk.added, `>>>>>>> ${label}`],
  );
  return marked.join('\n') + '\n';
}
