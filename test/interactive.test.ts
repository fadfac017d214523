// Drives the real `create-infra-stack` CLI through a real pseudo-terminal, as a person would:
// each test waits for a question on screen, then types its answer (arrow keys, Enter, Ctrl-C).
// Runs the compiled CLI: `npm test` builds first; for a direct `npx vitest run`, `npm run build`.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { killAllPtys, spawnPty, type PtyProcess } from './helpers/pty.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'create-infra-stack.cjs');
const TEST_MS = 30_000;
const PROMPT_MS = 10_000; // a question must show up within this after the previous answer

const DOWN = '\x1b[B';
const ENTER = '\r';
const CTRL_C = '\x03';
const CTRL_U = '\x15';

/** The environment of a person at a terminal: no CI flag, no NO_COLOR, a real TERM. */
function personEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  for (const key of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'NODE_OPTIONS', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) {
    delete env[key];
  }
  return env;
}

let work: string;

beforeAll(() => {
  if (!existsSync(BIN)) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it)');
  }
});

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'cis-interactive-'));
});

afterEach(async () => {
  killAllPtys();
  await rm(work, { recursive: true, force: true });
});

function runCli(args: string[]): PtyProcess {
  return spawnPty(process.execPath, [BIN, ...args], { cwd: work, env: personEnv(), cols: 160, rows: 50 });
}

/** A select question: waits for it, moves down `downs` times (waiting for each move), then Enter. */
async function choose(cli: PtyProcess, question: string, downs: number, choice: string): Promise<void> {
  await cli.waitFor(`? ${question}`, PROMPT_MS);
  for (let i = 0; i < downs; i++) cli.write(DOWN);
  await cli.waitFor(`❯ ${choice}`, PROMPT_MS);
  cli.write(ENTER);
  await cli.waitFor(`✔ ${question} ${choice}`, PROMPT_MS);
}

/** A text question: waits for it (and its default, if given), types `text`, then Enter. */
async function answer(cli: PtyProcess, question: string, text: string, shownDefault?: string): Promise<void> {
  await cli.waitFor(`? ${question}`, PROMPT_MS);
  if (shownDefault !== undefined) await cli.waitFor(`(${shownDefault})`, PROMPT_MS);
  cli.write(text + ENTER);
  await cli.waitFor(`✔ ${question}`, PROMPT_MS);
}

/** Every file under `dir`, as paths relative to it. */
async function readTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function readStack(dir: string): Promise<Record<string, any>> {
  return parse(await readFile(join(dir, 'infra-stack.yaml'), 'utf8')) as Record<string, any>;
}

const SERVICES_Q = 'Services (name:kind:port, comma-separated)';

