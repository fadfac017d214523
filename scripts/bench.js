#!/usr/bin/env node
// Measures what a person feels, side by side with create-vite and with the machine's floor, in
// one run (this machine's disk and CPU drift between runs; ratios in one run drift much less):
//   - the default stack vs create-vite (vanilla-ts), both `--yes`-style, no git, no install; and
//     its first run, without the code cache the first run makes (dist/*.v8-cache);
//   - a 200-service stack vs a plain Node program writing the same files (the write floor);
//   - `update` with nothing to change and `add service` vs a plain Node program reading and
//     hashing the same files (the read floor); peak memory of each;
//   - the package: packed, unpacked and installed size, packages installed, `npm exec` from the
//     tarball with an empty npm cache.
// Usage: npm run bench [-- --runs 9 --small-runs 25 --services 200 --json]
// create-vite is installed once from the npm registry into .bench/ (git-ignored) and reused.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const runs = option('--runs', 9);
// The default stack's rounds take a second: more of them, as a burst of load on a shared machine
// moves a median of 9 by several percent.
const smallRuns = option('--small-runs', 25);
const serviceCount = option('--services', 200);
const CREATE = join(root, 'dist', 'create-infra-stack.cjs');
const INFRA_STACK = join(root, 'dist', 'infra-stack.cjs');
const work = mkdtempSync(join(tmpdir(), 'infra-stack-bench-'));
// Every run starts in `work`: create-vite takes its target relative to the working directory.
const quiet = { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', cwd: work };

// --- helpers -------------------------------------------------------------------------------

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs node with `args`, returns wall ms; throws with its stderr if it fails. */
function timeNode(nodeArgs, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, nodeArgs, { ...quiet, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${nodeArgs.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return ms;
}

/** Peak resident memory (MiB) of one node run, recorded by the process itself as it exits. */
function peakMiB(nodeArgs, options = {}) {
  const file = join(work, `rss-${process.hrtime.bigint()}`);
  const hook = `data:text/javascript,import{writeFileSync}from'node:fs';process.on('exit',()=>writeFileSync(${JSON.stringify(file)},String(process.resourceUsage().maxRSS)))`;
  timeNode(['--import', hook, ...nodeArgs], options);
  return Number(readFileSync(file, 'utf8')) / 1024;
}

/**
 * Flushes the disk's pending writes between timed runs (outside the timings): a run's own writes
 * wait for a sync in a re-run, and must not wait for the last run's deletes or the setup's copy
 * of a thousand files (ext4 commits them all in that sync: +17 ms on an add service).
 */
const settle = () => execFileSync('sync');

/**
 * `pairs` of [label, setup, command]: each round runs every pair once, in turn, so drift hits all
 * alike, and in an order that rotates, so no command always runs right after the same one (the
 * run right after a first run, whose 540 KB of code cache the disk was still taking, once
 * measured 15% slower).
 * The first round only warms the caches. Returns the median ms of each label, and of each
 * label's time over another's in the same round (`ratio`: what drift between rounds cancels from).
 */
function race(pairs, rounds = runs) {
  const times = Object.fromEntries(pairs.map(([label]) => [label, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const [label, setup, command] of pairs.map((_, i) => pairs[(i + round) % pairs.length])) {
      const nodeArgs = setup(round);
      const ms = timeNode(nodeArgs);
      if (round > 0) times[label].push(ms);
      command?.(round);
      settle();
    }
  }
  const result = Object.fromEntries(Object.entries(times).map(([label, t]) => [label, median(t)]));
  result.ratio = (a, b) => pairedRatio(times[a], times[b]);
  return result;
}

/** The median of a[i] / b[i]: two commands' times taken in the same round, seconds apart. */
const pairedRatio = (a, b) => median(a.map((v, i) => v / b[i]));

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    return d.isDirectory() ? walk(path) : [path];
  });
}

function dirSize(dir) {
  return walk(dir).reduce((sum, path) => sum + statSync(path).size, 0);
}

// --- the floors: plain Node programs doing only the file work ----------------------------

const WRITE_FLOOR = join(work, 'write-floor.mjs');
writeFileSync(
  WRITE_FLOOR,
  `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const [list, out] = process.argv.slice(2);
for (const [path, content, mode] of JSON.parse(readFileSync(list, 'utf8'))) {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), content, { mode });
}
`,
);
const READ_FLOOR = join(work, 'read-floor.mjs');
writeFileSync(
  READ_FLOOR,
  `import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
  d.isDirectory() ? (d.name === '.git' ? [] : walk(join(dir, d.name))) : [join(dir, d.name)]);
const hashes = {};
for (const path of walk(process.argv[2])) hashes[path] = createHash('sha256').update(readFileSync(path)).digest('hex');
`,
);

// --- create-vite, cached in .bench/ --------------------------------------------------------

const viteDir = join(root, '.bench', 'create-vite');
const viteBin = join(viteDir, 'node_modules', 'create-vite', 'index.js');
if (!existsSync(viteBin)) {
  mkdirSync(viteDir, { recursive: true });
  execFileSync('npm', ['install', '--prefix', viteDir, '--no-save', '--no-audit', '--no-fund', 'create-vite@9'], quiet);
}
const viteVersion = JSON.parse(readFileSync(join(viteDir, 'node_modules', 'create-vite', 'package.json'), 'utf8')).version;

// --- 1. the default stack vs create-vite ----------------------------------------------------

const dirOf = (label, round) => `${label}-${round}`;
const cleanup = (label) => (round) => rmSync(join(work, dirOf(label, round)), { recursive: true, force: true });
// A person's first run has no code cache yet (the first run makes it): timed too, with the cache removed.
const withoutCodeCache = () => {
  for (const name of readdirSync(join(root, 'dist'))) if (name.endsWith('.v8-cache')) rmSync(join(root, 'dist', name));
};
const small = race([
  ['ours', (r) => [CREATE, dirOf('ours', r), '--yes', '--no-git', '--no-install'], cleanup('ours')],
  ['vite', (r) => [viteBin, dirOf('vite', r), '--template', 'vanilla-ts', '--no-interactive'], cleanup('vite')],
  ['oursFirst', (r) => (withoutCodeCache(), [CREATE, dirOf('first', r), '--yes', '--no-git', '--no-install']), cleanup('first')],
], smallRuns);
timeNode([CREATE, dirOf('ours', 'files'), '--yes', '--no-git', '--no-install']);
timeNode([viteBin, dirOf('vite', 'files'), '--template', 'vanilla-ts', '--no-interactive']);
const files = { ours: walk(join(work, dirOf('ours', 'files'))).length, vite: walk(join(work, dirOf('vite', 'files'))).length };

// --- 2. a large stack: create vs the write floor; update and add service vs the read floor --

const servicesFlag = (count) => Array.from({ length: count }, (_, i) => `svc${i + 1}:${i % 10 === 9 ? 'worker' : 'api'}`).join(',');
const createArgs = (dir, count = serviceCount) => [CREATE, dir, '--yes', '--no-git', '--no-install', '--services', servicesFlag(count)];
const halfCount = Math.ceil(serviceCount / 2);
const reference = join(work, 'reference');
timeNode(createArgs(reference));
// Half the services, to show the cost per file stays the same as the stack grows.
timeNode(createArgs(join(work, 'half-reference'), halfCount));
const halfFiles = walk(join(work, 'half-reference')).length;
const bigFiles = walk(reference).map((path) => [relative(reference, path), readFileSync(path, 'utf8'), statSync(path).mode & 0o777]);
const list = join(work, 'files.json');
writeFileSync(list, JSON.stringify(bigFiles));
const big = race([
  ['create', (r) => createArgs(dirOf('big', r)), cleanup('big')],
  ['createHalf', (r) => createArgs(dirOf('half', r), halfCount), cleanup('half')],
  ['writeFloor', (r) => [WRITE_FLOOR, list, dirOf('floor', r)], cleanup('floor')],
  ['update', () => [INFRA_STACK, 'update', '--dir', reference]],
  ['readFloor', () => [READ_FLOOR, reference]],
]);
// add service changes the repo: each round adds to a fresh copy (copied outside the timing),
// which the read floor reads first, so both meet the same fresh files.
const addTimes = [];
const readTimes = [];
for (let round = 0; round <= runs; round++) {
  const copy = join(work, dirOf('add', round));
  cpSync(reference, copy, { recursive: true });
  settle();
  const read = timeNode([READ_FLOOR, copy]);
  const add = timeNode([INFRA_STACK, 'add', 'service', 'extra', '--dir', copy]);
  if (round > 0) addTimes.push(add), readTimes.push(read);
  rmSync(copy, { recursive: true, force: true });
}
big.add = median(addTimes);
big.addReadFloor = median(readTimes);
big.addRatio = pairedRatio(addTimes, readTimes);
const memory = {
  create: peakMiB(createArgs(dirOf('mem', 0))),
  update: peakMiB([INFRA_STACK, 'update', '--dir', reference]),
  add: peakMiB([INFRA_STACK, 'add', 'service', 'extra', '--dir', join(work, dirOf('mem', 0))]),
};

// --- 3. the package ------------------------------------------------------------------------

const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { ...quiet, cwd: root }))[0];
const tarball = join(work, packed.filename);
const prefix = join(work, 'install');
mkdirSync(prefix);
execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache-install'), tarball], quiet);
const nodeModules = join(prefix, 'node_modules');
const packages = readdirSync(nodeModules)
  .filter((n) => !n.startsWith('.'))
  .flatMap((n) => (n.startsWith('@') ? readdirSync(join(nodeModules, n)) : [n]));
