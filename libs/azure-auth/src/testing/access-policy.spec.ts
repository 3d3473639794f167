import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { EntraEmulator, ENTRA_EMULATOR_DEFAULTS } from './index.js';

/** A SPA registration the emulator is told about; the default emulator does not know it. */
const SPA_CLIENT_ID = '5d1e3f7a-9b2c-4d8e-a6f0-1c3b5d7e9f21';
const UNKNOWN_CLIENT_ID = '0f0e0d0c-0b0a-4908-8706-050403020100';
const EVIL_ORIGIN = 'https://evil.example';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over loopback with the headers given as they are: fetch would not send a `Host` of
 * our choosing, and a page's `Host` after DNS rebinding is exactly what these tests need to send.
 */
function send(entra: EntraEmulator, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const { hostname, port } = new URL(entra.authorityHost);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ hostname, port, path, method: init.method ?? 'GET', headers: init.headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.once('error', reject);
    outgoing.end(init.body);
  });
}

function authorizePath(entra: EntraEmulator, overrides: Record<string, string> = {}): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const query = new URLSearchParams({
    client_id: entra.clientAppId,
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:9/docs/oauth2-redirect.html',
    scope: `api://${entra.clientId}/Todolist.Read`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-1',
    ...overrides,
  });
  return `/${entra.tenantId}/oauth2/v2.0/authorize?${query}`;
}

function clientCredentials(entra: EntraEmulator, clientId: string = entra.clientAppId): { method: string; headers: Record<string, string>; body: string } {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'any', scope: `api://${entra.clientId}/.default` }).toString(),
  };
}

const tokenPath = (entra: EntraEmulator): string => `/${entra.tenantId}/oauth2/v2.0/token`;
const metadataPath = (entra: EntraEmulator): string => `/${entra.tenantId}/v2.0/.well-known/openid-configuration`;

