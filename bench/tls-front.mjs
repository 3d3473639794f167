/**
 * passport-azure-ad only fetches metadata and keys over https (its `identityMetadata` must be an
 * https URL and it calls `https.get` for `jwks_uri`; it has no option for http). To measure it
 * against the same loopback emulator, this puts a TLS front on loopback with a throw-away
 * self-signed certificate (made with the `openssl` CLI) and trusts that certificate in this process
 * only. Tokens are untouched: their `iss` stays the emulator's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function makeLoopbackCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'azure-auth-bench-'));
  try {
    const result = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
    );
    if (result.error) throw new Error(`openssl could not run (${result.error.message})`);
    if (result.status !== 0) throw new Error(`openssl failed: ${String(result.stderr).trim().split('\n').pop()}`);
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts an https server on 127.0.0.1 that answers with the emulator's documents, rewriting
 * `jwks_uri` to point back at itself. Returns its v2 metadata URL for the emulator's tenant.
 */
export async function startTlsFront(entra) {
  const { key, cert } = makeLoopbackCertificate();
  let origin = '';
  const server = https.createServer({ key, cert }, async (request, response) => {
    try {
      const upstream = await fetch(entra.authorityHost + request.url);
      let body = await upstream.text();
      if (upstream.ok && request.url.includes('openid-configuration')) {
        const document = JSON.parse(body);
        document.jwks_uri = document.jwks_uri.replace(entra.authorityHost, origin);
        body = JSON.stringify(document);
      }
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
    } catch (error) {
      response.writeHead(502).end(String(error));
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${server.address().port}`;
  // passport-azure-ad passes no agent, so Node's global https agent is the one to teach the certificate.
  const previousCa = https.globalAgent.options.ca;
  https.globalAgent.options.ca = cert;
  return {
    v2MetadataUrl: `${origin}/${entra.tenantId}/v2.0/.well-known/openid-configuration`,
    stop: () =>
      new Promise((resolve) => {
        https.globalAgent.options.ca = previousCa;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
