// `storage: s3`: the sample's /health signs a HeadBucket (SigV4, built-ins only) that a real S3 API
// server checks (@20minutes/s3rver, which verifies V4 signatures: the original s3rver 3.x does not);
// compose runs SeaweedFS in development only; production and k8s point at S3 itself, k8s with an
// IAM role and no keys.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Tree } from '../src/engine/tree.js';
import { kustomize, type Resource } from './helpers/k8s.js';
import { samples, startSample } from './helpers/sample.js';
import { shellcheck } from './helpers/day2.js';
import { CREATE_BIN, configOf, INFRA_STACK_BIN, prettierDiffs, renderTree, runCli, writeStack } from './helpers/stack.js';
import { tool } from './helpers/tools.js';
import { dockerComposeConfig, mergeCompose, validateCompose } from './helpers/validators.js';

const HAS = { dockerCompose: tool('docker-compose'), kubectl: tool('kubectl'), shellcheck: tool('shellcheck') };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'storage-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all([...samples].map((s) => s.stop()));
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

type Compose = { services: Record<string, { image?: string; environment?: Record<string, string>; depends_on?: Record<string, unknown>; networks?: string[]; ports?: string[] }> };
const composeOf = (tree: Tree, path: string) => parse(tree.get(path)!.content, { merge: true }) as Compose;

