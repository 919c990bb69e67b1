// s3.mjs - a real S3 implementation for the tests: s3rver (npm) on a loopback port, behind a loopback
// proxy that verifies every request's AWS Signature V4 with @smithy/signature-v4 (the AWS JavaScript SDK's
// signer, independent of libcurl) and answers 403 SignatureDoesNotMatch / InvalidAccessKeyId / AccessDenied
// as S3 does. s3rver itself verifies no V4 signature. Anonymous GET and HEAD pass (a public-read bucket).
// Like S3 for a reader without s3:ListBucket, an anonymous GET of a missing key is answered 403 AccessDenied.
// The proxy logs every request ({method, key, query, status, bytes, copy}); /__proxy/log returns the log,
// /__proxy/slow?ms=N delays each later PUT by N ms (a test kills an upload in flight that way).
// As a program: node tests/lib/s3.mjs DIR prints {"proxy":PORT,"s3rver":PORT} and serves until killed.
import S3rver from 's3rver';
import { SignatureV4 } from '@smithy/signature-v4';
import crypto from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const KEY_ID = 'S3RVER'; // the key id s3rver knows; the secret is the test's
export const SECRET = 'polsnap-test-secret';
export const REGION = 'us-east-1';
export const BUCKET = 'bucket';

const WEBSITE = `<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>`;

class Sha256 {
  constructor(key) { this.h = key ? crypto.createHmac('sha256', Buffer.from(key)) : crypto.createHash('sha256'); }
  update(d) { this.h.update(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d)); }
  async digest() { return new Uint8Array(this.h.digest()); }
}

const escapeUri = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function s3Error(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return status;
}

// The request as S3 canonicalizes it: the path decoded and encoded once per segment, the query decoded.
function parseTarget(url) {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q), rawQuery = q < 0 ? '' : url.slice(q + 1);
  const decoded = rawPath.split('/').map((s) => decodeURIComponent(s));
  const query = {};
  for (const part of rawQuery ? rawQuery.split('&') : []) {
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq)), v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    query[k] = v;
  }
  return { path: decoded.map(escapeUri).join('/'), key: decoded.slice(2).join('/'), query };
}

// 0 when the signature holds, else the status of the answer already sent.
async function verify(req, body, secret, target) {
  const auth = req.headers.authorization;
  if (!auth) return ['GET', 'HEAD'].includes(req.method) ? 0 : s3Error(req.res, 403, 'AccessDenied', 'Anonymous users may only read');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return s3Error(req.res, 400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
  const [, keyId, , region, signedList, signature] = m;
  if (keyId !== KEY_ID) return s3Error(req.res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (region !== REGION) return s3Error(req.res, 400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${REGION}'`);
  const signed = signedList.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signed.includes(h)) return s3Error(req.res, 403, 'AccessDenied', `${h} must be signed`);
  const sha = req.headers['x-amz-content-sha256'];
  if (sha !== 'UNSIGNED-PAYLOAD' && sha !== crypto.createHash('sha256').update(body).digest('hex'))
    return s3Error(req.res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  const headers = {};
  for (const h of signed) headers[h] = req.headers[h] ?? '';
  const date = req.headers['x-amz-date'];
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const signer = new SignatureV4({ credentials: { accessKeyId: keyId, secretAccessKey: secret, sessionToken: req.headers['x-amz-security-token'] },
    region: REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const host = req.headers.host;
  const out = await signer.sign({ method: req.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), port: Number(host.split(':')[1]),
    path: target.path, query: target.query, headers, body }, { signingDate, signableHeaders: new Set(signed) });
  const want = /Signature=([0-9a-f]{64})/.exec(out.headers.authorization)[1];
  if (want !== signature) return s3Error(req.res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  return 0;
}

function forward(req, body, port) {
  return new Promise((resolve, reject) => {
    const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (res) => {
      if (res.statusCode === 404 && !req.headers.authorization) {
        res.resume();
        return resolve(s3Error(req.res, 403, 'AccessDenied', 'Access Denied'));
      }
      req.res.writeHead(res.statusCode, res.headers);
      res.pipe(req.res);
      res.on('end', () => resolve(res.statusCode));
    });
    up.on('error', reject);
    up.end(body);
  });
}

// Starts s3rver (bucket BUCKET with a website configuration, files in dir) and the verifying proxy.
export async function startS3(dir, { secret = SECRET } = {}) {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: [{ name: BUCKET, configs: [WEBSITE] }] });
  const { port: s3port } = await server.run();
  const log = [];
  let slowMs = 0;
  const proxy = http.createServer(async (req, res) => {
    req.res = res;
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (req.url.startsWith('/__proxy/')) {
      if (req.url.startsWith('/__proxy/slow')) slowMs = Number(new URL(req.url, 'http://x').searchParams.get('ms')) || 0;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(req.url.startsWith('/__proxy/log') ? log : { slowMs }));
    }
    const target = parseTarget(req.url);
    const entry = { method: req.method, key: target.key, query: target.query, bytes: body.length,
      copy: !!req.headers['x-amz-copy-source'], signed: !!req.headers.authorization };
    log.push(entry);
    try {
      if (slowMs && req.method === 'PUT') await new Promise((r) => setTimeout(r, slowMs));
      entry.status = (await verify(req, body, secret, target)) || (await forward(req, body, s3port));
    } catch (e) {
      entry.status = s3Error(res, 500, 'InternalError', String(e && e.message));
    }
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  const port = proxy.address().port;
  return {
    port, s3port, log, url: `http://127.0.0.1:${port}`,
    // the site as a static-website endpoint serves it (path-style: /BUCKET/PREFIX/)
    siteUrl: (prefix) => `http://127.0.0.1:${port}/${BUCKET}/${prefix}`,
    async stop() {
      await new Promise((r) => proxy.close(r));
      await server.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await startS3(process.argv[2]);
  process.stdout.write(JSON.stringify({ proxy: s.port, s3rver: s.s3port }) + '\n');
  process.on('SIGTERM', async () => { await s.stop(); process.exit(0); });
}
