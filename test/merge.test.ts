// Structure-aware merges: the generator's change (base -> theirs) applied onto the person's
// YAML or JSON document, keeping their edits, comments and layout. Each merged file is then
// checked by the real tool that reads it: docker-compose and the compose schema, kubectl
// kustomize, actionlint.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { emptyManifest, hashContent } from '../src/engine/manifest.js';
import { hasConflictMarkers, mergeFile, settleConflicts } from '../src/engine/merge.js';
import { plan } from '../src/engine/plan.js';
import type { Tree, TreeFile } from '../src/engine/tree.js';
import type { RawConfig } from '../src/model/validate.js';
import { actionlint } from './helpers/day2.js';
import { kustomize } from './helpers/k8s.js';
import { configOf, renderTree, writeStack } from './helpers/stack.js';
import { dockerComposeConfig, mergeCompose, validateCompose } from './helpers/validators.js';

const LABEL = 'create-infra-stack 9.9.9';
const withLedger = (overrides: RawConfig = {}) => configOf({ ...overrides, services: [...configOf().services, { name: 'ledger', kind: 'api' }] });

/** base = what the generator wrote for `before`; theirs = what it writes for `after`. */
async function versions(path: string, before: RawConfig, after: RawConfig) {
  const [b, t] = await Promise.all([renderTree(configOf(before)), renderTree(after.services ? configOf(after) : withLedger(after))]);
  return { base: b.get(path)!.content, theirs: t.get(path)!.content };
}

/** Replaces exactly one occurrence, so an edit that misses fails the test instead of editing nothing. */
function edit(text: string, from: string | RegExp, to: string): string {
  const matches = text.match(typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(from.source, 'g'));
  expect(matches?.length, String(from)).toBe(1);
  return text.replace(from, to);
}