describe('sample /health against a real S3 API server', () => {
  let server: S3rver;
  let endpoint = '';
  beforeAll(async () => {
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tempDir(), configureBuckets: [{ name: 'uploads' }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  // s3rver's one account: access key S3RVER, secret S3RVER.
  const health = async (env: Record<string, string>) => {
    const s = await startSample({
      SERVICE_NAME: 'files',
      SERVICE_KIND: 'api',
      AWS_ENDPOINT_URL_S3: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      S3_BUCKET: 'uploads',
      ...env,
    });
    const res = await fetch(`${s.base}/health`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> } };
  };

  it('is 200 with the right credentials: a signed HeadBucket of the bucket', async () => {
    const r = await health({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    expect(r.status).toBe(200);
    expect(r.body.checks.storage).toMatchObject({ ok: true });
  });

  it('is 503 naming storage with a wrong secret (the signature does not match) or an unknown key', async () => {
    for (const keys of [
      { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
      { AWS_ACCESS_KEY_ID: 'SOMEONE', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    ]) {
      const r = await health(keys);
      expect(r.status).toBe(503);
      expect(r.body.checks.storage).toMatchObject({ ok: false, error: 'HeadBucket uploads: HTTP 403' });
    }
  });

  it('is 503 when the bucket does not exist', async () => {
    const r = await health({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', S3_BUCKET: 'missing' });
    expect(r.status).toBe(503);
    expect(r.body.checks.storage.error).toBe('HeadBucket missing: HTTP 404');
  });

  it('checks nothing without S3_BUCKET (a service that does not use storage)', async () => {
    const r = await health({ S3_BUCKET: '' });
    expect(r.status).toBe(200);
    expect(r.body.checks.storage).toBeUndefined();
  });
});

describe('storage: s3 in the generated files', () => {
  const SERVICES = [
    { name: 'api', kind: 'api' },
    { name: 'web', kind: 'web', uses: ['database'] },
  ];
  let base: Compose;
  let dev: Compose;
  let prod: Compose;
  let tree: Tree;
  beforeAll(async () => {
    tree = await renderTree(configOf({ storage: 's3', services: SERVICES }));
    base = composeOf(tree, 'compose.yaml');
    dev = mergeCompose(base, composeOf(tree, 'compose.override.yaml')) as Compose;
    prod = mergeCompose(base, composeOf(tree, 'compose.prod.yaml')) as Compose;
  });

  it('development: SeaweedFS pinned (not MinIO), on 127.0.0.1 only, the bucket from .env; only users get S3 settings', () => {
    expect(validateCompose(base)).toEqual([]);
    expect(dev.services.seaweedfs.image).toBe('chrislusf/seaweedfs:4.47');
    expect(dev.services.seaweedfs.networks).toEqual(['backend']);
    expect(dev.services.seaweedfs.ports).toEqual(['127.0.0.1:8333:8333']);
    expect(dev.services.seaweedfs.environment).toEqual({
      S3_ACCESS_KEY_ID: '${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID in .env}',
      S3_SECRET_ACCESS_KEY: '${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY in .env}',
      S3_BUCKET: '${S3_BUCKET:?set S3_BUCKET in .env}',
    });
    expect(dev.services.api.environment).toMatchObject({
      AWS_ENDPOINT_URL_S3: 'http://seaweedfs:8333',
      S3_FORCE_PATH_STYLE: 'true',
      S3_BUCKET: '${S3_BUCKET:?set S3_BUCKET in .env}',
      AWS_ACCESS_KEY_ID: '${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID in .env}',
    });
    expect(JSON.stringify(dev.services.web)).not.toMatch(/S3|AWS_/);
    // Development waits for the stand-in; compose.yaml does not, as production does not run it.
    expect(Object.keys(dev.services.api.depends_on ?? {})).toContain('seaweedfs');
    expect(Object.keys(base.services.api.depends_on ?? {})).not.toContain('seaweedfs');
  });

  it('production: no SeaweedFS (it is compose.override.yaml only); the services reach S3_ENDPOINT_URL, never the emulator', () => {
    expect(Object.keys(prod.services)).not.toContain('seaweedfs');
    expect(prod.services.api.environment).toMatchObject({
      AWS_ENDPOINT_URL_S3: '${S3_ENDPOINT_URL:?set S3_ENDPOINT_URL in .env}',
      S3_FORCE_PATH_STYLE: 'false',
    });
    // Empty keys (the instance role, as .env.example recommends) must not stop production starting.
    expect(prod.services.api.environment).toMatchObject({ AWS_ACCESS_KEY_ID: '${AWS_ACCESS_KEY_ID:-}', AWS_SECRET_ACCESS_KEY: '${AWS_SECRET_ACCESS_KEY:-}' });
    const started = Object.entries(prod.services);
    expect(started.map(([name]) => name)).toEqual(expect.arrayContaining(SERVICES.map((s) => s.name)));
    for (const [name, s] of started) expect(JSON.stringify(s.environment ?? {}), name).not.toContain('seaweedfs');
    expect(tree.get('compose.yaml')!.content).not.toContain('seaweedfs');
  });

  it('the AWS keys are the same for a service that uses S3, SQS or both: optional in production, required by SeaweedFS in development', async () => {
    const both = await renderTree(configOf({ storage: 's3', queue: 'sqs', services: [{ name: 'api', kind: 'api', uses: ['storage', 'queue'] }] }));
    const sqs = await renderTree(configOf({ queue: 'sqs', services: [{ name: 'api', kind: 'api', uses: ['queue'] }] }));
    const keys = (env: Record<string, string> | undefined) => ({ id: env?.AWS_ACCESS_KEY_ID, secret: env?.AWS_SECRET_ACCESS_KEY });
    const optional = { id: '${AWS_ACCESS_KEY_ID:-}', secret: '${AWS_SECRET_ACCESS_KEY:-}' };
    for (const t of [tree, both, sqs]) expect(keys(composeOf(t, 'compose.yaml').services.api.environment)).toEqual(optional);
    const devKeys = (t: Tree) => keys((mergeCompose(composeOf(t, 'compose.yaml'), composeOf(t, 'compose.override.yaml')) as Compose).services.api.environment);
    const fromEnv = { id: '${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID in .env}', secret: '${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY in .env}' };
    expect(devKeys(tree)).toEqual(fromEnv);
    expect(devKeys(both)).toEqual(fromEnv);
    expect(devKeys(sqs)).toEqual({ id: 'local', secret: 'local' });
  });

  it('.env: random 32-byte keys (SeaweedFS checks them), empty in .env.example; ElasticMQ-only stacks keep "local"', async () => {
    const dir = join(tempDir(), 'app');
    const r = runCli(CREATE_BIN, [dir, '--yes', '--no-git', '--no-install', '--storage', 's3', '--queue', 'sqs']);
    expect(r.code, r.stderr).toBe(0);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(env)?.[1] ?? '';
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(Buffer.from(value(key), 'base64url').length, key).toBe(32);
      expect(env.match(new RegExp(`^${key}=`, 'gm'))).toHaveLength(1);
    }
    expect(value('S3_BUCKET')).toBe('app-uploads');
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toMatch(/^AWS_SECRET_ACCESS_KEY=$/m);
    expect((await renderTree(configOf({ queue: 'sqs' }))).get('.env.example')!.content).toMatch(/^AWS_SECRET_ACCESS_KEY=local$/m);
  });

  it.skipIf(!HAS.dockerCompose)('docker-compose config accepts development and production', async () => {
    const dir = await writeStack(configOf({ storage: 's3', queue: 'sqs', services: SERVICES }));
    dirs.push(dir);
    for (const files of [['compose.yaml'], ['compose.yaml', 'compose.override.yaml'], ['compose.yaml', 'compose.prod.yaml']]) {
      const r = await dockerComposeConfig(dir, files);
      expect(r.ok, `${files.join(' + ')}: ${r.stderr}`).toBe(true);
    }
  });

  it.skipIf(!HAS.shellcheck)('seaweedfs/entrypoint.sh passes shellcheck', async () => {
    expect(await shellcheck(tree.get('seaweedfs/entrypoint.sh')!.content, 'sh')).toEqual([]);
  });

  it.skipIf(!HAS.kubectl)('k8s: no SeaweedFS; users act as an IAM role (no keys), get their environment\'s bucket and HTTPS egress', async () => {
    const dir = await writeStack(configOf({ storage: 's3', target: 'k8s', services: SERVICES }));
    dirs.push(dir);
    for (const overlay of ['staging', 'production']) {
      const resources = await kustomize(join(dir, 'k8s/overlays', overlay));
      expect(resources.some((r) => r.metadata.name.includes('seaweedfs'))).toBe(false);
      const sa = (name: string) => resources.find((r) => r.kind === 'ServiceAccount' && r.metadata.name === name)!;
      expect(sa('api').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::000000000000:role/demo-api' });
      expect(sa('web').metadata.annotations).toBeUndefined();
      const deployment = (name: string) => resources.find((r) => r.kind === 'Deployment' && r.metadata.name === name) as Resource & {
        spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
      };
      const env = Object.fromEntries((deployment('api').spec.template.spec.containers[0].env ?? []).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ AWS_ENDPOINT_URL_S3: 'https://s3.us-east-1.amazonaws.com', S3_BUCKET: '$(S3_BUCKET_NAME)' });
      expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
      expect(deployment('api').spec.template.metadata.labels['infra-stack/uses-s3']).toBe('true');
      expect(deployment('web').spec.template.metadata.labels['infra-stack/uses-s3']).toBeUndefined();
      const config = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('stack-config')) as Resource & { data: Record<string, string> };
      expect(config.data.S3_BUCKET_NAME).toBe(`demo-${overlay}-uploads`);
      expect(readFileSync(join(dir, 'k8s/overlays', overlay, 'secrets.env'), 'utf8')).not.toContain('AWS_');
      const egress = resources.find((r) => r.kind === 'NetworkPolicy' && r.metadata.name === 'uses-s3') as Resource & { spec: unknown };
      expect(egress.spec).toMatchObject({ podSelector: { matchLabels: { 'infra-stack/uses-s3': 'true' } }, policyTypes: ['Egress'] });
      // Public addresses only, as for SQS: never the VPC, the pod network or the instance metadata service.
      expect(egress.spec).toMatchObject({ egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16']) } }] }] });
    }
  });

  it('storage none: no SeaweedFS, no S3 variable, no storage role', async () => {
    const plain = await renderTree(configOf());
    expect(plain.get('compose.yaml')!.content).not.toContain('seaweedfs');
    expect(plain.get('.env.example')!.content).not.toContain('S3_');
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'files', '--uses', 'storage', '--dir', await writeStack(configOf())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('database, cache, queue, search');
  });

  it('add service --uses storage wires only the new service; a wrong --storage is one line and exit 2', async () => {
    const dir = await writeStack(configOf({ storage: 's3', services: [{ name: 'api', kind: 'api', uses: ['database'] }] }));
    dirs.push(dir);
    const r = runCli(INFRA_STACK_BIN, ['add', 'service', 'files', '--uses', 'storage', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const compose = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
    expect(compose.services.files.environment).toMatchObject({ S3_BUCKET: '${S3_BUCKET:?set S3_BUCKET in .env}' });
    expect(JSON.stringify(compose.services.api.environment)).not.toContain('S3_');
    const bad = runCli(CREATE_BIN, [join(tempDir(), 'x'), '--yes', '--storage', 'minio']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('s3, none');
  });

  it('the output is prettier-clean', async () => {
    const diffs = await prettierDiffs(configOf({ storage: 's3', target: 'k8s', queue: 'sqs', monitoring: 'prometheus' }));
    expect(diffs, diffs.join('\n\n')).toEqual([]);
  });
});