const installedBytes = dirSize(nodeModules);
const execStart = process.hrtime.bigint();
execFileSync('npm', ['exec', '--yes', '--cache', join(work, 'npm-cache-exec'), '--package', tarball, '--', 'create-infra-stack', join(work, 'exec-app'), '--yes', '--no-git', '--no-install'], { ...quiet, cwd: work });
const npmExecMs = Number(process.hrtime.bigint() - execStart) / 1e6;

rmSync(work, { recursive: true, force: true });

// --- report --------------------------------------------------------------------------------

const results = {
  node: process.version,
  runs,
  smallRuns,
  createVite: viteVersion,
  defaultStack: {
    ms: small.ours,
    files: files.ours,
    createViteMs: small.vite,
    createViteFiles: files.vite,
    ratio: small.ratio('ours', 'vite'),
    firstRunMs: small.oursFirst,
    firstRunRatio: small.ratio('oursFirst', 'vite'),
  },
  large: {
    services: serviceCount,
    files: bigFiles.length,
    createMs: big.create,
    writeFloorMs: big.writeFloor,
    createRatio: big.ratio('create', 'writeFloor'),
    half: { services: halfCount, files: halfFiles, createMs: big.createHalf },
    updateMs: big.update,
    readFloorMs: big.readFloor,
    updateRatio: big.ratio('update', 'readFloor'),
    addServiceMs: big.add,
    addServiceReadFloorMs: big.addReadFloor,
    addServiceRatio: big.addRatio,
    peakMiB: memory,
  },
  package: {
    files: packed.entryCount,
    packedKiB: packed.size / 1024,
    unpackedKiB: packed.unpackedSize / 1024,
    installedMiB: installedBytes / 1024 / 1024,
    installedPackages: packages.length,
    npmExecColdMs: npmExecMs,
  },
};

