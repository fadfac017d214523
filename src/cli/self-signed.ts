import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { DEV_CERTIFICATE } from '../model/dev-certificate.js';

/**
 * The development certificate the built-in scripts/dev-certs.sh makes with openssl, made here
 * with node:crypto: the same fields and extensions (test/dev-certificate.test.ts compares the two),
 * without a shell and openssl on every create (~25 ms of a 200 ms run on a 2-core machine).
 * A P-256 key; the subject and issuer are the domain (localhost past the 64 characters a
 * common name holds); the domain and DEV_CERTIFICATE's names; valid DEV_CERTIFICATE.days; the
 * extensions `openssl req -x509` adds (key identifiers, CA:TRUE) and those the script asks for.
 * (Synchronous: on libuv's thread pool the key's ~1 ms would cost starting the pool's threads.)
 */
export function selfSignedCertificate(domain: string, now = new Date()): { certificate: string; privateKey: string } {
  const { days, dnsNames, ips } = DEV_CERTIFICATE;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const point = publicPoint(publicKey);
  const keyId = createHash('sha1').update(point).digest();
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(domain.length <= 64 ? domain : 'localhost')))));
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(20);
  serial[0] &= 0x7f; // positive
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(utcTime(now), utcTime(new Date(now.getTime() + days * 86_400_000))),
    name,
    seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, Buffer.concat([Buffer.from([0]), point]))), // id-ecPublicKey, P-256
    tlv(
      0xa3,
      seq(
        extension('2.5.29.14', false, tlv(0x04, keyId)), // subject key identifier
        extension('2.5.29.35', false, seq(tlv(0x80, keyId))), // authority key identifier
        extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))), // basic constraints: CA
        extension('2.5.29.17', false, seq(...[domain, ...dnsNames].map((n) => tlv(0x82, Buffer.from(n))), ...ips.map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number)))))),
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // key usage: digitalSignature
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extended key usage: serverAuth
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey); // DER (r, s), as X.509 wants it
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return { certificate: pem('CERTIFICATE', der), privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The uncompressed EC point, the bits of the subjectPublicKey (what a key identifier hashes). */
function publicPoint(key: KeyObject): Buffer {
  const { x, y } = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

// DER: tag, length, content.
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));

function integer(bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** YYMMDDHHMMSSZ: X.509 takes UTCTime up to 2049. (By hand: the first toISOString costs ~1 ms.) */
function utcTime(date: Date): Buffer {
  const parts = [date.getUTCFullYear() % 100, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  return tlv(0x17, Buffer.from(`${parts.map((n) => String(n).padStart(2, '0')).join('')}Z`));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
