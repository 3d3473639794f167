import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, emulatorOptions, probeApp } from './support/test-app.js';
import { b64url, hs256WithPublicKey, parts, withPayload } from './support/jwt-craft.js';

const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('authentication over %s', (adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await probeApp(adapter, emulatorOptions(entra)));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  const me = (token?: string, headers?: Record<string, string>) => call(`${url}/api/me`, { token, headers });

  function expectInvalidToken(answer: Awaited<ReturnType<typeof me>>, reason: string) {
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason });
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api:\/\/[0-9a-f-]+", error="invalid_token", error_description="[^"]+"$/);
  }

  it('accepts a valid v2 token and hands the typed principal to the handler', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'], roles: ['TaskAdmin'] });
    const answer = await me(token);
    expect(answer.status).toBe(200);
    const claims = parts(token).payload;
    expect(answer.body).toMatchObject({
      oid: claims.oid,
      oidField: claims.oid,
      tid: entra.tenantId,
      sub: claims.sub,
      scopes: ['Todolist.Read'],
      roles: ['TaskAdmin'],
      appOnly: false,
      tokenVersion: '2.0',
      clientId: entra.clientAppId,
    });
  });

  it('accepts a valid v1 token whose audience is api://{clientId}', async () => {
    const token = entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'] });
    expect(parts(token).payload.aud).toBe(`api://${entra.clientId}`);
    const answer = await me(token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ tokenVersion: '1.0', clientId: entra.clientAppId });
  });

  it('accepts the scheme in any case ("bearer")', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await me(undefined, { authorization: `bearer ${token}` })).status).toBe(200);
    expect((await me(undefined, { authorization: `BEARER ${token}` })).status).toBe(200);
  });

  it('refuses another audience', async () => {
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['x'], audience: 'api://some-other-api' })), 'invalid_audience');
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['x'], audience: entra.clientId.toUpperCase() })), 'invalid_audience');
  });

  it('refuses another issuer', async () => {
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['x'], issuer: 'https://evil.example.com/v2.0' })), 'invalid_issuer');
    // the v2 issuer with a trailing slash is not the v2 issuer
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['x'], issuer: `${entra.v2Issuer()}/` })), 'invalid_issuer');
  });

  it("refuses another tenant's token", async () => {
    const answer = await me(entra.mintAccessToken({ scopes: ['x'], tenantId: OTHER_TENANT }));
    expectInvalidToken(answer, 'invalid_issuer');
    expect(answer.body.hint).toMatch(/another tenant/);
  });

  it('refuses an issuer of our tenant with the tid of another', async () => {
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['x'], claims: { tid: OTHER_TENANT } })), 'invalid_issuer');
  });

  it('refuses an expired token, and accepts one expired within the clock skew', async () => {
    const expired = await me(entra.mintAccessToken({ scopes: ['x'], issuedAt: now() - 4000, expiresInSeconds: 3600 }));
    expectInvalidToken(expired, 'token_expired');
    expect(expired.body.message).toMatch(/expired (39\d|40\d) seconds ago/);
    expect((await me(entra.mintAccessToken({ scopes: ['x'], issuedAt: now() - 3660, expiresInSeconds: 3600 }))).status).toBe(200);
  });

  it('refuses a token that is not yet valid', async () => {
    const answer = await me(entra.mintAccessToken({ scopes: ['x'], notBefore: now() + 900 }));
    expectInvalidToken(answer, 'token_not_yet_valid');
  });

  it('refuses alg none', async () => {
    const { header, payload } = parts(entra.mintAccessToken({ scopes: ['x'] }));
    expectInvalidToken(await me(`${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.`), 'malformed_token');
    expectInvalidToken(await me(`${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.c2ln`), 'unsupported_algorithm');
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const { header, payload } = parts(entra.mintAccessToken({ scopes: ['x'] }));
    const { publicKey } = entra.createUnpublishedKey();
    expectInvalidToken(await me(hs256WithPublicKey(header, payload, publicKey)), 'unsupported_algorithm');
  });

  it('refuses a token signed by a key the authority does not publish', async () => {
    const key = entra.createUnpublishedKey();
    const answer = await me(entra.mintAccessToken({ scopes: ['x'], privateKey: key.privateKey, kid: key.kid }));
    expectInvalidToken(answer, 'signing_key_not_found');
    expect(answer.body.hint).toMatch(/appSpecificSigningKeys/);
  });

  it('refuses a tampered payload', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expectInvalidToken(await me(withPayload(token, (p) => ({ ...p, scp: 'Todolist.ReadWrite' }))), 'invalid_signature');
  });

  it('refuses a token for Microsoft Graph with a hint about the scope to request', async () => {
    const graph = entra.mintAccessToken({ scopes: ['User.Read'], audience: '00000003-0000-0000-c000-000000000000', header: { nonce: 'abc' } });
    const answer = await me(graph);
    expectInvalidToken(answer, 'graph_token');
    expect(answer.body.hint).toMatch(/User\.Read/);
    expect(answer.body.hint).toContain(`api://${entra.clientId}/`);
    expectInvalidToken(await me(entra.mintAccessToken({ scopes: ['User.Read'], audience: 'https://graph.microsoft.com' })), 'graph_token');
  });

  it.each([
    ['two segments', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0'],
    ['bad base64', 'eyJhbGc*OiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['non-JSON header', `${b64url('not json')}.${b64url({ sub: 'x' })}.c2ln`],
    ['non-JSON payload', `${b64url({ alg: 'RS256' })}.${b64url('[1,2')}.c2ln`],
    ['a JWE (five segments)', 'a.b.c.d.e'],
  ])('refuses a malformed token: %s', async (_name, token) => {
    expectInvalidToken(await me(token), 'malformed_token');
  });

  it('answers a request without a token with a challenge that has no error attribute', async () => {
    const answer = await me();
    expect(answer.status).toBe(401);
    expect(answer.body.reason).toBe('token_missing');
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="api://${entra.clientId}"`);
  });

  it('ignores ?access_token= in the query string', async () => {
    const token = entra.mintAccessToken({ scopes: ['x'] });
    const answer = await call(`${url}/api/me?access_token=${token}`);
    expect(answer.status).toBe(401);
    expect(answer.body.reason).toBe('token_missing');
  });

  it('never answers 500 to junk in the Authorization header', async () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b c', 'Bearer ...', 'Basic dXNlcjpwYXNz', 'Bearer \u00e9t\u00e9.x.y', `Bearer ${'a'.repeat(12000)}`]) {
      const answer = await me(undefined, { authorization: value });
      expect(answer.status).toBe(401);
    }
    // Beyond Node's own header limit the server refuses before any of our code runs.
    expect((await me(undefined, { authorization: `Bearer ${'a'.repeat(20000)}` })).status).toBe(431);
  });

  it('lets public routes through without a token', async () => {
    expect((await call(`${url}/api/open`)).status).toBe(200);
  });
});

describe('key location is never taken from the token', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let attacker: Server;
  let attackerHits = 0;
  let attackerUrl: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
    ({ app, url } = await probeApp('express', emulatorOptions(entra)));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
    attacker.closeAllConnections();
    await new Promise((resolve) => attacker.close(resolve));
  });

  it('ignores jku, x5u, jwk and x5c: an attacker key embedded or linked is not used', async () => {
    const forged = entra.createUnpublishedKey();
    const jwk = { ...forged.publicKey.export({ format: 'jwk' }), kid: forged.kid };
    const header = { jku: `${attackerUrl}/keys`, x5u: `${attackerUrl}/cert`, jwk, x5c: ['MIIB'] };
    // The attacker's own kid: not among the authority's keys.
    const own = await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['x'], privateKey: forged.privateKey, kid: forged.kid, header }) });
    expect({ status: own.status, reason: own.body.reason }).toEqual({ status: 401, reason: 'signing_key_not_found' });
    // The authority's kid, signed by the attacker: the authority's key decides, and it says no.
    const borrowed = await call(`${url}/api/me`, {
      token: entra.mintAccessToken({ scopes: ['x'], privateKey: forged.privateKey, kid: entra.signingKid, header }),
    });
    expect({ status: borrowed.status, reason: borrowed.body.reason }).toEqual({ status: 401, reason: 'invalid_signature' });
    expect(attackerHits).toBe(0);
  });
});

describe('discovery', () => {
  it('starts while the authority is unreachable, answers 503 until it is back, and discovers once', async () => {
    const entra = await EntraEmulator.start();
    entra.setFault('all', { status: 503 });
    const { app, url } = await probeApp('express', emulatorOptions(entra, { warmUp: true }));
    try {
      const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
      const down = await call(`${url}/api/me`, { token });
      expect(down.status).toBe(503);
      expect(down.body.reason).toBe('keys_unavailable');
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);

      entra.setFault('all', null);
      // after a failed fetch the module waits a moment before fetching again
      await new Promise((resolve) => setTimeout(resolve, 1100));
      entra.resetRequests();
      for (let i = 0; i < 5; i++) {
        expect((await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
      }
      // one v2 and one v1 metadata document, one key set per distinct jwks_uri
      expect(entra.requestCount('metadata')).toBe(2);
      expect(entra.requestCount('keys')).toBeLessThanOrEqual(2);
    } finally {
      await app.close();
      await entra.stop();
    }
  });

  it('fetches nothing until the first token arrives when warm-up is off', async () => {
    const entra = await EntraEmulator.start();
    const { app, url } = await probeApp('express', emulatorOptions(entra));
    try {
      expect(entra.requestCount()).toBe(0);
      expect((await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['x'] }) })).status).toBe(200);
      expect(entra.requestCount('metadata')).toBe(2);
    } finally {
      await app.close();
      await entra.stop();
    }
  });
});
