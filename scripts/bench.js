#!/usr/bin/env node
// Benchmarks what a person feels: wall time of whole CLI runs (median of N), and the size
// of what `npm create infra-stack` downloads. Usage: npm run bench [-- --runs 15 --no-install-size]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'create-infra-stack.js');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 15;
const work = mkdtempSync(join(tmpdir(), 'infra-stack-bench-'));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeCreate(label, extra) {
  const times = [];
  for (let i = 0; i < runs + 1; i++) {
    const dir = join(work, `${label}-${i}`);
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, dir, '--yes', '--no-git', '--no-install', ...extra], { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i > 0) times.push(ms); // the first run warms the disk cache
    rmSync(dir, { recursive: true, force: true });
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

function dirSize(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    total += st.isDirectory() ? dirSize(path) : st.size;
  }
  return total;
}

const fifty = Array.from({ length: 50 }, (_, i) => `svc${i + 1}:${i % 10 === 9 ? 'worker' : 'api'}`).join(',');
const results = {
  node: process.version,
  runs,
  defaultStackMs: timeCreate('default', []),
  fiftyServicesMs: timeCreate('fifty', ['--services', fifty]),
};

const pack = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))[0];
results.package = { files: pack.entryCount, packedKiB: Math.round(pack.size / 1024), unpackedKiB: Math.round(pack.unpackedSize / 1024) };

if (!args.includes('--no-install-size')) {
  // What `npm create infra-stack` really installs: the package and its production dependencies.
  const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();
  const prefix = join(work, 'install');
  execFileSync('npm', ['install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', join(work, tgz)], { stdio: 'ignore' });
  results.package.installedMiB = +(dirSize(join(prefix, 'node_modules')) / 1024 / 1024).toFixed(1);
}

rmSync(work, { recursive: true, force: true });
const fmt = (r) => `median ${r.median.toFixed(0)} ms (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)})`;
console.log(`create-infra-stack bench (${results.node}, ${runs} runs each)`);
console.log(`  default stack:  ${fmt(results.defaultStackMs)}   target < 300 ms`);
console.log(`  50 services:    ${fmt(results.fiftyServicesMs)}   target < 1500 ms`);
console.log(`  package:        ${results.package.files} files, ${results.package.packedKiB} KiB packed, ${results.package.unpackedKiB} KiB unpacked` +
  (results.package.installedMiB ? `, ${results.package.installedMiB} MiB installed with dependencies` : ''));
if (args.includes('--json')) console.log(JSON.stringify(results));