describe('compose.yaml', () => {
  it('the gateway depends_on case: a changed condition, then add service ledger, merges cleanly and compose accepts it', async () => {
    const { base, theirs } = await versions('compose.yaml', {}, {});
    let ours = edit(base, /(\n {2}gateway:[\s\S]*?\n {6}api:\n {8}condition: )service_healthy/, '$1service_started # we start before api is healthy');
    ours = edit(ours, '      SERVICE_KIND: "api"\n', '      SERVICE_KIND: "api"\n      FEATURE_FLAGS: "checkout-v2"\n');
    ours = edit(ours, '\nnetworks:\n', '\n# Ours: a note above the networks.\nnetworks:\n');

    const result = mergeFile('compose.yaml', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(false);
    // Exactly theirs, plus the person's two changes.
    const expected = parse(theirs, { merge: true });
    expected.services.gateway.depends_on.api.condition = 'service_started';
    expected.services.api.environment.FEATURE_FLAGS = 'checkout-v2';
    expect(parse(result.content, { merge: true })).toEqual(expected);
    // Their comments and layout are kept line for line.
    expect(result.content).toContain('        condition: service_started # we start before api is healthy\n');
    expect(result.content).toContain('\n# Ours: a note above the networks.\nnetworks:\n');
    for (const line of ours.split('\n')) expect(result.content.split('\n')).toContain(line);

    const dir = await writeStack(withLedger());
    writeFileSync(join(dir, 'compose.yaml'), result.content);
    const config = await dockerComposeConfig(dir, ['compose.yaml', 'compose.override.yaml']);
    expect(config.ok, config.stderr).toBe(true);
    expect(validateCompose(mergeCompose(parse(result.content, { merge: true })))).toEqual([]);
  });

  it('the same key changed on both sides is a conflict: git-style markers, both values, every other line of the person kept', async () => {
    const { base, theirs } = await versions('compose.yaml', {}, { services: [{ name: 'api', kind: 'api', port: 3050 }, { name: 'web', kind: 'web', port: 3001 }, { name: 'worker', kind: 'worker', port: 3002 }] });
    const ours = edit(base, '      PORT: "3000"\n', '      PORT: "3005"\n');
    const result = mergeFile('compose.yaml', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(true);
    expect(result.detail).toContain('services.api.environment.PORT');
    expect(hasConflictMarkers(result.content)).toBe(true);
    expect(result.content).toContain(`<<<<<<< yours\n      PORT: "3005"\n=======\n      PORT: "3050"\n>>>>>>> ${LABEL}\n`);
    // Taking the person's side of every conflict gives their file with the generator's other changes.
    const oursSide = result.content.replace(/<<<<<<< yours\n([\s\S]*?)=======\n[\s\S]*?>>>>>>> .*\n/g, '$1');
    expect(oursSide).toBe(ours.replaceAll('127.0.0.1:3000/readyz', '127.0.0.1:3050/readyz'));
    // compose refuses the marked file: the stack cannot start half-merged.
    expect(parseAllDocuments(result.content).some((d) => d.errors.length > 0)).toBe(true);
  });

  it('a person file that no longer parses cannot come out MERGED, even when the lines merge', async () => {
    const { base, theirs } = await versions('compose.yaml', {}, {});
    const ours = edit(base, '\nvolumes:\n', '\nvolumes:\n  broken: [unclosed\n');
    const result = mergeFile('compose.yaml', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(true);
    expect(hasConflictMarkers(result.content)).toBe(true);
  });

  it("a change of the generator's comments comes along with the person's edits", async () => {
    const { base } = await versions('compose.yaml', {}, {});
    const theirs = edit(base, '  # Data services: no route to the outside world.\n', '  # Data services: internal only, no route out.\n');
    const ours = edit(base, '      PORT: "3000"\n', '      PORT: "3005"\n');
    const result = mergeFile('compose.yaml', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(false);
    expect(result.content).toBe(theirs.replace('      PORT: "3000"\n', '      PORT: "3005"\n'));
  });

  it('an alias whose anchor the person removed: a conflict, never a crash or a MERGED file compose cannot read', () => {
    const base = 'x-common: &common\n  restart: always\nservices:\n  api:\n    <<: *common\n    image: api\n';
    const theirs = base + '  ledger:\n    <<: *common\n    image: ledger\n';
    const ours = 'services:\n  api:\n    restart: always\n    image: api\n';
    const result = mergeFile('compose.yaml', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(true);
    expect(hasConflictMarkers(result.content)).toBe(true);
  });
});

describe('kustomize files', () => {
  it('a kustomization list and a multi-document service file: items matched by value, documents by kind/name, env entries by name', async () => {
    const k8s = { target: 'k8s' };
    const before = configOf(k8s);
    const after = configOf({ ...k8s, services: [{ name: 'api', kind: 'api', port: 3050 }, { name: 'web', kind: 'web', port: 3001 }, { name: 'worker', kind: 'worker', port: 3002 }, { name: 'ledger', kind: 'api' }] });
    const [b, t] = await Promise.all([renderTree(before), renderTree(after)]);
    const dir = await writeStack(after);

    // kustomization.yaml: the person adds a resource of their own; the generator adds ledger's.
    const kPath = 'k8s/base/kustomization.yaml';
    const kOurs = edit(b.get(kPath)!.content, '  - services/worker.yaml\n', '  - services/worker.yaml\n  - extra-config.yaml # ours\n');
    writeFileSync(join(dir, 'k8s/base/extra-config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "1"\n');
    const kMerged = mergeFile(kPath, b.get(kPath)!.content, kOurs, t.get(kPath)!.content, LABEL);
    expect(kMerged.conflict).toBe(false);
    expect(parse(kMerged.content).resources).toEqual(expect.arrayContaining(['services/ledger.yaml', 'extra-config.yaml']));
    expect(kMerged.content).toContain('  - extra-config.yaml # ours\n');

    // services/api.yaml: the person adds an env entry and a replica count; the generator moves the port.
    const aPath = 'k8s/base/services/api.yaml';
    let aOurs = edit(b.get(aPath)!.content, '          env:\n', '          env:\n            - name: FEATURE_FLAGS # ours\n              value: "checkout-v2"\n');
    aOurs = aOurs.replace(/(kind: Deployment\n[\s\S]*?\nspec:\n)/, '$1  # ours: two pods from the start\n  replicas: 2\n');
    expect(aOurs).toContain('replicas: 2');
    const aMerged = mergeFile(aPath, b.get(aPath)!.content, aOurs, t.get(aPath)!.content, LABEL);
    expect(aMerged.conflict, aMerged.detail).toBe(false);
    expect(aMerged.content).toContain('# ours: two pods from the start\n');

    writeFileSync(join(dir, kPath), kMerged.content);
    writeFileSync(join(dir, aPath), aMerged.content);
    const resources = await kustomize(join(dir, 'k8s/overlays/staging'));
    const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === 'api') as unknown as {
      spec: { replicas: number; template: { spec: { containers: { env: { name: string; value?: string }[]; ports: { containerPort: number }[] }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0];
    expect(container.env).toContainEqual({ name: 'FEATURE_FLAGS', value: 'checkout-v2' });
    expect(container.ports[0].containerPort).toBe(3050);
    expect(resources.some((r) => r.kind === 'Deployment' && r.metadata.name === 'ledger')).toBe(true);
    expect(resources.some((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('extra'))).toBe(true);
  });
});

describe('workflow files', () => {
  it('ci.yml: a step of the person, the generator adding a service and moving Node: jobs by id, steps by name or uses', async () => {
    const { base, theirs } = await versions('.github/workflows/ci.yml', {}, { node: '22' });
    let ours = edit(base, '      - name: Test\n        run: npm run test --if-present\n', '      - name: Test\n        run: npm run test --if-present\n      # ours: fail on known vulnerabilities\n      - name: Audit\n        run: npm audit --omit=dev\n');
    ours = edit(ours, '    timeout-minutes: 15\n', '    timeout-minutes: 20\n');
    const result = mergeFile('.github/workflows/ci.yml', base, ours, theirs, LABEL);
    expect(result.conflict, result.detail).toBe(false);
    const ci = parse(result.content);
    // One matrix entry per service (its connection settings beside it).
    expect(ci.jobs.test.strategy.matrix.include.map((e: { service: string }) => e.service)).toContain('ledger');
    expect(ci.jobs.test['timeout-minutes']).toBe(20);
    expect(ci.jobs.test.steps.map((s: { name?: string }) => s.name).slice(-2)).toEqual(['Test', 'Audit']);
    expect(ci.jobs.test.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/setup-node')).with['node-version']).toBe('22');
    expect(await actionlint(result.content, '.github/workflows/ci.yml')).toEqual([]);
  });
});

describe('JSON', () => {
  const gen = (content: string): TreeFile => ({ content, source: 'test', ownership: 'generated' });

  it('package.json merges key by key in the person indentation', () => {
    const base = '{\n  "name": "x",\n  "devDependencies": {\n    "a": "1.0.0"\n  }\n}\n';
    const theirs = '{\n  "name": "x",\n  "devDependencies": {\n    "a": "2.0.0"\n  }\n}\n';
    const ours = '{\n    "name": "x",\n    "scripts": {\n        "test": "vitest"\n    },\n    "devDependencies": {\n        "a": "1.0.0",\n        "b": "3.0.0"\n    }\n}\n';
    const result = mergeFile('package.json', base, ours, theirs, LABEL);
    expect(result.conflict).toBe(false);
    expect(result.content).toBe(ours.replace('"a": "1.0.0"', '"a": "2.0.0"'));
  });

  it('a root package.json the repository already had is merged into: its keys win, the generator pin is added', () => {
    const ours = '{\n  "name": "legacy",\n  "private": true,\n  "devDependencies": {\n    "jest": "29.7.0"\n  }\n}\n';
    const theirs = '{\n  "name": "shop-repo",\n  "version": "0.0.0",\n  "private": true,\n  "devDependencies": {\n    "create-infra-stack": "0.1.0"\n  }\n}\n';
    const tree: Tree = new Map([['package.json', gen(theirs)]]);
    const disk = new Map([['package.json', ours]]);
    const settled = settleConflicts(plan(tree, disk, emptyManifest('1'), '1'), { disk, tree, base: new Map(), label: LABEL });
    const entry = settled.plan.entries[0];
    expect(entry.action).toBe('MERGED');
    expect(JSON.parse(String(entry.write!.content))).toEqual({ name: 'legacy', private: true, version: '0.0.0', devDependencies: { jest: '29.7.0', 'create-infra-stack': '0.1.0' } });
    expect(settled.plan.manifest.files['package.json']).toBe(hashContent(theirs));
  });
});

describe('settling a plan', () => {
  const gen = (content: string): TreeFile => ({ content, source: 'test', ownership: 'generated' });
  const base = 'a: 1\nb: 2\nc: 3\n';
  const manifest = { ...emptyManifest('1'), files: { 'x.yaml': hashContent(base), 'notes.txt': hashContent('one\ntwo\nthree\n') } };

  it('merges what does not overlap, marks what does, and leaves a marked file alone until resolved', () => {
    const tree: Tree = new Map([
      ['x.yaml', gen('a: 1\nb: 2\nc: 30\nd: 4\n')],
      ['notes.txt', gen('one\ntwo\nthree\nfour\n')],
    ]);
    const disk = new Map([
      ['x.yaml', 'a: 1\nb: 2\nc: 300\n'],
      ['notes.txt', 'zero\none\ntwo\nthree\n'],
    ]);
    const bases = new Map([
      ['x.yaml', base],
      ['notes.txt', 'one\ntwo\nthree\n'],
    ]);
    const settled = settleConflicts(plan(tree, disk, manifest, '1'), { disk, tree, base: bases, label: LABEL });
    const [notes, x] = settled.plan.entries;
    expect(notes).toMatchObject({ action: 'MERGED', write: { path: 'notes.txt', content: 'zero\none\ntwo\nthree\nfour\n' } });
    expect(x.action).toBe('CONFLICT');
    expect(x.write!.path).toBe('x.yaml');
    expect(x.write!.content).toBe(`a: 1\nb: 2\n<<<<<<< yours\nc: 300\n=======\nc: 30\nd: 4\n>>>>>>> ${LABEL}\n`);
    expect(settled.pending).toEqual(['x.yaml']);
    // The next run: the markers are still there, so nothing is merged into or written over them.
    const again = new Map([...disk, ['x.yaml', String(x.write!.content)]]);
    const manifest2 = { ...manifest, files: settled.plan.manifest.files };
    const next = settleConflicts(plan(tree, again, manifest2, '1'), { disk: again, tree, base: bases, label: LABEL });
    expect(next.plan.entries[1].action).toBe('CONFLICT');
    expect(next.plan.entries[1].write).toBeUndefined();
    expect(next.pending).toEqual(['x.yaml']);
  });

  it('without a base that matches the manifest (another generator version), every difference is marked', () => {
    const tree: Tree = new Map([['x.yaml', gen('a: 1\nb: 2\nc: 3\nd: 4\n')]]);
    const disk = new Map([['x.yaml', 'a: 10\nb: 2\nc: 3\n']]);
    const settled = settleConflicts(plan(tree, disk, manifest, '1'), { disk, tree, base: new Map(), label: LABEL });
    expect(settled.plan.entries[0].action).toBe('CONFLICT');
    expect(hasConflictMarkers(String(settled.plan.entries[0].write!.content))).toBe(true);
  });
});

it('a single marker line left behind still counts as an unfinished merge; a Markdown underline does not', () => {
  expect(hasConflictMarkers('a: 1\n>>>>>>> create-infra-stack 1.0.0\n')).toBe(true);
  expect(hasConflictMarkers('<<<<<<< yours\na: 1\n')).toBe(true);
  expect(hasConflictMarkers('Title\n=======\n\ntext <<<<<<< inline\n')).toBe(false);
});

// Keeps the helpers honest: an edit that matches nothing must fail loudly.
it('edit() refuses a pattern that matches nothing', () => {
  expect(() => edit('abc', 'zzz', 'y')).toThrow();
});
