/**
 * Child process of the HTTP benchmark: the reference beside the Nest apps, a bare `node:http`
 * server with no framework and no module. `GET /api/open` answers `{"open":true}`; `GET
 * /api/verify` checks the bearer token's RS256 signature as the bench's limit does (raw
 * `crypto.verify` with a ready `KeyObject`: no claims, no cache) and answers 200 or 401. Its
 * distinct-token row is what this machine's loopback lets any server reach of the limit.
 * argv `node:http+verifier` (`http-profile.mjs`, or `BENCH_HTTP_ADAPTERS`; not in the default run): `/api/verify` checks each token with the
 * module's `AzureTokenVerifier` instead, from a Nest application context of the bench module with
 * no HTTP adapter, and answers the caller's `oid`. Started with IPC by `http.mjs` like
 * `http-server.mjs`; env: BENCH_AUTHORITY_HOST, BENCH_TENANT_ID, BENCH_CLIENT_ID (the emulator's
 * v2 key set is fetched once, at start), and BENCH_MODULE_OPTIONS (JSON, more module options for
 * `node:http+verifier`, as for `http-server.mjs`).
 *
 * `BENCH_REFERENCE_TIMING=1`: each token's check (the raw RSA check with its header's `kid`, or the
 * module's verification of a new token) is timed where it runs, and so are checks run back to back
 * in short bursts among the requests (`check-timer.mjs`); when told to stop, the server prints both
 * medians to stderr.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createServer } from 'node:http';
import { checkTimer, timeNewTokens } from './check-timer.mjs';

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

const timer = process.env.BENCH_REFERENCE_TIMING === '1' ? checkTimer() : undefined;

/** A Nest application context with the module, and its verifier (metadata loading from the start, keys on the first token, within the warm-up). */
async function moduleContext() {
  await import('reflect-metadata');
  const [{ NestFactory }, { AzureTokenVerifier }, { benchModule }] = await Promise.all([
    import('@nestjs/core'),
    import('nestjs-azure-auth'),
    import('./bench-app.mjs'),
  ]);
  const entra = { authorityHost: process.env.BENCH_AUTHORITY_HOST, tenantId: process.env.BENCH_TENANT_ID, clientId: process.env.BENCH_CLIENT_ID };
  const context = await NestFactory.createApplicationContext(benchModule(entra, JSON.parse(process.env.BENCH_MODULE_OPTIONS ?? '{}')), { logger: false });
  return { context, verifier: context.get(AzureTokenVerifier, { strict: false }) };
}
const { context, verifier } = process.argv[2] === 'node:http+verifier' ? await moduleContext() : {};
const verify = timer && verifier ? timeNewTokens(verifier, timer) : (token) => verifier.verify(token);

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(body);
}

/** The caller's oid for a token the module's verifier accepts (at once, or once keys are fetched); 401 otherwise. */
function answerCaller(response, authorization) {
  const refused = () => answer(response, 401, '{"verified":false}');
  if (!authorization?.startsWith('Bearer ')) return refused();
  const send = (caller) => answer(response, 200, JSON.stringify({ oid: caller.oid }));
  try {
    const token = authorization.slice(7);
    const caller = verify(token);
    if (caller instanceof Promise) caller.then(send, refused);
    else send(caller);
  } catch {
    refused();
  }
}

const server = createServer((request, response) => {
  if (request.url === '/api/open') return answer(response, 200, '{"open":true}');
  if (request.url === '/api/verify' && verifier) return answerCaller(response, request.headers.authorization);
  if (request.url === '/api/verify') return (timer ? timer.time(verifiedBearer, request.headers.authorization) : verifiedBearer(request.headers.authorization)) ? answer(response, 200, '{"verified":true}') : answer(response, 401, '{"verified":false}');
  answer(response, 404, '{}');
});
server.listen(0, '127.0.0.1', () => {
  process.send({ url: `http://127.0.0.1:${server.address().port}`, pid: process.pid, worker: false });
});
process.on('message', (message) => {
  if (message !== 'stop') return;
  timer?.report(verifier ? "the module's verify" : 'the RSA check');
  server.close(async () => {
    await context?.close();
    process.disconnect();
  });
});
