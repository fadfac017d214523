// scripts/k8s-apply.sh (make k8s-apply, deploy.yml): the migrations run to their end before any
// Deployment is applied, a failed migration stops the deploy at once, and the last release's Job
// is deleted first. kubectl is a recording stand-in (no cluster here); what the selector picks is
// checked on the real `kubectl kustomize` output.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configOf, writeStack } from './helpers/stack.js';
import { tool } from './helpers/tools.js';
import { run } from './helpers/validators.js';

let dir = '';
let bin = '';
beforeAll(async () => {
  dir = await writeStack(configOf({ target: 'k8s' }));
  bin = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
  // Records every call; `get job` answers the next line of $JOB_STATES (the last one repeats; an
  // empty line is a Job with no condition yet).
  writeFileSync(
    join(bin, 'kubectl'),
    `#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
case "$1" in
  get)
    n=$(grep -c '^get ' "$KUBECTL_LOG")
    if [ "$n" -le "$(wc -l < "$JOB_STATES")" ]; then sed -n "\${n}p" "$JOB_STATES"; else tail -n 1 "$JOB_STATES"; fi
    ;;
  logs) echo "migrate: relation \\"users\\" already exists" ;;
esac
`,
  );
  chmodSync(join(bin, 'kubectl'), 0o755);
});
afterAll(() => {
  for (const d of [dir, bin]) if (d) rmSync(d, { recursive: true, force: true });
});

async function apply(states: string[], overlay = 'staging') {
  const log = join(bin, `log-${Math.random()}`);
  const statesFile = join(bin, `states-${Math.random()}`);
  writeFileSync(log, '');
  writeFileSync(statesFile, `${states.join('\n')}\n`);
  const r = await run('sh', ['scripts/k8s-apply.sh', overlay], {
    cwd: dir,
    env: { PATH: `${bin}${delimiter}${process.env.PATH}`, KUBECTL_LOG: log, JOB_STATES: statesFile, MIGRATE_POLL_SECONDS: '0' },
    timeoutMs: 20_000,
  });
  return { ...r, calls: readFileSync(log, 'utf8').trim().split('\n') };
}

describe('scripts/k8s-apply.sh', () => {
  const NS = 'demo-staging';
  const first = [
    `delete job migrate --namespace ${NS} --ignore-not-found`,
    `apply -k k8s/overlays/staging --selector infra-stack/apply!=after-migrate`,
  ];
  const poll = `get job migrate --namespace ${NS} -o jsonpath={.status.conditions[?(@.status=="True")].type}`;

  it('deletes the last Job, applies all but the Deployments, waits for the migrations, then applies the Deployments', async () => {
    const r = await apply(['', '', 'SuccessCriteriaMet Complete']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual([...first, poll, poll, poll, 'apply -k k8s/overlays/staging']);
  });

  it('a failed migration exits 1 at once with the Job log, and no Deployment is applied', async () => {
    const started = Date.now();
    const r = await apply(['', 'FailureTarget Failed']);
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.stderr).toContain('migrations failed: the Deployments were not changed');
    expect(r.stderr).toContain('relation "users" already exists');
    expect(r.calls).toEqual([...first, poll, poll, `logs job/migrate --namespace ${NS} --tail=50`]);
  });

  it('refuses an unknown overlay with exit 2 and calls nothing', async () => {
    const r = await apply(['Complete'], 'prod');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: scripts/k8s-apply.sh staging|production');
    expect(r.calls).toEqual(['']);
  });

  it.skipIf(!tool('kubectl'))('the first apply holds the Job and everything it needs, and no Deployment', () => {
    for (const overlay of ['staging', 'production']) {
      const docs = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(dir, 'k8s/overlays', overlay)], { encoding: 'utf8' })).map((d) => d.toJS());
      const later = docs.filter((d) => d.metadata?.labels?.['infra-stack/apply'] === 'after-migrate').map((d) => `${d.kind}/${d.metadata.name}`);
      expect(later.sort()).toEqual(['Deployment/api', 'Deployment/web', 'Deployment/worker']);
      const firstKinds = new Set(docs.filter((d) => d.metadata?.labels?.['infra-stack/apply'] !== 'after-migrate').map((d) => d.kind));
      for (const kind of ['Namespace', 'ConfigMap', 'Secret', 'Job', 'StatefulSet', 'NetworkPolicy']) expect(firstKinds, kind).toContain(kind);
      const job = docs.find((d) => d.kind === 'Job');
      expect(job.spec.backoffLimit).toBeLessThanOrEqual(1);
    }
  });
});
