// A re-run with nothing to do is recognised without rendering (src/engine/unchanged.ts). These
// tests prove it is taken when nothing changed, and that it never hides a change: each change a
// person (or a team) makes is applied to two copies of one repository, one of which has its
// shortcut (the manifest's `fresh`) removed, so it renders as before; `update` must then do
// exactly the same to both, byte for byte.
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackGenerator } from '../generators/stack.js';
import { readManifest } from '../src/engine/manifest.js';
import { repositoryTemplates } from '../src/engine/preset-package.js';
import { generateSecrets } from '../src/engine/secrets.js';
import { unchangedPlan } from '../src/engine/unchanged.js';
import { parseStackFile } from '../src/model/stack-file.js';
import { validateConfig } from '../src/model/validate.js';
import { snapshot } from './helpers/repo-state.js';
import { CREATE_BIN, INFRA_STACK_BIN, runCli } from './helpers/stack.js';

const work = mkdtempSync(join(tmpdir(), 'infra-stack-unchanged-'));
const repo = join(work, 'shop');
const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const update = (dir: string, command = 'update') => runCli(INFRA_STACK_BIN, [command, '--dir', dir]);

/** Whether the shortcut finds nothing to do in `dir` (what update and check ask first). */
async function unchanged(dir: string): Promise<boolean> {
  const config = parseStackFile(read(dir, 'infra-stack.yaml'));
  const templates = repositoryTemplates(dir, config);
  const generator = stackGenerator({ templates, secrets: generateSecrets, ask: async () => validateConfig({ ...config }), stackFile: () => read(dir, 'infra-stack.yaml') });
  return (await unchangedPlan(dir, generator, await generator.prompts(), templates, readManifest(dir))) !== null;
}

function copy(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(repo, dir, { recursive: true });
  return dir;
}

