// The object storage check of /health: a HeadBucket request, signed with AWS Signature Version 4
// (built-ins only). 200 means the bucket exists and these credentials may use it. Without keys
// (an IAM role on Kubernetes, whose token this sample does not exchange) the request goes unsigned:
// AWS answers 403 for a bucket that exists and 404 for one that does not.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/** The bucket's URL: path-style (emulators, S3_FORCE_PATH_STYLE=true) or virtual-hosted (AWS). */
export function bucketUrl(endpoint, bucket, pathStyle) {
  const url = new URL(endpoint);
  if (pathStyle) url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}`;
  else url.hostname = `${bucket}.${url.hostname}`;
  return url;
}

/** The headers of a request signed with SigV4 for service s3 (unsigned payload of an empty body). */
export function signV4({ method, url, region, accessKeyId, secretAccessKey, sessionToken, now = new Date() }) {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20260101T000000Z
  const day = amzDate.slice(0, 8);
  const payload = sha256('');
  const headers = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  if (sessionToken) headers['x-amz-security-token'] = sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [method, url.pathname || '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), payload].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

export function checkS3(bucket, env, signal) {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || `https://s3.${env.AWS_REGION || 'us-east-1'}.amazonaws.com`;
  const url = bucketUrl(endpoint, bucket, env.S3_FORCE_PATH_STYLE === 'true');
  const signed = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const headers = signed
    ? signV4({
        method: 'HEAD',
        url,
        region: env.AWS_REGION || 'us-east-1',
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN,
      })
    : {};
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'HEAD', headers, signal }, (res) => {
      res.resume();
      const ok = res.statusCode === 200 || (!signed && res.statusCode === 403);
      if (ok) resolve();
      else reject(new Error(`HeadBucket ${bucket}: HTTP ${res.statusCode}${res.headers['x-amz-error-code'] ? ` ${res.headers['x-amz-error-code']}` : ''}`));
    });
    req.on('error', reject);
    req.end();
  });
}
