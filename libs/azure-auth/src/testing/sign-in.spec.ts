import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { AUTHORIZATION_CODE_LIFETIME_MS } from './sign-in.js';
import { EntraEmulator, ENTRA_EMULATOR_DEFAULTS, decodeJwtUnverified } from './index.js';

type Jwk = JsonWebKey & { kid: string };
type Form = Record<string, string | undefined>;

/** Swagger UI's own app registration in these tests: a SPA, not the emulator's default client. */
const SPA_CLIENT_ID = '5d1e3f7a-9b2c-4d8e-a6f0-1c3b5d7e9f21';
/** Never contacted: every authorize request is sent with `redirect: 'manual'`. */
const REDIRECT_URI = 'http://127.0.0.1:9/docs/oauth2-redirect.html';
const OTHER_TENANT = '11111111-2222-4333-8444-555555555555';
const TASK_ADMIN_OID = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A form or query without the entries set to `undefined`, so that a test can drop a parameter. */
function params(values: Form): URLSearchParams {
  return new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function verifiesWithV2Keys(entra: EntraEmulator, token: string): Promise<boolean> {
  const { keys } = (await (await fetch(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`)).json()) as { keys: Jwk[] };
  const [header = '', payload = '', signature = ''] = token.split('.');
  const jwk = keys.find((key) => key.kid === decodeJwtUnverified(token).header.kid);
  return jwk !== undefined && verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
}

/** The parameters of a redirect's query, or of its fragment in fragment mode. */
function redirectParams(location: string | null): URLSearchParams {
  if (location === null) throw new Error('expected a redirect');
  const url = new URL(location);
  return url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
}

/** Drives the emulator's sign-in endpoints over loopback HTTP, as a browser and a SPA would. */
function signInClient(entra: EntraEmulator) {
  const scope = (name: string) => `api://${entra.clientId}/${name}`;
  const authorizeQuery = (overrides: Form, challenge: string): Form => ({
    client_id: SPA_CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: `${scope('Todolist.Read')} ${scope('Todolist.ReadWrite')}`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-123',
    ...overrides,
  });
  const authorize = (overrides: Form = {}, tenant?: string, challenge = pkcePair().challenge) =>
    fetch(`${entra.authorizationEndpoint(tenant)}?${params(authorizeQuery(overrides, challenge))}`, { redirect: 'manual' });
  const token = (form: Form, tenant?: string, init: RequestInit = {}) =>
    fetch(entra.tokenEndpoint(tenant), { method: 'POST', body: params(form), ...init });

  /** Signs in and returns what the token request needs. */
  async function code(overrides: Form = {}, tenant?: string) {
    const { verifier, challenge } = pkcePair();
    const answer = await authorize(overrides, tenant, challenge);
    expect(answer.status).toBe(302);
    const back = redirectParams(answer.headers.get('location'));
    const issued = back.get('code');
    if (issued === null) throw new Error(`no code in the redirect: ${answer.headers.get('location')}`);
    return {
      code: issued,
      verifier,
      redeem: (form: Form = {}, redeemTenant = tenant) =>
        token({ grant_type: 'authorization_code', client_id: SPA_CLIENT_ID, code: issued, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...form }, redeemTenant),
    };
  }
  return { scope, authorize, token, code };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('EntraEmulator sign-in endpoints', () => {
  let entra: EntraEmulator;
  let client: ReturnType<typeof signInClient>;

  beforeAll(async () => {
    entra = await EntraEmulator.start({ signInClientIds: [SPA_CLIENT_ID] });
    client = signInClient(entra);
  });
  afterAll(() => entra.stop());

  it('are where the v2 metadata says, for the tenant asked', async () => {
    expect(entra.authorizationEndpoint()).toBe(`${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/authorize`);
    expect(entra.tokenEndpoint('common')).toBe(`${entra.authorityHost}/common/oauth2/v2.0/token`);
    for (const tenant of [entra.tenantId, 'common']) {
      const metadata = await json(await fetch(entra.v2MetadataUrl(tenant)));
      expect(metadata).toMatchObject({ authorization_endpoint: entra.authorizationEndpoint(tenant), token_endpoint: entra.tokenEndpoint(tenant) });
    }
  });

  describe('authorization code flow with PKCE', () => {
    it('signs the user in at once and redirects back with a code and the state', async () => {
      const answer = await client.authorize();
      expect(answer.status).toBe(302);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const location = new URL(answer.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
      expect(location.searchParams.get('state')).toBe('state-123');
      expect(location.searchParams.has('error')).toBe(false);
    });

    it("keeps the redirect URI's own query, and answers in the fragment when asked", async () => {
      const withQuery = await client.authorize({ redirect_uri: `${REDIRECT_URI}?from=docs` });
      const kept = new URL(withQuery.headers.get('location')!);
      expect(kept.searchParams.get('from')).toBe('docs');
      expect(kept.searchParams.get('code')).not.toBeNull();

      const fragment = new URL((await client.authorize({ response_mode: 'fragment' })).headers.get('location')!);
      expect(fragment.search).toBe('');
      expect(new URLSearchParams(fragment.hash.slice(1)).get('code')).not.toBeNull();
      expect(new URLSearchParams(fragment.hash.slice(1)).get('state')).toBe('state-123');
    });

    it("redeems the code for a v2 token of the API, with the requested scopes as scp and the client as azp", async () => {
      const signIn = await client.code({ scope: `openid offline_access ${client.scope('Todolist.Read')} ${client.scope('Todolist.ReadWrite')}` });
      const answer = await signIn.redeem();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const body = await json(answer);
      expect(body).toEqual({
        token_type: 'Bearer',
        scope: `${client.scope('Todolist.Read')} ${client.scope('Todolist.ReadWrite')}`,
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      });
      const token = body.access_token as string;
      await expect(verifiesWithV2Keys(entra, token)).resolves.toBe(true);
      const { payload } = decodeJwtUnverified(token);
      expect(payload).toMatchObject({
        aud: entra.clientId,
        iss: entra.v2Issuer(),
        ver: '2.0',
        tid: entra.tenantId,
        azp: SPA_CLIENT_ID,
        azpacr: '0',
        scp: 'Todolist.Read Todolist.ReadWrite',
        oid: ENTRA_EMULATOR_DEFAULTS.userObjectId,
      });
      expect(payload.sub).not.toBe(payload.oid);
      expect(payload).not.toHaveProperty('roles');
      expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    });

    it('takes scopes named by the bare application id too', async () => {
      const signIn = await client.code({ scope: `${entra.clientId}/Todolist.Read` });
      const body = await json(await signIn.redeem());
      expect(decodeJwtUnverified(body.access_token as string).payload.scp).toBe('Todolist.Read');
    });

    it('signs users in to the tenant of the path: a GUID as such, a domain or common as its own tenant', async () => {
      const tid = async (tenant: string) =>
        decodeJwtUnverified((await json(await (await client.code({}, tenant)).redeem())).access_token as string).payload;
      await expect(tid(OTHER_TENANT)).resolves.toMatchObject({ tid: OTHER_TENANT, iss: entra.v2Issuer(OTHER_TENANT) });
      await expect(tid('contoso.onmicrosoft.com')).resolves.toMatchObject({ tid: entra.tenantId });
      await expect(tid('common')).resolves.toMatchObject({ tid: entra.tenantId, iss: entra.v2Issuer() });
    });

    it('gives the configured signInUser its roles and oid', async () => {
      const admin = await EntraEmulator.start({ signInUser: { roles: ['TaskAdmin'], oid: TASK_ADMIN_OID }, signInClientIds: [SPA_CLIENT_ID] });
      try {
        const body = await json(await (await signInClient(admin).code()).redeem());
        expect(decodeJwtUnverified(body.access_token as string).payload).toMatchObject({ roles: ['TaskAdmin'], oid: TASK_ADMIN_OID, scp: 'Todolist.Read Todolist.ReadWrite' });
      } finally {
        await admin.stop();
      }
    });
  });

  describe('step-up: the claims parameter of a claims challenge', () => {
    const payloadOf = async (claims: string) => decodeJwtUnverified((await json(await (await client.code({ claims })).redeem())).access_token as string).payload;

    it('steps the user up to the authentication context asked for, and keeps the client capabilities MSAL adds', async () => {
      const payload = await payloadOf('{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}');
      expect([payload.acrs, payload.xms_cc]).toEqual([['c1'], ['cp1']]);
    });

    it('grants several contexts named as values, and none without a claims parameter', async () => {
      expect((await payloadOf('{"access_token":{"acrs":{"essential":true,"values":["c1","c2"]}}}')).acrs).toEqual(['c1', 'c2']);
      const plain = decodeJwtUnverified((await json(await (await client.code()).redeem())).access_token as string).payload;
      expect(plain).not.toHaveProperty('acrs');
      expect(plain).not.toHaveProperty('xms_cc');
    });

    it.each([
      ['not JSON', '{"access_token":'],
      ['a context that is not c1 to c99', '{"access_token":{"acrs":{"essential":true,"value":"c100"}}}'],
      ['acrs without a value', '{"access_token":{"acrs":{"essential":true}}}'],
      ['xms_cc that is not a list of strings', '{"access_token":{"xms_cc":{"values":[1]}}}'],
    ])('refuses claims that are %s, by an error redirect', async (_name, claims) => {
      const back = redirectParams((await client.authorize({ claims })).headers.get('location'));
      expect([back.get('error'), back.get('code')]).toEqual(['invalid_request', null]);
      expect(back.get('error_description')).toMatch(/^AADSTS90014: .*claims/);
    });
  });

  describe('authorize refuses what Entra refuses', () => {
    it.each<[string, Form, string]>([
      ['without client_id', { client_id: undefined }, 'invalid_request'],
      ['with a client_id that is not a GUID', { client_id: 'swagger-ui' }, 'unauthorized_client'],
      ['without redirect_uri', { redirect_uri: undefined }, 'invalid_request'],
      ['with a redirect_uri that is not http(s)', { redirect_uri: 'javascript:alert(1)' }, 'invalid_request'],
      ['with a relative redirect_uri', { redirect_uri: '/docs/oauth2-redirect.html' }, 'invalid_request'],
      ['with a redirect_uri carrying a fragment', { redirect_uri: `${REDIRECT_URI}#x` }, 'invalid_request'],
    ])('%s, on its own page (400) since it cannot trust the way back', async (_, overrides, error) => {
      const answer = await client.authorize(overrides);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      await expect(json(answer)).resolves.toMatchObject({ error, error_description: expect.any(String), trace_id: expect.any(String) });
    });

    it.each<[string, Form, string, RegExp]>([
      ['without response_type', { response_type: undefined }, 'invalid_request', /AADSTS900144/],
      ['for another response type', { response_type: 'token' }, 'unsupported_response_type', /response_type=code/],
      ['without scope', { scope: undefined }, 'invalid_request', /scope/],
      ["for another resource's scope (Microsoft Graph)", { scope: 'User.Read' }, 'invalid_scope', /User\.Read/],
      ['for OpenID scopes only', { scope: 'openid profile' }, 'invalid_scope', /No scope of the emulator's API/],
      ['for .default', { scope: `api://${ENTRA_EMULATOR_DEFAULTS.clientId}/.default` }, 'invalid_scope', /by name/],
      ['without PKCE', { code_challenge: undefined }, 'invalid_request', /Proof Key for Code Exchange/],
      ['with plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request', /S256/],
      ['with no PKCE method (plain by default)', { code_challenge_method: undefined }, 'invalid_request', /S256/],
      ['with a code_challenge that is no S256 digest', { code_challenge: 'short' }, 'invalid_request', /43-character/],
      ['with response_mode form_post', { response_mode: 'form_post' }, 'invalid_request', /form_post/],
    ])('%s, by an error redirect that keeps the state', async (_, overrides, error, description) => {
      const answer = await client.authorize(overrides);
      expect(answer.status).toBe(302);
      const back = redirectParams(answer.headers.get('location'));
      expect(Object.fromEntries(back)).toEqual({ error, error_description: expect.stringMatching(description), state: 'state-123' });
    });

    it('without state, by an error redirect', async () => {
      const answer = await client.authorize({ state: undefined });
      expect(Object.fromEntries(redirectParams(answer.headers.get('location')))).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/state/) });
    });

    it('a POST', async () => {
      expect((await fetch(entra.authorizationEndpoint(), { method: 'POST' })).status).toBe(405);
    });
  });

  describe('the token endpoint refuses', () => {
    it('a second redemption of a code', async () => {
      const signIn = await client.code();
      expect((await signIn.redeem()).status).toBe(200);
      const replay = await signIn.redeem();
      expect(replay.status).toBe(400);
      await expect(json(replay)).resolves.toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
    });

    it('a code_verifier that does not match the challenge, and spends the code on it', async () => {
      const signIn = await client.code();
      const wrong = await signIn.redeem({ code_verifier: pkcePair().verifier });
      expect(wrong.status).toBe(400);
      await expect(json(wrong)).resolves.toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier/) });
      await expect(json(await signIn.redeem())).resolves.toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
    });

    it.each<[string, Form, string | undefined, string, RegExp]>([
      ['another redirect_uri', { redirect_uri: 'http://127.0.0.1:9/elsewhere' }, undefined, 'invalid_grant', /redirect_uri/],
      ['another client_id', { client_id: ENTRA_EMULATOR_DEFAULTS.clientAppId }, undefined, 'invalid_grant', /client_id/],
      ['another tenant', {}, OTHER_TENANT, 'invalid_grant', /tenant/],
      ['no code_verifier', { code_verifier: undefined }, undefined, 'invalid_request', /'code_verifier'/],
      ['no redirect_uri', { redirect_uri: undefined }, undefined, 'invalid_request', /'redirect_uri'/],
      ['an unknown code', { code: 'not-a-code' }, undefined, 'invalid_grant', /not one this emulator issued/],
    ])('%s', async (_, form, tenant, error, description) => {
      const answer = await (await client.code()).redeem(form, tenant);
      expect(answer.status).toBe(400);
      await expect(json(answer)).resolves.toMatchObject({ error, error_description: expect.stringMatching(description) });
    });

    it('the challenge sent back as verifier, which only plain PKCE would accept', async () => {
      const { challenge } = pkcePair();
      const location = (await client.authorize({}, undefined, challenge)).headers.get('location');
      const code = redirectParams(location).get('code') ?? '';
      const answer = await client.token({ grant_type: 'authorization_code', client_id: SPA_CLIENT_ID, code, redirect_uri: REDIRECT_URI, code_verifier: challenge });
      await expect(json(answer)).resolves.toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier/) });
    });

    it('a code redeemed after its ten minutes', async () => {
      const signIn = await client.code();
      const realNow = Date.now;
      Date.now = () => realNow() + AUTHORIZATION_CODE_LIFETIME_MS + 1000;
      try {
        const late = await signIn.redeem();
        expect(late.status).toBe(400);
        await expect(json(late)).resolves.toMatchObject({ error: 'invalid_grant', error_codes: [70008] });
      } finally {
        Date.now = realNow;
      }
    });

    it('a body that is not a form, and a grant it does not know', async () => {
      const asJson = await client.token({}, undefined, {
        body: JSON.stringify({ grant_type: 'client_credentials' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(asJson.status).toBe(400);
      await expect(json(asJson)).resolves.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/'grant_type'/) });
      const password = await client.token({ grant_type: 'password', username: 'u', password: 'p' });
      await expect(json(password)).resolves.toMatchObject({ error: 'unsupported_grant_type' });
    });

    it('a GET, as Entra does', async () => {
      const answer = await fetch(entra.tokenEndpoint());
      expect(answer.status).toBe(400);
      await expect(json(answer)).resolves.toMatchObject({ error: 'invalid_request', error_codes: [900561] });
    });
  });

  describe('client credentials', () => {
    const daemonForm = (entra: EntraEmulator, form: Form = {}): Form => ({
      grant_type: 'client_credentials',
      client_id: ENTRA_EMULATOR_DEFAULTS.clientAppId,
      client_secret: 'any secret will do',
      scope: `api://${entra.clientId}/.default`,
      ...form,
    });

    it('answers an app-only token carrying the daemonRoles option', async () => {
      const daemonEntra = await EntraEmulator.start({ daemonRoles: ['Todolist.Read.All'] });
      try {
        const answer = await signInClient(daemonEntra).token(daemonForm(daemonEntra));
        expect(answer.status).toBe(200);
        const body = await json(answer);
        expect(body).toEqual({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: expect.any(String) });
        const token = body.access_token as string;
        await expect(verifiesWithV2Keys(daemonEntra, token)).resolves.toBe(true);
        const { payload } = decodeJwtUnverified(token);
        expect(payload).toMatchObject({ aud: daemonEntra.clientId, ver: '2.0', azp: ENTRA_EMULATOR_DEFAULTS.clientAppId, azpacr: '1', roles: ['Todolist.Read.All'] });
        expect(payload).not.toHaveProperty('scp');
        expect(payload.oid).toBe(payload.sub);
      } finally {
        await daemonEntra.stop();
      }
    });

    it('grants no roles by default, and takes client_secret_basic and the bare application id', async () => {
      const basic = Buffer.from(`${SPA_CLIENT_ID}:s3cret`).toString('base64');
      const answer = await client.token(daemonForm(entra, { client_id: undefined, client_secret: undefined, scope: `${entra.clientId}/.default` }), undefined, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(answer.status).toBe(200);
      const { payload } = decodeJwtUnverified((await json(answer)).access_token as string);
      expect(payload).toMatchObject({ azp: SPA_CLIENT_ID, tid: entra.tenantId });
      expect(payload).not.toHaveProperty('roles');
    });

    it.each<[string, Form, string | undefined, number, string, RegExp]>([
      ['no client secret', { client_secret: undefined }, undefined, 401, 'invalid_client', /AADSTS7000218/],
      ['a named scope', { scope: `api://${ENTRA_EMULATOR_DEFAULTS.clientId}/Todolist.Read` }, undefined, 400, 'invalid_scope', /AADSTS1002012/],
      ['another resource', { scope: 'https://graph.microsoft.com/.default' }, undefined, 400, 'invalid_resource', /graph\.microsoft\.com/],
      ['the common authority', {}, 'common', 400, 'invalid_request', /common/],
      ['no client_id', { client_id: undefined }, undefined, 400, 'invalid_request', /'client_id'/],
    ])('refuses %s', async (_, form, tenant, status, error, description) => {
      const answer = await client.token(daemonForm(entra, form), tenant);
      expect(answer.status).toBe(status);
      await expect(json(answer)).resolves.toMatchObject({ error, error_description: expect.stringMatching(description) });
    });
  });

  it('lets browsers call the token endpoint from another loopback origin', async () => {
    const origin = 'http://127.0.0.1:3000';
    const preflight = await fetch(entra.tokenEndpoint(), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-requested-with,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/\bPOST\b/);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('x-requested-with,content-type');
    const signIn = await client.code();
    const answer = await client.token(
      { grant_type: 'authorization_code', client_id: SPA_CLIENT_ID, code: signIn.code, redirect_uri: REDIRECT_URI, code_verifier: signIn.verifier },
      undefined,
      { headers: { origin } },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it("records sign-in requests as 'signin', apart from metadata and keys, and faults leave them alone", async () => {
    entra.resetRequests();
    entra.setFault('all', { status: 503 });
    try {
      const signIn = await client.code();
      await signIn.redeem();
      await fetch(entra.tokenEndpoint(), { method: 'OPTIONS' });
      expect((await fetch(entra.v2MetadataUrl())).status).toBe(503);
    } finally {
      entra.setFault('all', null);
    }
    expect(entra.requests.map(({ method, kind }) => `${method} ${kind}`)).toEqual(['GET signin', 'POST signin', 'OPTIONS signin', 'GET metadata']);
    expect(entra.requests[0]!.path).toMatch(new RegExp(`^/${entra.tenantId}/oauth2/v2\\.0/authorize\\?`));
    expect(entra.requestCount('signin')).toBe(3);
    expect(entra.requestCount('metadata')).toBe(1);
    expect(entra.requestCount('keys')).toBe(0);
  });

  it('refuses malformed sign-in options at start', async () => {
    await expect(EntraEmulator.start({ signInUser: 'admin' as never })).rejects.toThrow(/signInUser/);
    await expect(EntraEmulator.start({ signInUser: { roles: 'TaskAdmin' as never } })).rejects.toThrow(/signInUser\.roles/);
    await expect(EntraEmulator.start({ signInUser: { oid: '' } })).rejects.toThrow(/signInUser\.oid/);
    await expect(EntraEmulator.start({ daemonRoles: [''] })).rejects.toThrow(/daemonRoles/);
  });
});
