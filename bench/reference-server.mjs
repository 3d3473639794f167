/**
 * Child process of the HTTP benchmark: the reference beside the Nest apps, a bare `node:http`
 * server with no framework and no module. `GET /api/open` answers `{"open":true}`; `GET
 * /api/verify` checks the bearer token's RS256 signature as the bench's limit does (raw
 * `crypto.verify` with a ready `KeyObject`: no claims, no cache) and answers 200 or 401. Its
 * distinct-token row is what this machine's loopback lets any server reach of the limit.
 * Started with IPC by `http.mjs` like `http-server.mjs`; env: BENCH_AUTHORITY_HOST,
 * BENCH_TENANT_ID (the emulator's v2 key set is fetched once, at start).
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createServer } from 'node:http';

const metadataUrl = `${process.env.BENCH_AUTHORITY_HOST}/${process.env.BENCH_TENANT_ID}/v2.0/.well-known/openid-configuration`;
const { jwks_uri: jwksUri } = await (await fetch(metadataUrl)).json();
const { keys } = await (await fetch(jwksUri)).json();
const keyObjects = new Map(keys.map((jwk) => [jwk.kid, createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' })]));

/** The signature of `Bearer <token>` checked with the key its header names; false for anything else. */
function verifiedBearer(authorization) {
  if (!authorization?.startsWith('Bearer ')) return false;
  const token = authorization.slice(7);
  const dot = token.lastIndexOf('.');
  try {
    const { kid } = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString());
    const key = keyObjects.get(kid);
    return key !== undefined && cryptoVerify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'));
  } catch {
    return false;
  }
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(body);
}

const server = createServer((request, response) => {
  if (request.url === '/api/open') return answer(response, 200, '{"open":true}');
  if (request.url === '/api/verify') return verifiedBearer(request.headers.authorization) ? answer(response, 200, '{"verified":true}') : answer(response, 401, '{"verified":false}');
  answer(response, 404, '{}');
});
server.listen(0, '127.0.0.1', () => {
  process.send({ url: `http://127.0.0.1:${server.address().port}`, pid: process.pid, worker: false });
});
process.on('message', (message) => {
  if (message === 'stop') server.close(() => process.disconnect());
});