const ms = (v) => `${v.toFixed(0)} ms`;
const x = (v, target) => `${v.toFixed(2)}x (target <= ${target}x)`;
const perFile = (v, n) => `${(v / n).toFixed(2)} ms/file`;
const d = results.defaultStack;
const l = results.large;
const p = results.package;
console.log(`create-infra-stack bench: node ${results.node}, median of ${runs} runs (default stack: ${smallRuns}), create-vite ${viteVersion}
                               ours                         floor / create-vite          ratio
  default stack              ${ms(d.ms).padEnd(8)} ${String(d.files).padStart(5)} files ${perFile(d.ms, d.files).padEnd(14)} create-vite ${ms(d.createViteMs).padEnd(7)} ${String(d.createViteFiles).padStart(3)} files   ${x(d.ratio, 1.3)}
    its first run            ${ms(d.firstRunMs).padEnd(8)} (no code cache yet: the run that makes it)                ${d.firstRunRatio.toFixed(2)}x
  ${serviceCount} services: create       ${ms(l.createMs).padEnd(8)} ${String(l.files).padStart(5)} files ${perFile(l.createMs, l.files).padEnd(14)} write floor ${ms(l.writeFloorMs).padEnd(14)}   ${x(l.createRatio, 1.25)}
  ${String(halfCount).padStart(3)} services: create       ${ms(l.half.createMs).padEnd(8)} ${String(l.half.files).padStart(5)} files ${perFile(l.half.createMs, l.half.files).padEnd(14)} (cost per file as the stack grows: compare with the line above)
  ${serviceCount} services: update       ${ms(l.updateMs).padEnd(8)} nothing to change ${perFile(l.updateMs, l.files).padEnd(8)} read floor  ${ms(l.readFloorMs).padEnd(14)}   ${x(l.updateRatio, 1.5)}
  ${serviceCount} services: add service  ${ms(l.addServiceMs).padEnd(8)}                   ${perFile(l.addServiceMs, l.files).padEnd(8)} read floor  ${ms(l.addServiceReadFloorMs).padEnd(14)}   ${x(l.addServiceRatio, 2)}
  peak memory                create ${l.peakMiB.create.toFixed(0)} MiB, update ${l.peakMiB.update.toFixed(0)} MiB, add service ${l.peakMiB.add.toFixed(0)} MiB (target <= 100)
  package                    ${p.files} files, ${p.packedKiB.toFixed(0)} KiB packed, ${p.unpackedKiB.toFixed(0)} KiB unpacked; installed: ${p.installedMiB.toFixed(2)} MiB, ${p.installedPackages} package(s) (target <= 5 MiB, <= 3)
  npm exec, cold             ${ms(p.npmExecColdMs)} from the tarball with an empty npm cache (target <= 3000 ms)`);
if (args.includes('--json')) console.log(JSON.stringify(results));
