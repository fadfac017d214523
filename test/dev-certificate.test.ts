// The development certificate: create makes the built-in scripts/dev-certs.sh's certificate with
// node:crypto; it must be the certificate that script makes with openssl, field for field.
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEV_CERT_SCRIPT, startDevCertificate } from '../src/cli/dev-certificate.js';
import { DEV_CERTIFICATE } from '../src/model/dev-certificate.js';
import { CREATE_BIN, ROOT } from './helpers/stack.js';
import { tool } from './helpers/tools.js';

const HAS_OPENSSL = tool('openssl');

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'infra-stack-cert-'));
});

function create(dir: string, args: string[] = []) {
  return spawnSync(process.execPath, [CREATE_BIN, dir, '--yes', '--no-git', '--no-install', ...args], { cwd: ROOT, encoding: 'utf8' });
}

/** `openssl x509 -text`, without what differs between any two certificates (serial, key, dates, signature, key ids). */
function fields(pem: string): string {
  const text = spawnSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' }).stdout;
  return text
    .replace(/(Serial Number:\s*)[\s\S]*?(\n\s+Signature Algorithm)/, '$1<serial>$2')
    .replace(/(Not (Before|After) *:).*/g, '$1 <date>')
    .replace(/(pub:\n)(\s+[0-9a-f:]+\n)+/, '$1<point>\n')
    .replace(/(Key Identifier:\s*\n\s+)[0-9A-F:]+/g, '$1<id>')
    .replace(/(Signature Value:\n)(\s+[0-9a-f:]+\n?)+$/, '$1<signature>\n');
}

describe.skipIf(!HAS_OPENSSL)('the development certificate', () => {
  it('create makes what the generated script makes with openssl: subject, names, extensions, key and validity', () => {
    const app = join(work, 'app');
    expect(create(app, ['--domain', 'shop.localhost']).status).toBe(0);
    const ours = readFileSync(join(app, 'certs/live/shop.localhost/fullchain.pem'), 'utf8');
    // The script, as generated, in a copy of the repository without certs/.
    const copy = join(work, 'copy');
    mkdirSync(join(copy, 'scripts'), { recursive: true });
    writeFileSync(join(copy, DEV_CERT_SCRIPT), readFileSync(join(app, DEV_CERT_SCRIPT)));
    const script = spawnSync('sh', [DEV_CERT_SCRIPT], { cwd: copy, encoding: 'utf8' });
    expect(script.status, script.stderr).toBe(0);
    const theirs = readFileSync(join(copy, 'certs/live/shop.localhost/fullchain.pem'), 'utf8');

    expect(fields(ours)).toBe(fields(theirs));
    expect(fields(ours)).toContain('DNS:shop.localhost, DNS:localhost, IP Address:127.0.0.1');
    const days = (pem: string) => {
      const x = new X509Certificate(pem);
      return (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    };
    expect(days(ours)).toBe(DEV_CERTIFICATE.days);
    expect(days(ours)).toBe(days(theirs));
    // The same files with the same modes (0644: the gateway's user in its container reads them).
    for (const dir of [app, copy]) {
      const live = join(dir, 'certs/live/shop.localhost');
      expect(readdirSync(live).sort()).toEqual(['fullchain.pem', 'privkey.pem']);
      for (const name of ['fullchain.pem', 'privkey.pem']) expect(statSync(join(live, name)).mode & 0o777).toBe(0o644);
    }
  });

  it('is a valid self-signed pair: openssl verifies it against itself, and the key is its key', () => {
    const app = join(work, 'app');
    expect(create(app).status).toBe(0);
    const live = join(app, 'certs/live/app.localhost');
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(live, 'fullchain.pem'), join(live, 'fullchain.pem')], { encoding: 'utf8' });
    expect(verify.stdout.trim(), verify.stderr).toBe(`${join(live, 'fullchain.pem')}: OK`);
    const cert = new X509Certificate(readFileSync(join(live, 'fullchain.pem')));
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(join(live, 'privkey.pem'))))).toBe(true);
    expect(cert.checkHost('app.localhost')).toBe('app.localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('a domain past the 64 characters of a common name: CN=localhost, the domain in the names, as the script does', async () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.localhost`;
    const dir = join(work, 'repo');
    mkdirSync(dir);
    const built = { content: '', source: 'templates/ops/scripts/dev-certs.sh.hbs', ownership: 'generated' as const };
    expect(await startDevCertificate(built, domain).install(dir)).toContain('certs: a self-signed certificate in certs/');
    const cert = new X509Certificate(readFileSync(join(dir, 'certs/live', domain, 'fullchain.pem')));
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.subjectAltName).toBe(`DNS:${domain}, DNS:localhost, IP Address:127.0.0.1`);
  });
});

describe('when the certificate cannot be made', () => {
  const built = { content: '', source: 'templates/ops/scripts/dev-certs.sh.hbs', ownership: 'generated' as const };

  it('certs/ already there (create --force): left as it is', async () => {
    mkdirSync(join(work, 'certs'));
    writeFileSync(join(work, 'certs/mine.pem'), 'mine\n');
    expect(await startDevCertificate(built, 'app.localhost').install(work)).toBe(`certs: ${join(work, 'certs')} already exists, left as it is`);
    expect(readdirSync(join(work, 'certs'))).toEqual(['mine.pem']);
  });

  it('the repository cannot take it: one line saying why and what to run, no certs/ left', async () => {
    const file = join(work, 'file');
    writeFileSync(file, 'not a folder\n');
    const report = await startDevCertificate(built, 'app.localhost').install(file);
    expect(report).toBe(`certs: the certificate could not be written (ENOTDIR): run ${DEV_CERT_SCRIPT} before docker compose up`);
    expect(readdirSync(work)).toEqual(['file']);
  });

  it('a team script that fails: the stack is written, and the step says why, from the script\'s stderr', () => {
    mkdirSync(join(work, 'team/ops/scripts'), { recursive: true });
    writeFileSync(join(work, 'team/ops/scripts/dev-certs.sh.hbs'), '#!/bin/sh\necho "openssl: no such curve" >&2\nexit 1\n');
    const r = create(join(work, 'app'), ['--templates', join(work, 'team')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('certs: scripts/dev-certs.sh failed (openssl: no such curve): run it before docker compose up');
    expect(existsSync(join(work, 'app/compose.yaml'))).toBe(true);
    expect(existsSync(join(work, 'app/certs'))).toBe(false);
  });
});

describe("a team's own scripts/dev-certs.sh", () => {
  it('is run as rendered (with its domain), in a scratch folder, and its certs/ moved into the repository', () => {
    mkdirSync(join(work, 'team/ops/scripts'), { recursive: true });
    // A team's script that makes its own kind of certificate (say, with mkcert): here, a marker file.
    const script = '#!/bin/sh\nset -eu\ndir="$(dirname "$0")/../certs/live/{{domain}}"\nmkdir -p "$dir"\necho team > "$dir/fullchain.pem"\n';
    writeFileSync(join(work, 'team/ops/scripts/dev-certs.sh.hbs'), script);
    const temp = join(work, 'temp');
    mkdirSync(temp);
    const r = spawnSync(process.execPath, [CREATE_BIN, join(work, 'app'), '--yes', '--no-git', '--no-install', '--templates', join(work, 'team')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: temp },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('certs: scripts/dev-certs.sh made certs/ (git-ignored)');
    expect(readFileSync(join(work, 'app/certs/live/app.localhost/fullchain.pem'), 'utf8')).toBe('team\n');
    expect(readdirSync(temp)).toEqual([]); // the scratch folder is gone
  });
});