/** The same repository without the shortcut: it renders, as every run did before it. */
function withoutShortcut(dir: string): void {
  const manifest = JSON.parse(read(dir, '.infra-stack/manifest.json'));
  expect(manifest.fresh).toBeDefined();
  delete manifest.fresh;
  writeFileSync(join(dir, '.infra-stack/manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

beforeAll(() => {
  const created = runCli(CREATE_BIN, [repo, '--yes', '--no-git', '--no-install', '--services', 'orders:api,billing:api,mailer:worker']);
  expect(created.stderr).toBe('');
  // A team folder inside the repository, named in infra-stack.yaml: its templates are inputs too.
  mkdirSync(join(repo, 'team/base'), { recursive: true });
  writeFileSync(join(repo, 'team/base/CODEOWNERS'), '* @acme/platform\n');
  appendFileSync(join(repo, 'infra-stack.yaml'), 'templates: team\n');
  const first = update(repo);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(read(repo, 'CODEOWNERS')).toBe('* @acme/platform\n');
});

describe('a re-run with nothing to do', () => {
  it('is known without rendering, and writes nothing', async () => {
    const dir = copy('untouched');
    expect(await unchanged(dir)).toBe(true);
    const before = snapshot(dir);
    for (const command of ['update', 'check']) {
      const r = update(dir, command);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(update(dir).stdout).toMatch(/^Nothing to change: \d+ files already up to date\.\n$/);
    expect(snapshot(dir)).toEqual(before);
  });

  // Each change, made to both copies; the shortcut must not be taken, and the outcome must be the same.
  const changes: [string, (dir: string) => void][] = [
    ['a generated file deleted', (dir) => unlinkSync(join(dir, 'compose.yaml'))],
    ['a generated file edited', (dir) => appendFileSync(join(dir, 'Makefile'), '\n# mine\n')],
    ['a generated file turned to CRLF', (dir) => writeFileSync(join(dir, 'compose.yaml'), read(dir, 'compose.yaml').replaceAll('\n', '\r\n'))],
    ['a service added in infra-stack.yaml', (dir) => writeFileSync(join(dir, 'infra-stack.yaml'), read(dir, 'infra-stack.yaml').replace('services:\n', 'services:\n  - name: search\n    kind: api\n'))],
    ['a team template edited', (dir) => writeFileSync(join(dir, 'team/base/CODEOWNERS'), '* @acme/platform @acme/security\n')],
    ['a team template added', (dir) => writeFileSync(join(dir, 'team/base/SECURITY.md'), '# Security\n\nMail security@acme.example.\n')],
    ['a line taken out of .gitignore', (dir) => writeFileSync(join(dir, '.gitignore'), read(dir, '.gitignore').replace('node_modules/\n', ''))],
    ['the snapshot damaged', (dir) => writeFileSync(join(dir, '.infra-stack/base'), read(dir, '.infra-stack/base').replace(/^[A-Za-z0-9+/]{20}/m, 'AAAAAAAAAAAAAAAAAAAA'))],
    ['the snapshot deleted', (dir) => unlinkSync(join(dir, '.infra-stack/base'))],
    ['a generated file given conflict markers', (dir) => writeFileSync(join(dir, 'Makefile'), `<<<<<<< yours\na\n=======\nb\n>>>>>>> create-infra-stack\n${read(dir, 'Makefile')}`)],
  ];
  for (const [what, change] of changes) {
    it(`is not assumed when ${what}: update does what a full render does`, async () => {
      const [fast, full] = [copy('fast'), copy('full')];
      change(fast);
      change(full);
      withoutShortcut(full);
      expect(await unchanged(fast)).toBe(false);
      const [a, b] = [update(fast), update(full)];
      expect(a.stderr).toBe(b.stderr);
      expect({ code: a.code, stdout: a.stdout }).toEqual({ code: b.code, stdout: b.stdout });
      expect(snapshot(fast)).toEqual(snapshot(full));
    });
  }

  it('is not assumed when a key was taken out of .env: update puts it back', async () => {
    const dir = copy('env');
    const env = read(dir, '.env');
    const key = /^(POSTGRES_PASSWORD)=.+$/m.exec(env)!;
    writeFileSync(join(dir, '.env'), env.replace(`${key[0]}\n`, ''));
    expect(await unchanged(dir)).toBe(false);
    const r = update(dir);
    expect(r.stdout).toMatch(/UPDATE\s+\.env\s+\(adds POSTGRES_PASSWORD\)/);
    expect(read(dir, '.env')).toMatch(/^POSTGRES_PASSWORD=.+$/m);
  });

  it('is not assumed once a conflict was left, even after the person puts the old file back', async () => {
    // The team changes a file the person turned into bytes that are not UTF-8 (never merged): the
    // new version goes beside it, and the manifest keeps the hash of the old one.
    const dir = copy('conflict');
    const original = read(dir, 'CODEOWNERS');
    writeFileSync(join(dir, 'CODEOWNERS'), Buffer.from([0xff, 0xfe, 0x2a, 0x0a]));
    writeFileSync(join(dir, 'team/base/CODEOWNERS'), '* @acme/platform @acme/security\n');
    const conflicted = update(dir);
    expect(conflicted.stdout).toMatch(/CONFLICT\s+CODEOWNERS/);
    expect(JSON.parse(read(dir, '.infra-stack/manifest.json')).fresh).toBeUndefined();
    // They give up their edit: the file is the generator's old one again, which the next run must update.
    writeFileSync(join(dir, 'CODEOWNERS'), original);
    unlinkSync(join(dir, 'CODEOWNERS.infra-stack-new'));
    expect(await unchanged(dir)).toBe(false);
    const r = update(dir);
    expect(r.stdout).toMatch(/UPDATE\s+CODEOWNERS/);
    expect(read(dir, 'CODEOWNERS')).toBe('* @acme/platform @acme/security\n');
    expect(await unchanged(dir)).toBe(true);
  });

  it('ignores a shortcut that is not two hashes, and renders', async () => {
    const dir = copy('forged');
    const manifest = JSON.parse(read(dir, '.infra-stack/manifest.json'));
    manifest.fresh = { inputs: 'yes', base: 'trust me' };
    writeFileSync(join(dir, '.infra-stack/manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    unlinkSync(join(dir, 'compose.yaml'));
    expect(await unchanged(dir)).toBe(false);
    const r = update(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CREATE\s+compose\.yaml/);
    expect(JSON.parse(read(dir, '.infra-stack/manifest.json')).fresh.inputs).toMatch(/^sha256-/);
  });
});