describe('create-infra-stack on a terminal', () => {
  it(
    'asks each question in order and writes what was answered',
    async () => {
      const dir = join(work, 'shop');
      const cli = runCli([dir, '--no-git', '--no-install']);

      // The directory was given, so the first question is Services, with its default shown.
      await answer(cli, SERVICES_Q, 'api:api:3000,billing:api:3100,jobs:worker', 'api:api,web:web,worker:worker');
      expect(cli.output()).not.toContain('Project directory');
      await choose(cli, 'Gateway', 1, 'Kong');
      await choose(cli, 'Queue', 1, 'SQS');
      await choose(cli, 'Search', 0, 'Meilisearch');
      await choose(cli, 'Deployment target', 0, 'Docker Compose');
      await answer(cli, 'Public domain', 'shop.example.com', 'shop.localhost');
      await cli.waitFor('Created shop', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      const screen = cli.output();
      // An intro line with the version, then the questions in the documented order.
      const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(screen.startsWith(`create-infra-stack ${version}`)).toBe(true);
      const order = ['? Services', '? Gateway', '? Queue', '? Search', '? Deployment target', '? Public domain'];
      const at = order.map((q) => screen.indexOf(q));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
      // A compact summary, not one line per file: the count, the diagram, files by folder, next steps.
      const written = (await readTree(dir)).filter((path) => !/^(certs|\.infra-stack)\//.test(path));
      expect(screen).toContain(`Created shop in ${dir}: ${written.length} files`);
      expect(screen).not.toContain('CREATE ');
      expect(screen).toMatch(/client --> kong :443/);
      expect(screen).toContain(`services/ ${written.filter((path) => path.startsWith('services/')).length}`);
      expect(screen).toContain('Next steps:');

      const stack = await readStack(dir);
      expect(stack).toMatchObject({
        name: 'shop',
        gateway: 'kong',
        queue: 'sqs',
        search: 'meilisearch',
        target: 'compose',
        domain: 'shop.example.com',
      });
      const services = (stack.services as Array<Record<string, unknown>>).map(({ name, kind, port }) => ({ name, kind, port }));
      expect(services).toEqual([
        { name: 'api', kind: 'api', port: 3000 },
        { name: 'billing', kind: 'api', port: 3100 },
        { name: 'jobs', kind: 'worker', port: expect.any(Number) },
      ]);
      expect(existsSync(join(dir, 'kong', 'kong.yml'))).toBe(true);
      expect(existsSync(join(dir, 'nginx'))).toBe(false);
      expect(existsSync(join(dir, 'elasticmq', 'elasticmq.conf'))).toBe(true);
      expect(existsSync(join(dir, 'services', 'billing', 'Dockerfile'))).toBe(true);
      expect(existsSync(join(dir, '.git'))).toBe(false); // --no-git
    },
    TEST_MS,
  );

  it(
    'with target Kubernetes, asks where the images live and writes it',
    async () => {
      const dir = join(work, 'kube');
      const cli = runCli([dir, '--services', 'api:api', '--gateway', 'nginx', '--queue', 'rabbitmq', '--search', 'meilisearch', '--no-git', '--no-install']);
      await choose(cli, 'Deployment target', 1, 'Kubernetes');
      const question = 'Image registry and owner (CI pushes there, the cluster pulls from there)';
      await cli.waitFor(`? ${question}`, PROMPT_MS);
      cli.write('Bad Registry' + ENTER); // refused inline: lowercase host and path only
      await cli.waitFor(/registry.*lowercase/, PROMPT_MS);
      for (let i = 0; i < 'Bad Registry'.length; i++) cli.write('\x7f');
      await answer(cli, question, 'registry.example.com/team');
      await answer(cli, 'Public domain', 'kube.example.com', 'kube.localhost');
      await cli.waitFor('Created kube', PROMPT_MS);
      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect((await readStack(dir)).registry).toBe('registry.example.com/team');
      const overlay = await readFile(join(dir, 'k8s/overlays/production/kustomization.yaml'), 'utf8');
      expect(overlay).toContain('name: registry.example.com/team/kube-api');
    },
    TEST_MS,
  );

  it(
    'refuses an invalid answer inline and keeps the question open',
    async () => {
      const dir = join(work, 'app');
      const cli = runCli([dir, '--no-git', '--no-install']);

      await cli.waitFor(`? ${SERVICES_Q}`, PROMPT_MS);
      cli.write('api:api:80' + ENTER);
      const screen = await cli.waitFor(/port.*80.*1024 to 65535/, PROMPT_MS);
      // Still on the Services question: nothing accepted, no next question.
      expect(screen).not.toContain(`✔ ${SERVICES_Q}`);
      expect(screen).not.toContain('Gateway');
      expect(existsSync(dir)).toBe(false);

      // Clear the line, as a person would, and give a valid answer.
      cli.write(CTRL_U);
      await cli.waitFor(/\(api:api,web:web,worker:worker\)/, PROMPT_MS); // the empty line shows the default again
      cli.write('api:api:8080' + ENTER);
      await cli.waitFor(`✔ ${SERVICES_Q}`, PROMPT_MS);
      for (const question of ['Gateway', 'Queue', 'Search', 'Deployment target', 'Public domain']) {
        await cli.waitFor(`? ${question}`, PROMPT_MS);
        cli.write(ENTER);
        await cli.waitFor(`✔ ${question}`, PROMPT_MS);
      }
      await cli.waitFor('Created app', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      const stack = await readStack(dir);
      expect(stack).toMatchObject({
        gateway: 'nginx',
        queue: 'rabbitmq',
        search: 'meilisearch',
        target: 'compose',
        domain: 'app.localhost',
      });
      expect(stack.services).toHaveLength(1);
      expect(stack.services[0]).toMatchObject({ name: 'api', kind: 'api', port: 8080 });
    },
    TEST_MS,
  );

  it(
    'Ctrl-C at a question exits 130 and writes nothing',
    async () => {
      const dir = join(work, 'app');
      const cli = runCli([dir, '--no-git', '--no-install']);

      await cli.waitFor(`? ${SERVICES_Q}`, PROMPT_MS);
      cli.write(ENTER);
      await cli.waitFor('? Gateway', PROMPT_MS);
      await cli.waitFor('❯ Nginx', PROMPT_MS);
      cli.write(CTRL_C);
      await cli.waitFor('Interrupted: nothing was written.', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 130, signal: null });
      expect(cli.output()).not.toContain('? Queue');
      expect(cli.output()).not.toContain('CREATE');
      expect(existsSync(dir)).toBe(false);
    },
    TEST_MS,
  );

  it(
    'asks only what the flags left out',
    async () => {
      const dir = join(work, 'shop');
      const cli = runCli([
        dir,
        '--gateway',
        'nginx',
        '--queue',
        'rabbitmq',
        '--search',
        'opensearch',
        '--target',
        'compose',
        '--no-git',
        '--no-install',
      ]);

      await answer(cli, SERVICES_Q, 'api:api:3000,web:web:3200', 'api:api,web:web,worker:worker');
      // Next comes the domain, with the default made from the directory's name: take it.
      await answer(cli, 'Public domain', '', 'shop.localhost');
      await cli.waitFor('Created shop', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      const screen = cli.output();
      for (const skipped of ['Gateway', 'Queue', 'Search', 'Deployment target']) {
        expect(screen).not.toMatch(new RegExp(`[?✔] ${skipped}`));
      }
      const stack = await readStack(dir);
      expect(stack).toMatchObject({
        gateway: 'nginx',
        queue: 'rabbitmq',
        search: 'opensearch',
        target: 'compose',
        domain: 'shop.localhost',
      });
      expect((stack.services as Array<{ name: string }>).map((s) => s.name)).toEqual(['api', 'web']);
      expect(existsSync(join(dir, 'nginx'))).toBe(true);
      expect(existsSync(join(dir, 'kong'))).toBe(false);
    },
    TEST_MS,
  );
});

/** Every answer as a flag except those named, so a test reaches its question at once. */
function flagsExcept(...asked: string[]): string[] {
  const all: Record<string, string> = {
    services: 'api:api',
    gateway: 'nginx',
    queue: 'rabbitmq',
    search: 'meilisearch',
    target: 'compose',
    domain: 'app.localhost',
  };
  return Object.entries(all).flatMap(([flag, value]) => (asked.includes(flag) ? [] : [`--${flag}`, value]));
}

describe('create-infra-stack on a terminal: the edges', () => {
  it(
    'lists every file with --verbose, and only the summary without it, with each step that ran and its time',
    async () => {
      const verbose = runCli([join(work, 'loud'), '--yes', '--verbose', '--no-git', '--no-install']);
      expect(await verbose.exit).toEqual({ code: 0, signal: null });
      expect(verbose.output()).toContain('CREATE    infra-stack.yaml');
      expect(verbose.output()).toContain('CREATE    compose.yaml');

      // With git: the step that ran ends on one line with its time (stdout is a terminal here).
      const quiet = runCli([join(work, 'quiet'), '--yes', '--no-install']);
      expect(await quiet.exit).toEqual({ code: 0, signal: null });
      expect(quiet.output()).not.toContain('CREATE ');
      expect(quiet.output()).toMatch(/Created quiet in \S+: \d+ files/);
      expect(quiet.output()).toMatch(/✔ git init and a first commit \(\d+\.\d s\)/);
    },
    TEST_MS,
  );

  it(
    'the summary shows a directory named with an escape sequence and a team folder with a bidi override escaped, never raw',
    async () => {
      // A template path may not hold control characters (refused at load), but may hold a bidi override.
      const hostile = '\u001b]0;pwned\u0007';
      await mkdir(join(work, 'team/base', 't\u202ex'), { recursive: true });
      await writeFile(join(work, 'team/base', 't\u202ex', 'notes.txt'), 'team\n');
      const cli = runCli([join(work, `p${hostile}`, 'app'), '--yes', '--no-git', '--no-install', '--templates', join(work, 'team')]);
      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect(cli.output()).toMatch(/Created app in \S+p\\u001b\]0;pwned\\u0007\/app: \d+ files/);
      expect(cli.output()).toContain('t\\u202ex/ 1');
      expect(cli.output()).not.toContain(hostile);
      expect(cli.output()).not.toContain('\u202e');
    },
    TEST_MS,
  );

  it(
    'Ctrl-C after the last answer, while npm install runs: exit 130, and the repository is complete',
    async () => {
      // An npm that never finishes stands in for a slow install.
      const bin = join(work, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'npm'), '#!/bin/sh\nsleep 60\n', { mode: 0o755 });
      const dir = join(work, 'app');
      const cli = spawnPty(process.execPath, [BIN, dir, '--no-git', ...flagsExcept('domain')], {
        cwd: work,
        env: { ...personEnv(), PATH: `${bin}:${process.env.PATH}` },
        cols: 160,
        rows: 50,
      });
      await answer(cli, 'Public domain', '', 'app.localhost');
      await cli.waitFor('npm install in each service...', PROMPT_MS);
      cli.write(CTRL_C);
      await cli.waitFor(/Interrupted: \S+ is complete \(\d+ files\); npm install did not finish/, PROMPT_MS);
      expect(await cli.exit).toEqual({ code: 130, signal: null });

      // Complete: every file the manifest records is there with the recorded content.
      const manifest = JSON.parse(await readFile(join(dir, '.infra-stack/manifest.json'), 'utf8')) as { files: Record<string, string> };
      const recorded = Object.keys(manifest.files);
      expect(recorded.length).toBeGreaterThan(20);
      const onDisk = new Set(await readTree(dir));
      expect(recorded.filter((path) => !onDisk.has(path))).toEqual([]);
      for (const path of recorded) {
        const hash = createHash('sha256').update(await readFile(join(dir, path))).digest('base64');
        expect(manifest.files[path], path).toBe(`sha256-${hash}`);
      }
    },
    TEST_MS,
  );

  it(
    'asks for another directory when the one given is not empty, and leaves it untouched',
    async () => {
      await mkdir(join(work, 'taken'));
      await writeFile(join(work, 'taken', 'notes.txt'), 'mine\n');
      const cli = runCli(['--no-git', '--no-install', ...flagsExcept()]);
      await answer(cli, 'Project directory', 'taken', 'infra-stack-app');
      await cli.waitFor(/taken is not empty \(notes\.txt\)/, PROMPT_MS);
      cli.write(CTRL_U);
      await answer(cli, 'Project directory', 'fresh');
      await cli.waitFor('Created fresh', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect(await readTree(join(work, 'taken'))).toEqual(['notes.txt']);
      expect(existsSync(join(work, 'fresh', 'infra-stack.yaml'))).toBe(true);
    },
    TEST_MS,
  );

  it(
    'offers a valid project name for a directory name that cannot be one, and uses it when accepted',
    async () => {
      const cli = runCli(['My App!', '--no-git', '--no-install', ...flagsExcept()]);
      await cli.waitFor('"My App!" cannot be a project name', PROMPT_MS);
      await cli.waitFor('Use "my-app" as name and directory?', PROMPT_MS);
      cli.write(ENTER);
      await cli.waitFor('Created my-app', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect(existsSync(join(work, 'My App!'))).toBe(false);
      expect((await readStack(join(work, 'my-app'))).name).toBe('my-app');
    },
    TEST_MS,
  );

  it(
    'asks for the image registry when the target is Kubernetes',
    async () => {
      const dir = join(work, 'kube');
      const cli = runCli([dir, '--no-git', '--no-install', ...flagsExcept('target')]);
      await choose(cli, 'Deployment target', 1, 'Kubernetes');
      await cli.waitFor('? Image registry and owner (CI pushes there, the cluster pulls from there)', PROMPT_MS);
      await cli.waitFor('(ghcr.io/kube)', PROMPT_MS);
      cli.write('Registry.Example.com' + ENTER);
      await cli.waitFor(/registry.*Registry\.Example\.com.*lowercase/, PROMPT_MS); // refused inline
      cli.write(CTRL_U + 'registry.example.com/platform' + ENTER);
      await cli.waitFor('Created kube', PROMPT_MS);

      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect((await readStack(dir)).registry).toBe('registry.example.com/platform');
      expect(await readFile(join(dir, 'k8s/base/services/api.yaml'), 'utf8')).toContain('registry.example.com/platform/');
    },
    TEST_MS,
  );
});

describe('create-infra-stack without a terminal', () => {
  /** Runs the CLI on plain pipes; stdin stays open, so waiting for input would hang (and time out). */
  function runPiped(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env: personEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        child.stdin.destroy();
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  it(
    'exits 2 at once, lists the missing flags and writes nothing',
    async () => {
      const dir = join(work, 'app');
      const result = await runPiped([dir, '--no-git', '--no-install']);

      expect(result.code).toBe(2);
      expect(result.ms).toBeLessThan(10_000);
      for (const flag of ['--services', '--gateway', '--queue', '--search', '--target', '--domain']) {
        expect(result.stderr).toMatch(new RegExp(`^\\s+${flag}$`, 'm'));
      }
      expect(result.stderr).toContain('--yes');
      expect(result.stdout).not.toContain('?');
      expect(existsSync(dir)).toBe(false);
    },
    TEST_MS,
  );

  it(
    'lists only the answers that no flag gave',
    async () => {
      const dir = join(work, 'app');
      const result = await runPiped([dir, '--gateway', 'kong', '--target', 'k8s', '--no-git', '--no-install']);

      expect(result.code).toBe(2);
      for (const flag of ['--services', '--queue', '--search', '--domain']) {
        expect(result.stderr).toMatch(new RegExp(`^\\s+${flag}$`, 'm'));
      }
      expect(result.stderr).not.toMatch(/^\s+--gateway$/m);
      expect(result.stderr).not.toMatch(/^\s+--target$/m);
      expect(result.stderr).not.toMatch(/^\s+\[dir\]$/m);
      expect(existsSync(dir)).toBe(false);
    },
    TEST_MS,
  );

  it(
    'refuses a directory name that cannot be a project name, naming a valid one, and writes nothing',
    async () => {
      const result = await runPiped(['My App!', '--yes', '--no-git', '--no-install']);

      expect(result.code).toBe(2);
      expect(result.stderr).toBe('error: "My App!" cannot be a project name (lowercase letters, digits and -, starting with a letter). Use a directory such as my-app.\n');
      expect(await readdir(work)).toEqual([]);
    },
    TEST_MS,
  );

  it(
    'without a directory argument, lists [dir] among the missing answers',
    async () => {
      const result = await runPiped(['--no-git', '--no-install']);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^\s+\[dir\]$/m);
      expect(result.stderr).toMatch(/^\s+--services$/m);
      expect(existsSync(join(work, 'infra-stack-app'))).toBe(false);
    },
    TEST_MS,
  );
});