describe('EntraEmulator answers this machine only', () => {
  let entra: EntraEmulator;
  let port: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    port = new URL(entra.authorityHost).port;
  });
  afterAll(() => entra.stop());
  beforeEach(() => entra.resetRequests());

  describe('Host header (DNS rebinding)', () => {
    it('refuses every endpoint with 421 for a host that is not loopback, and logs the requests', async () => {
      const requests: Array<[string, string, { method?: string; body?: string; headers?: Record<string, string> }]> = [
        ['metadata', metadataPath(entra), {}],
        ['keys', `/${entra.tenantId}/discovery/v2.0/keys`, {}],
        ['signin', authorizePath(entra), {}],
        ['signin', tokenPath(entra), clientCredentials(entra)],
        ['other', '/nowhere', {}],
      ];
      for (const [, path, init] of requests) {
        for (const host of ['evil.example', `evil.example:${port}`]) {
          const answer = await send(entra, path, { ...init, headers: { ...init.headers, host } });
          expect(answer.status).toBe(421);
          expect(answer.headers.location).toBeUndefined();
          expect(answer.headers['access-control-allow-origin']).toBeUndefined();
          expect(answer.body).not.toContain('access_token');
          expect(JSON.parse(answer.body)).toMatchObject({ error: 'misdirected_request', error_description: expect.stringMatching(/allowedHosts/) });
        }
      }
      expect(entra.requests.map(({ kind }) => kind)).toEqual(requests.flatMap(([kind]) => [kind, kind]));
    });

    it('refuses hosts that only look like loopback', async () => {
      for (const host of ['localhost.evil.example', '127.0.0.1.nip.io', 'evil.example@127.0.0.1', '127.0.0.1/evil', `127.0.0.1:${port}@evil.example`]) {
        expect((await send(entra, metadataPath(entra), { headers: { host } })).status).toBe(421);
      }
    });

    it('serves loopback host names with any port', async () => {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', '127.0.0.2:1', `[::1]:${port}`]) {
        expect((await send(entra, metadataPath(entra), { headers: { host } })).status).toBe(200);
      }
    });

    it('serves the configured allowedHosts too', async () => {
      const named = await EntraEmulator.start({ allowedHosts: ['Emulator.Test'] });
      try {
        expect((await send(named, metadataPath(named), { headers: { host: 'emulator.test:8080' } })).status).toBe(200);
        expect((await send(named, metadataPath(named), { headers: { host: 'evil.example' } })).status).toBe(421);
      } finally {
        await named.stop();
      }
    });
  });

  describe('CORS', () => {
    it('never answers with Access-Control-Allow-Origin: *, and reflects a loopback origin', async () => {
      for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'https://[::1]']) {
        const metadata = await send(entra, metadataPath(entra), { headers: { origin } });
        expect(metadata.status).toBe(200);
        expect(metadata.headers['access-control-allow-origin']).toBe(origin);
        expect(metadata.headers.vary).toMatch(/\bOrigin\b/);
      }
      const withoutOrigin = await send(entra, metadataPath(entra));
      expect(withoutOrigin.headers['access-control-allow-origin']).toBeUndefined();
      expect(withoutOrigin.headers.vary).toMatch(/\bOrigin\b/);
    });

    it('lets no page of another origin read metadata or keys', async () => {
      for (const origin of [EVIL_ORIGIN, 'http://localhost.evil.example', 'null']) {
        const metadata = await send(entra, metadataPath(entra), { headers: { origin } });
        expect(metadata.status).toBe(200);
        expect(metadata.headers['access-control-allow-origin']).toBeUndefined();
        expect(metadata.headers.vary).toMatch(/\bOrigin\b/);
      }
    });

    it('refuses a preflight and a token request from another origin, and mints nothing for it', async () => {
      const preflight = await send(entra, tokenPath(entra), {
        method: 'OPTIONS',
        headers: { origin: EVIL_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-requested-with' },
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();

      const daemon = clientCredentials(entra);
      const token = await send(entra, tokenPath(entra), { ...daemon, headers: { ...daemon.headers, origin: EVIL_ORIGIN } });
      expect(token.status).toBe(403);
      expect(token.headers['access-control-allow-origin']).toBeUndefined();
      expect(token.body).not.toContain('access_token');
      expect(JSON.parse(token.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/allowedOrigins/) });
    });

    it('answers a preflight and a token request from a loopback origin, reflecting it', async () => {
      const origin = 'http://localhost:3000';
      const preflight = await send(entra, tokenPath(entra), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(origin);
      expect(preflight.headers.vary).toMatch(/\bOrigin\b/);
      const daemon = clientCredentials(entra);
      const token = await send(entra, tokenPath(entra), { ...daemon, headers: { ...daemon.headers, origin } });
      expect(token.status).toBe(200);
      expect(token.headers['access-control-allow-origin']).toBe(origin);
      expect(JSON.parse(token.body)).toHaveProperty('access_token');
    });

    it('reflects the configured allowedOrigins too', async () => {
      const docs = 'https://docs.contoso.example';
      const widened = await EntraEmulator.start({ allowedOrigins: [`${docs}/`] });
      try {
        const preflight = await send(widened, tokenPath(widened), { method: 'OPTIONS', headers: { origin: docs, 'access-control-request-method': 'POST' } });
        expect(preflight.status).toBe(204);
        expect(preflight.headers['access-control-allow-origin']).toBe(docs);
        const other = await send(widened, tokenPath(widened), { method: 'OPTIONS', headers: { origin: 'https://docs.contoso.example:8443' } });
        expect(other.status).toBe(403);
      } finally {
        await widened.stop();
      }
    });
  });

  describe('authorize: redirect URIs and clients', () => {
    it('refuses a redirect_uri off this machine with a 400 of its own, never a redirect', async () => {
      for (const redirectUri of ['https://evil.example/cb', 'http://localhost.evil.example/cb', 'http://127.0.0.1.nip.io/cb', 'https://evil.example/http://localhost/']) {
        const answer = await send(entra, authorizePath(entra, { redirect_uri: redirectUri }));
        expect(answer.status).toBe(400);
        expect(answer.headers.location).toBeUndefined();
        expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/AADSTS50011.*redirectUris/) });
      }
    });

    it('redirects to loopback redirect URIs, any port', async () => {
      for (const redirectUri of ['http://localhost:8080/cb', 'https://127.0.0.1/cb', 'http://[::1]:3000/docs/oauth2-redirect.html', 'http://127.0.0.5:1/x']) {
        const answer = await send(entra, authorizePath(entra, { redirect_uri: redirectUri }));
        expect(answer.status).toBe(302);
        expect(answer.headers.location?.startsWith(redirectUri)).toBe(true);
        expect(new URL(answer.headers.location!).searchParams.get('code')).toMatch(/^[\w-]{43}$/);
      }
    });

    it('redirects to the configured redirectUris, compared exactly', async () => {
      const redirectUri = 'https://docs.contoso.example/docs/oauth2-redirect.html';
      const widened = await EntraEmulator.start({ redirectUris: [redirectUri] });
      try {
        const answer = await send(widened, authorizePath(widened, { redirect_uri: redirectUri }));
        expect(answer.status).toBe(302);
        expect(new URL(answer.headers.location!).searchParams.get('code')).not.toBeNull();
        const elsewhere = await send(widened, authorizePath(widened, { redirect_uri: 'https://docs.contoso.example/elsewhere' }));
        expect(elsewhere.status).toBe(400);
        expect(elsewhere.headers.location).toBeUndefined();
      } finally {
        await widened.stop();
      }
    });

    it('refuses a client it does not know with a 400, never a redirect, at both endpoints', async () => {
      const authorize = await send(entra, authorizePath(entra, { client_id: UNKNOWN_CLIENT_ID }));
      expect(authorize.status).toBe(400);
      expect(authorize.headers.location).toBeUndefined();
      expect(JSON.parse(authorize.body)).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });

      const token = await send(entra, tokenPath(entra), clientCredentials(entra, UNKNOWN_CLIENT_ID));
      expect(token.status).toBe(400);
      expect(JSON.parse(token.body)).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    });

    it('serves its clientAppId, and the configured signInClientIds in any letter case', async () => {
      expect((await send(entra, authorizePath(entra))).status).toBe(302);
      expect(entra.clientAppId).toBe(ENTRA_EMULATOR_DEFAULTS.clientAppId);
      const widened = await EntraEmulator.start({ signInClientIds: [SPA_CLIENT_ID.toUpperCase()] });
      try {
        expect((await send(widened, authorizePath(widened, { client_id: SPA_CLIENT_ID }))).status).toBe(302);
        expect((await send(widened, tokenPath(widened), clientCredentials(widened, SPA_CLIENT_ID))).status).toBe(200);
        expect((await send(widened, authorizePath(widened, { client_id: UNKNOWN_CLIENT_ID }))).status).toBe(400);
      } finally {
        await widened.stop();
      }
    });
  });

  it('refuses malformed access options at start, naming the option', async () => {
    await expect(EntraEmulator.start({ signInClientIds: ['swagger-ui'] })).rejects.toThrow(/signInClientIds/);
    await expect(EntraEmulator.start({ redirectUris: ['/docs/oauth2-redirect.html'] })).rejects.toThrow(/redirectUris/);
    await expect(EntraEmulator.start({ redirectUris: ['https://docs.contoso.example/cb#x'] })).rejects.toThrow(/redirectUris/);
    await expect(EntraEmulator.start({ allowedOrigins: ['https://docs.contoso.example/docs'] })).rejects.toThrow(/allowedOrigins/);
    await expect(EntraEmulator.start({ allowedHosts: ['emulator.test:8080'] })).rejects.toThrow(/allowedHosts/);
    await expect(EntraEmulator.start({ allowedHosts: 'emulator.test' as never })).rejects.toThrow(/allowedHosts/);
  });
});
