import { styleText } from 'node:util';
import type { DataService } from '../model/data-services.js';
import { byCodeUnit } from '../model/order.js';
import { buildModel } from '../model/stack-model.js';
import type { StackConfig } from '../model/types.js';
import { hasChanges, type Action, type Plan } from '../engine/plan.js';
import { isTerminal, writeStdout } from './terminal.js';

const COLORS: Record<Action, Parameters<typeof styleText>[0]> = {
  CREATE: 'green',
  UPDATE: 'cyan',
  MERGED: 'magenta',
  DELETE: 'red',
  CONFLICT: 'yellow',
  KEPT: 'gray',
  UNCHANGED: 'gray',
};

export interface Printer {
  color: boolean;
  out: (text: string) => void;
}

export function terminalPrinter(): Printer {
  return { color: isTerminal(1) && !process.env.NO_COLOR, out: (t) => writeStdout(t + '\n') };
}

const paint = (p: Printer, color: Parameters<typeof styleText>[0], text: string) => (p.color ? styleText(color, text) : text);

/**
 * Text as it may reach a terminal: control characters (newlines, ANSI escapes) and invisible
 * format characters (bidi overrides) are shown escaped, so a file name cannot fake a plan line
 * or recolour the screen. `keepNewlines` for our own multi-line messages.
 */
export function printable(text: string, keepNewlines = false): string {
  // Printable ASCII, as most paths are: nothing to escape, and the Unicode pattern below (costly
  // to build on its first use) is not needed.
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return text.replace(keepNewlines ? /(?!\n)[\p{Cc}\p{Cf}\u2028\u2029]/gu : /[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;
  });
}

/** Counts per action, for the one-line summary and --json. */
export function countActions(plan: Plan): Partial<Record<Action, number>> {
  const counts: Partial<Record<Action, number>> = {};
  for (const e of plan.entries) counts[e.action] = (counts[e.action] ?? 0) + 1;
  return counts;
}

/** The plan as a table: every file that changes, then a count of the unchanged ones. */
export function printPlan(p: Printer, plan: Plan, dryRun: boolean): void {
  // One write for all the lines: a line per write costs a system call each (1,640 at 200 services).
  const lines = plan.entries
    .filter((e) => e.action !== 'UNCHANGED')
    .map((e) => `  ${paint(p, COLORS[e.action], e.action.padEnd(9))} ${printable(e.path)}${e.reason ? paint(p, 'gray', `  (${printable(e.reason)})`) : ''}`);
  if (lines.length > 0) p.out(lines.join('\n'));
  const counts = countActions(plan);
  const summary = (Object.keys(COLORS) as Action[])
    .filter((a) => counts[a])
    .map((a) => `${counts[a]} ${a.toLowerCase()}`)
    .join(', ');
  if (!hasChanges(plan)) p.out(`Nothing to change: ${plan.entries.length} files already up to date.`);
  else p.out(`${dryRun ? 'Would apply' : 'Applied'}: ${summary}.${dryRun ? ' (dry run: nothing written)' : ''}`);
}

/** The stack as a small text diagram. */
export function stackDiagram(config: StackConfig): string {
  const model = buildModel(config);
  const gateway = `${model.gateway.kind} :443 (:80 redirects)`;
  const indent = ' '.repeat('  client --> '.length + 2);
  const width = Math.max(...model.routes.map((s) => s.path!.length));
  const lines = [`  client --> ${gateway}`];
  model.routes.forEach((s, i) => {
    const branch = i === model.routes.length - 1 ? '└─' : '├─';
    lines.push(`${indent}${branch} ${s.path!.padEnd(width)} --> ${s.name} :${s.port}`);
  });
  for (const w of model.workers) lines.push(`  ${w.name} :${w.port} (worker: health endpoint only, not routed)`);
  lines.push(`  data: ${model.data.map((d: DataService) => `${d.name} :${d.port}`).join(' · ')}`);
  return lines.join('\n');
}

/** Paths counted by their top folder, largest first: `services/ 15 · nginx/ 7 · 12 at the top`. */
export function filesByFolder(paths: string[]): string {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const slash = path.indexOf('/');
    const folder = slash < 0 ? '' : path.slice(0, slash + 1);
    counts.set(folder, (counts.get(folder) ?? 0) + 1);
  }
  const top = counts.get('') ?? 0;
  counts.delete('');
  const folders = [...counts].sort(([a, x], [b, y]) => y - x || byCodeUnit(a, b)).map(([folder, n]) => `${folder} ${n}`);
  return [...folders, ...(top ? [`${top} at the top`] : [])].join(' · ');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Runs a slow step (git, npm install). On a terminal a spinner shows it running, with the time
 * so far, and a last line says how long it took.
 */
export async function step<T>(p: Printer, animate: boolean, label: string, run: () => Promise<T>): Promise<T> {
  if (!animate) return run();
  const started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let frame = 0;
  const draw = () => writeStdout(`\r${paint(p, 'cyan', SPINNER[frame++ % SPINNER.length])} ${label}... ${seconds()}`);
  draw();
  const timer = setInterval(draw, 80);
  try {
    return await run();
  } finally {
    clearInterval(timer);
    writeStdout(`\r\x1b[2K${paint(p, 'green', '✔')} ${label} (${seconds()})\n`);
  }
}
