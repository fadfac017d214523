import { styleText } from 'node:util';
import { drift } from '../check/drift.js';
import { CONFLICTS_PATH, parsePending } from '../engine/conflicts.js';
import { readRepoText } from '../engine/disk.js';
import { readManifest } from '../engine/manifest.js';
import type { PipelineResult } from '../engine/pipeline.js';
import { parseStackFile, STACK_FILE } from '../model/stack-file.js';
import { VERSION } from '../version.js';
import { printable, terminalPrinter } from './output.js';
import { writeStdout } from './terminal.js';
import { unifiedDiff } from './unified-diff.js';

/** `infra-stack check`: exit 0 when `update` would write nothing and no conflict waits; 1 otherwise. */
export function printCheck(result: PipelineResult, json: boolean): number {
  const files = drift(result);
  const failing = files.filter((f) => f.fails);
  const code = failing.length > 0 ? 1 : 0;
  if (json) {
    const out = { ok: code === 0, generator: VERSION, files: files.map(({ path, state }) => ({ path, state })), exitCode: code };
    writeStdout(JSON.stringify(out, null, 2) + '\n');
    return code;
  }
  const p = terminalPrinter();
  const width = Math.max(0, ...files.map((f) => f.state.length));
  for (const f of files) p.out(`  ${f.state.padEnd(width)}  ${printable(f.path)}`);
  if (code === 0) {
    p.out(`Up to date with ${STACK_FILE}${files.length > 0 ? ` (your edits to ${files.length} file(s) kept)` : ''}.`);
    return 0;
  }
  const pending = failing.filter((f) => f.state === 'conflict pending').map((f) => f.path);
  const list = (paths: string[]) => paths.map((path) => printable(path)).join(', ');
  const marked = pending.filter((path) => result.pending.includes(path));
  const beside = pending.filter((path) => !result.pending.includes(path));
  if (marked.length > 0) p.out(`Conflict markers left in ${list(marked)}: keep what you want, delete the marker lines, then run this again.`);
  if (beside.length > 0) p.out(`A new version waits beside ${list(beside)} (*.infra-stack-new): merge what you want, then delete it.`);
  if (failing.length > pending.length) {
    p.out(`${failing.length - pending.length} file(s) differ from what ${STACK_FILE} generates: \`npx infra-stack diff\` shows how, \`npx infra-stack update\` applies it.`);
  }
  return 1;
}

/** `infra-stack diff`: what `update` would write, as a unified diff (coloured on a terminal). */
export function printDiff(result: PipelineResult): number {
  const p = terminalPrinter();
  const paint = (line: string) => {
    if (!p.color) return line;
    if (line.startsWith('+++') || line.startsWith('---')) return styleText('bold', line);
    if (line.startsWith('@@')) return styleText('cyan', line);
    if (line.startsWith('+')) return styleText('green', line);
    return line.startsWith('-') ? styleText('red', line) : line;
  };
  for (const op of result.operations) {
    if (op.path.startsWith('.infra-stack/')) continue; // bookkeeping, not the person's files
    // Every path a run writes or deletes was read into `disk`, or is one it found absent (a new
    // repository, a proposal beside a file): nothing to read again.
    const before = result.disk.get(op.path);
    for (const line of unifiedDiff(op.path, before, op.kind === 'write' ? op.content.toString() : undefined)) p.out(paint(line));
  }
  return 0;
}

/** `infra-stack status`: the stack at a glance, from infra-stack.yaml and the manifest. */
export function printStatus(dir: string, json: boolean): number {
  const config = parseStackFile(readRepoText(dir, STACK_FILE)!);
  const { manifest } = readManifest(dir);
  const pending = parsePending(readRepoText(dir, CONFLICTS_PATH));
  const services = config.services.map((s) => ({ name: s.name, kind: s.kind, port: s.port, route: s.path, uses: s.uses }));
  const stack = {
    name: config.name,
    domain: config.domain,
    gateway: config.gateway,
    queue: config.queue,
    search: config.search,
    database: config.database,
    cache: config.cache,
    target: config.target,
    ...(config.preset ? { preset: config.preset } : {}),
    ...(config.templates ? { templates: config.templates } : {}),
    generator: { wrote: manifest.version, running: VERSION },
    services,
    conflicts: pending,
  };
  if (json) {
    writeStdout(JSON.stringify(stack, null, 2) + '\n');
    return 0;
  }
  const p = terminalPrinter();
  const running = manifest.version === VERSION ? '' : ` (running ${VERSION}: \`npx infra-stack update\` applies it)`;
  p.out(`${config.name}: written by create-infra-stack ${manifest.version}${running}`);
  p.out(`  domain ${config.domain} · gateway ${config.gateway} · queue ${config.queue} · search ${config.search}`);
  p.out(`  database ${config.database} · cache ${config.cache} · target ${config.target}`);
  if (config.preset || config.templates) {
    p.out(`  ${[config.preset && `preset ${config.preset}`, config.templates && `templates ${config.templates}`].filter(Boolean).join(' · ')}`);
  }
  const rows = [['SERVICE', 'KIND', 'PORT', 'ROUTE', 'USES'], ...services.map((s) => [s.name, s.kind, String(s.port), s.route ?? '-', s.uses.join(',') || '-'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) p.out('  ' + row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  if (pending.length > 0) p.out(`Conflicts to resolve: ${pending.map((path) => printable(path)).join(', ')}`);
  return 0;
}
