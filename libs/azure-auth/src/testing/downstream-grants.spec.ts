import { Agent, request } from 'node:https';
import { EntraEmulator } from './entra-emulator.js';
import { decodeJwtUnverified } from './jwt.js';
import { ENTRA_EMULATOR_DEFAULTS } from './emulator-defaults.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GRAPH = '00000003-0000-0000-c000-000000000000';
const OTHER_API = '7b4c2d1e-3f5a-4b6c-8d7e-9f0a1b2c3d4e';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

describe('EntraEmulator: the API’s own token requests and Microsoft Graph', () => {
  let entra: EntraEmulator;
  let agent: Agent;

  function send(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { method, agent, headers }, (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text ? JSON.parse(text) : undefined }));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  const token = (form: Record<string, string>) =>
    send('POST', entra.tokenEndpoint(), new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded' });

  const obo = (assertion: string, extra: Record<string, string> = {}) =>
    token({
      grant_type: JWT_BEARER,
      requested_token_use: 'on_behalf_of',
      client_id: entra.clientId,
      client_secret: entra.clientSecret,
      assertion,
      scope: 'User.Read openid profile offline_access',
      ...extra,
    });

  const graph = (method: string, path: string, accessToken: string, body?: unknown) =>
    send(method, `${entra.authorityHost}${path}`, body === undefined ? undefined : JSON.stringify(body), { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' });

  const userToken = () => entra.mintAccessToken({ scopes: ['Todolist.Read'] });

  beforeAll(async () => {
    entra = await EntraEmulator.start({ https: true, directoryUsers: [{ oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, groups: ['3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a'] }] });
    agent = new Agent({ ca: entra.certificateAuthority });
  });

  afterAll(async () => {
    await entra.stop();
    agent.destroy();
  });

  afterEach(() => {
    entra.setFault('token', null);
    entra.setFault('graph', null);
  });

  it('serves HTTPS, and its metadata names it as Microsoft Graph', async () => {
    expect(entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const metadata = await send('GET', entra.v2MetadataUrl());
    expect(metadata.body.msgraph_host).toBe(new URL(entra.authorityHost).host);
    expect(metadata.body.token_endpoint).toBe(entra.tokenEndpoint());
  });

  it('has a plain-HTTP door for browsers: the same emulator, whose tokens name the HTTPS authority', async () => {
    expect(entra.httpAuthorityHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(entra.httpAuthorityHost).not.toBe(entra.authorityHost.replace('https:', 'http:'));
    const answer = await fetch(`${entra.httpAuthorityHost}/${entra.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: entra.clientAppId, client_secret: 'any', scope: `api://${entra.clientId}/.default` }),
    });
    const { access_token: accessToken } = (await answer.json()) as { access_token: string };
    expect(decodeJwtUnverified(accessToken).payload.iss).toBe(entra.v2Issuer());
    expect(entra.v2Issuer()).toMatch(/^https:/);
  });

  it("exchanges a user's token for a Graph token of the same user (v1, Graph's audience, a nonce in the header), with client_info", async () => {
    const answer = await obo(userToken());
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'User.Read', expires_in: 3600 });
    const { header, payload } = decodeJwtUnverified(answer.body.access_token);
    expect(header.nonce).toEqual(expect.any(String));
    expect(payload).toMatchObject({ aud: GRAPH, ver: '1.0', scp: 'User.Read', oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, appid: entra.clientId, tid: entra.tenantId });
    expect(JSON.parse(Buffer.from(answer.body.client_info, 'base64url').toString())).toEqual({ uid: ENTRA_EMULATOR_DEFAULTS.userObjectId, utid: entra.tenantId });
    expect(entra.requests.at(-1)).toMatchObject({ kind: 'signin', grantType: JWT_BEARER });
  });

  it('issues tokens for another API by its App ID URI (v2, its client id as audience)', async () => {
    const answer = await obo(userToken(), { scope: `api://${OTHER_API}/Reports.Read` });
    expect(decodeJwtUnverified(answer.body.access_token).payload).toMatchObject({ aud: OTHER_API, ver: '2.0', scp: 'Reports.Read' });
  });

  it.each([
    ['an app-only token', () => entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }), {}, 400, 'invalid_grant', /app-only/],
    ['an expired token', () => entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -60 }), {}, 400, 'invalid_grant', /AADSTS500133/],
    ['a token for another API', () => entra.mintAccessToken({ scopes: ['Todolist.Read'], audience: OTHER_API }), {}, 400, 'invalid_grant', /audience/],
    ['a token signed by an unknown key', () => entra.mintAccessToken({ privateKey: entra.createUnpublishedKey().privateKey }), {}, 400, 'invalid_grant', /AADSTS50013/],
    ['a wrong secret', () => userToken(), { client_secret: 'wrong' }, 401, 'invalid_client', /AADSTS7000215/],
    ['no credential', () => userToken(), { client_secret: '' }, 401, 'invalid_client', /AADSTS7000218/],
    ['another client', () => userToken(), { client_id: ENTRA_EMULATOR_DEFAULTS.clientAppId }, 400, 'unauthorized_client', /own registration/],
    ['two resources at once', () => userToken(), { scope: `User.Read api://${OTHER_API}/Reports.Read` }, 400, 'invalid_scope', /AADSTS28000/],
    ['an unknown resource', () => userToken(), { scope: 'https://contoso.example/Read' }, 400, 'invalid_resource', /AADSTS500011/],
    ['requested_token_use missing', () => userToken(), { requested_token_use: '' }, 400, 'invalid_request', /on_behalf_of/],
  ])('refuses on-behalf-of with %s', async (_case, assertion, extra, status, error, description) => {
    const answer = await obo(assertion(), extra);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(answer.body.error_description).toMatch(description);
  });

  it('takes a client assertion signed by a registered certificate (PS256, x5t#S256), and refuses another audience', async () => {
    const { createSign, constants } = await import('node:crypto');
    const { privateKey, thumbprintSha256 } = await entra.createClientCertificate();
    const assertionFor = (audience: string) => {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'PS256', typ: 'JWT', 'x5t#S256': Buffer.from(thumbprintSha256, 'hex').toString('base64url') })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ aud: audience, iss: entra.clientId, sub: entra.clientId, exp: now + 600, nbf: now, jti: 'x' })).toString('base64url');
      const signature = createSign('sha256').update(`${header}.${payload}`).sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
      return `${header}.${payload}.${signature.toString('base64url')}`;
    };
    const withAssertion = (assertion: string) =>
      obo(userToken(), { client_secret: '', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect((await withAssertion(assertionFor(entra.tokenEndpoint()))).status).toBe(200);
    const elsewhere = await withAssertion(assertionFor('https://login.microsoftonline.com/common/oauth2/v2.0/token'));
    expect(elsewhere.body.error_description).toMatch(/AADSTS700016/);
  });

  it.each([
    ['its subject', { subject: 'system:serviceaccount:other:app' }, /AADSTS70021/],
    ['its audience', { audience: 'api://something-else' }, /AADSTS700212/],
    ['its lifetime', { expiresInSeconds: -10 }, /AADSTS700024/],
  ])('takes a federated token as the API’s assertion, and refuses one that differs in %s', async (_case, options, description) => {
    const assertionForm = (assertion: string) => ({ client_secret: '', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect((await obo(userToken(), assertionForm(entra.mintFederatedToken()))).status).toBe(200);
    const refused = await obo(userToken(), assertionForm(entra.mintFederatedToken(options)));
    expect(refused.status).toBe(401);
    expect(refused.body.error_description).toMatch(description);
  });

  it('answers consent required (AADSTS65001) and a Conditional Access claims challenge on fault', async () => {
    entra.setFault('token', { consentRequired: true });
    const consent = await obo(userToken());
    expect(consent.body).toMatchObject({ error: 'invalid_grant', suberror: 'consent_required', error_codes: [65001] });
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    entra.setFault('token', { claimsChallenge: claims });
    const challenge = await obo(userToken());
    expect(challenge.body).toMatchObject({ error: 'interaction_required', claims, error_codes: [50079] });
  });

  it('refuses faults on routes they do not apply to, and claims that are not JSON', () => {
    expect(() => entra.setFault('keys', { consentRequired: true })).toThrow(/applies to the token endpoint/);
    expect(() => entra.setFault('metadata', { claimsChallenge: '{}' })).toThrow(/applies to 'token' and 'graph'/);
    expect(() => entra.setFault('graph', { claimsChallenge: 'not json' })).toThrow(/must be the JSON of the claims/);
    expect(() => entra.setFault('nope' as never, null)).toThrow(/'metadata', 'keys', 'token', 'graph' or 'all'/);
  });

  it("gives the API app-only tokens of its own (client credentials) for {resource}/.default, and requires its credential", async () => {
    const answer = await token({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: entra.clientSecret, scope: 'https://graph.microsoft.com/.default' });
    expect(decodeJwtUnverified(answer.body.access_token).payload).toMatchObject({ aud: GRAPH, appid: entra.clientId, idp: expect.any(String) });
    const unnamed = await token({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: entra.clientSecret, scope: 'User.Read' });
    expect(unnamed.body.error_description).toMatch(/AADSTS1002012/);
    const wrong = await token({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: 'nope', scope: 'https://graph.microsoft.com/.default' });
    expect(wrong.status).toBe(401);
  });

  it.each([
    [{ tokenLifetimeSeconds: 0 }, /tokenLifetimeSeconds must be a positive integer/],
    [{ clientSecret: '' }, /clientSecret must be a non-empty string/],
    [{ directoryUsers: [{ oid: 'me' }] }, /directoryUsers\[0\].oid must be an object id GUID/],
    [{ directoryUsers: [{ oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, groups: ['admins'] }] }, /directoryUsers\[0\].groups must be an array of group object id GUIDs/],
    [{ apiAppPermissions: [''] }, /apiAppPermissions must be an array of non-empty strings/],
  ])('refuses the option %p', async (options, message) => {
    await expect(EntraEmulator.start(options as never)).rejects.toThrow(message);
  });

  it('over plain HTTP keeps naming the public cloud as Microsoft Graph, and has no certificate authority', async () => {
    const plain = await EntraEmulator.start();
    try {
      expect(plain.certificateAuthority).toBeUndefined();
      const document = (await (await fetch(plain.v2MetadataUrl())).json()) as Record<string, unknown>;
      expect(document.msgraph_host).toBe('graph.microsoft.com');
    } finally {
      await plain.stop();
    }
  });

  describe('Microsoft Graph', () => {
    const graphToken = async (scope = 'User.Read') => (await obo(userToken(), { scope })).body.access_token as string;

    it('GET /v1.0/me: the user of the token, as Graph shows them', async () => {
      const answer = await graph('GET', '/v1.0/me', await graphToken());
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ id: ENTRA_EMULATOR_DEFAULTS.userObjectId, displayName: 'Emulated User', userPrincipalName: 'emulated.user@contoso.example' });
      expect(entra.requests.at(-1)).toMatchObject({ kind: 'graph', path: '/v1.0/me' });
    });

    it('checks the token as Graph does: a token for the API, an expired one, none, or without User.Read are refused', async () => {
      expect((await graph('GET', '/v1.0/me', userToken())).body.error.code).toBe('InvalidAuthenticationToken');
      const expired = entra.mintAccessToken({ audience: GRAPH, scopes: ['User.Read'], expiresInSeconds: -5 });
      expect((await graph('GET', '/v1.0/me', expired)).status).toBe(401);
      expect((await send('GET', `${entra.authorityHost}/v1.0/me`)).status).toBe(401);
      const noPermission = entra.mintAccessToken({ audience: GRAPH, scopes: ['Calendars.Read'] });
      expect((await graph('GET', '/v1.0/me', noPermission)).body.error.code).toBe('Authorization_RequestDenied');
    });

    it('getMemberObjects and transitiveMemberOf: the groups of the emulated directory', async () => {
      const access = await graphToken();
      const members = await graph('POST', `/v1.0/users/${ENTRA_EMULATOR_DEFAULTS.userObjectId}/getMemberObjects`, access, { securityEnabledOnly: true });
      expect(members.body.value).toEqual(['3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a']);
      const mine = await graph('POST', '/v1.0/me/getMemberObjects', access, { securityEnabledOnly: true });
      expect([mine.status, mine.body.value]).toEqual([200, ['3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a']]);
      const transitive = await graph('GET', '/v1.0/me/transitiveMemberOf', access);
      expect(transitive.body.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a', securityEnabled: true }]);
      // Another user's memberships need more than User.Read.
      const other = await graph('POST', '/v1.0/users/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d/getMemberObjects', access, { securityEnabledOnly: true });
      expect(other.status).toBe(403);
      expect((await graph('POST', `/v1.0/users/${ENTRA_EMULATOR_DEFAULTS.userObjectId}/getMemberObjects`, access, {})).status).toBe(400);
      // A broken percent escape in the user id is a 400, not an emulator crash.
      const broken = await graph('POST', '/v1.0/users/%E0%A4%A/getMemberObjects', access, { securityEnabledOnly: true });
      expect([broken.status, broken.body.error?.code]).toEqual([400, 'BadRequest']);
    });

    it('sends a continuous access evaluation challenge on fault', async () => {
      const access = await graphToken();
      entra.setFault('graph', { claimsChallenge: '{"access_token":{"nbf":{"essential":true,"value":"1767225600"}}}' });
      const answer = await graph('GET', '/v1.0/me', access);
      expect(answer.status).toBe(401);
      const header = String(answer.headers['www-authenticate']);
      expect(header).toContain('error="insufficient_claims"');
      const claims = /claims="([^"]+)"/.exec(header)![1]!;
      expect(JSON.parse(Buffer.from(claims, 'base64').toString())).toEqual({ access_token: { nbf: { essential: true, value: '1767225600' } } });
    });
  });
});
