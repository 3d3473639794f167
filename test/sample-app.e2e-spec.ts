import { randomUUID } from 'node:crypto';
import { EntraEmulator, type MintOptions } from 'nestjs-azure-auth/testing';
import {
  BUILD_TIMEOUT_MS,
  addressBeyondLoopback,
  ensureSampleAppBuilt,
  runSampleAppToExit,
  startSampleApp,
  stopAllSampleApps,
  type SampleApp,
} from './support/sample-app-process.js';
import { call, type HttpAnswer } from './support/test-app.js';

const GRAPH = '00000003-0000-0000-c000-000000000000';
const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const UNTRUSTED_TENANT = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const ADMIN_GROUP = '4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d';
const now = () => Math.floor(Date.now() / 1000);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Route = 'GET /health' | 'GET /api/me' | 'GET /api/todolist' | 'POST /api/todolist' | 'GET /api/admin';
/** A success status, or how the API must refuse: a bare challenge, a bad token (with its reason), or a missing permission. */
type Outcome = 200 | 201 | 'challenge' | { invalid: string } | { forbidden: string };

const CALLERS: Record<string, MintOptions | null> = {
  'no token': null,
  reader: { scopes: ['Todolist.Read'] },
  writer: { scopes: ['Todolist.ReadWrite'] },
  'daemon (Todolist.Read.All)': { kind: 'app', roles: ['Todolist.Read.All'] },
  'daemon (Todolist.ReadWrite.All)': { kind: 'app', roles: ['Todolist.ReadWrite.All'] },
  'daemon v1 (Todolist.ReadWrite.All)': { kind: 'app', roles: ['Todolist.ReadWrite.All'], version: 1 },
  admin: { scopes: ['Todolist.Read'], roles: ['TaskAdmin'] },
  'user with the TaskAdmin role but no scope': { roles: ['TaskAdmin'] },
  'user with a daemon permission as a role': { scopes: ['User.Read'], roles: ['Todolist.ReadWrite.All'] },
  'Microsoft Graph token': { scopes: ['User.Read'], audience: GRAPH, header: { nonce: 'graph' } },
  'expired writer': { scopes: ['Todolist.ReadWrite'], issuedAt: now() - 7200, expiresInSeconds: 3600 },
  'v1 writer': { version: 1, scopes: ['Todolist.ReadWrite'] },
};

const RW = { forbidden: 'Todolist.ReadWrite' };
const RW_ALL = { forbidden: 'Todolist.ReadWrite.All' };
const ADMIN = { forbidden: 'TaskAdmin' };
const graph = { invalid: 'graph_token' };
const expired = { invalid: 'token_expired' };

// Every caller against every route: [health, me, list, add, admin].
const MATRIX: Record<keyof typeof CALLERS, [Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  'no token': [200, 'challenge', 'challenge', 'challenge', 'challenge'],
  reader: [200, 200, 200, RW, ADMIN],
  writer: [200, 200, 200, 201, ADMIN],
  'daemon (Todolist.Read.All)': [200, 200, 200, RW_ALL, ADMIN],
  'daemon (Todolist.ReadWrite.All)': [200, 200, 200, 201, ADMIN],
  'daemon v1 (Todolist.ReadWrite.All)': [200, 200, 200, 201, ADMIN],
  admin: [200, 200, 200, RW, 200],
  'user with the TaskAdmin role but no scope': [200, 200, { forbidden: 'Todolist.Read Todolist.ReadWrite' }, RW, 200],
  'user with a daemon permission as a role': [200, 200, { forbidden: 'Todolist.Read Todolist.ReadWrite' }, RW, ADMIN],
  'Microsoft Graph token': [200, graph, graph, graph, graph],
  'expired writer': [200, expired, expired, expired, expired],
  'v1 writer': [200, 200, 200, 201, ADMIN],
};
const ROUTES: Route[] = ['GET /health', 'GET /api/me', 'GET /api/todolist', 'POST /api/todolist', 'GET /api/admin'];

function describeOutcome(outcome: Outcome): string {
  if (typeof outcome === 'number') return String(outcome);
  if (outcome === 'challenge') return '401 challenge';
  return 'invalid' in outcome ? `401 ${outcome.invalid}` : `403 scope="${outcome.forbidden}"`;
}

const CASES = Object.entries(MATRIX).flatMap(([caller, outcomes]) =>
  ROUTES.map((route, index) => [caller, route, describeOutcome(outcomes[index]), outcomes[index]] as const),
);

describe('the built sample app, configured by environment against the emulator', () => {
  let entra: EntraEmulator;
  let app: SampleApp;
  let realm: string;

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    entra = await EntraEmulator.start();
    realm = `api://${entra.clientId}`;
    app = await startSampleApp({
      AZURE_TENANT_ID: entra.tenantId,
      AZURE_CLIENT_ID: entra.clientId,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
      AZURE_ADMIN_GROUP_ID: ADMIN_GROUP,
      PORT: '0',
      HOST: '127.0.0.1',
    });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
    await entra?.stop();
  });

  const request = (route: Route, token?: string, body: unknown = { description: 'from the matrix' }) => {
    const [method, path] = route.split(' ');
    return call(`${app.url}${path}`, { method, token, body: method === 'POST' ? body : undefined });
  };

  function expectOutcome(answer: HttpAnswer, outcome: Outcome): void {
    const challenge = answer.headers.get('www-authenticate');
    if (typeof outcome === 'number') {
      expect({ status: answer.status, challenge }).toEqual({ status: outcome, challenge: null });
    } else if (outcome === 'challenge') {
      expect({ status: answer.status, reason: answer.body.reason, challenge }).toEqual({ status: 401, reason: 'token_missing', challenge: `Bearer realm="${realm}"` });
    } else if ('invalid' in outcome) {
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: outcome.invalid });
      expect(challenge).toMatch(new RegExp(`^Bearer realm="${escapeRegExp(realm)}", error="invalid_token", error_description="[^"]+"$`));
    } else {
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 403, reason: 'insufficient_permissions' });
      expect(challenge).toMatch(
        new RegExp(`^Bearer realm="${escapeRegExp(realm)}", error="insufficient_scope", error_description="[^"]+", scope="${escapeRegExp(outcome.forbidden)}"$`),
      );
    }
  }

  it('prints where it listens, on the interface it was given', () => {
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(app.output()).toContain(`Accepting Entra access tokens of tenant ${entra.tenantId}`);
  });

  it.each(CASES)('%s: %s -> %s', async (caller, route, _expected, outcome) => {
    const mint = CALLERS[caller];
    expectOutcome(await request(route, mint ? entra.mintAccessToken(mint) : undefined), outcome);
  });

  it('answers /api/me with exactly what it understood of the token', async () => {
    const user = await call(`${app.url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read', 'Todolist.ReadWrite'], roles: ['TaskAdmin'] }) });
    expect(user.body).toEqual({
      oid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tid: entra.tenantId,
      scopes: ['Todolist.Read', 'Todolist.ReadWrite'],
      roles: ['TaskAdmin'],
      appOnly: false,
      tokenVersion: '2.0',
    });
    const daemonOid = randomUUID();
    const daemon = await call(`${app.url}/api/me`, { token: entra.mintAccessToken({ kind: 'app', version: 1, oid: daemonOid, roles: ['Todolist.Read.All'] }) });
    expect(daemon.body).toEqual({ oid: daemonOid, tid: entra.tenantId, scopes: [], roles: ['Todolist.Read.All'], appOnly: true, tokenVersion: '1.0' });
  });

  it('keeps items per owner: users see their own, a daemon sees everyone\u2019s', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const daemon = randomUUID();
    const token = (oid: string, scopes: string[]) => entra.mintAccessToken({ oid, scopes });
    const list = (bearer: string) => call(`${app.url}/api/todolist`, { token: bearer });
    const add = (bearer: string, description: string) => call(`${app.url}/api/todolist`, { method: 'POST', token: bearer, body: { description } });

    const first = await add(token(alice, ['Todolist.ReadWrite']), 'Buy milk');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.any(String), description: 'Buy milk', owner: alice });
    const second = await add(token(bob, ['Todolist.ReadWrite']), 'Walk the dog');
    const third = await add(entra.mintAccessToken({ kind: 'app', oid: daemon, roles: ['Todolist.ReadWrite.All'] }), 'Nightly report');
    expect(third.body).toEqual({ id: expect.any(String), description: 'Nightly report', owner: daemon });
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(3);

    expect((await list(token(alice, ['Todolist.Read']))).body).toEqual([first.body]);
    expect((await list(token(bob, ['Todolist.ReadWrite']))).body).toEqual([second.body]);
    const everyone = await list(entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }));
    expect(everyone.body).toEqual(expect.arrayContaining([first.body, second.body, third.body]));

    const summary = await call(`${app.url}/api/admin`, { token: entra.mintAccessToken({ oid: alice, scopes: ['Todolist.Read'], roles: ['TaskAdmin'] }) });
    expect(summary.status).toBe(200);
    expect(summary.body).toEqual({ tenantId: entra.tenantId, items: everyone.body.length, owners: expect.any(Number) });
    expect(summary.body.owners).toBeGreaterThanOrEqual(3);
  });

  it('deletes an item only after step-up (authentication context c1), and only the caller\u2019s own', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const writer = (oid: string, claims: Record<string, unknown> = {}) => entra.mintAccessToken({ oid, scopes: ['Todolist.ReadWrite'], claims });
    const remove = (bearer: string, id: string) => call(`${app.url}/api/todolist/${id}`, { method: 'DELETE', token: bearer });
    const item = (await call(`${app.url}/api/todolist`, { method: 'POST', token: writer(alice), body: { description: 'Sensitive' } })).body;

    const challenged = await remove(writer(alice, { xms_cc: ['cp1'] }), item.id);
    expect([challenged.status, challenged.body.reason, challenged.body.authContexts]).toEqual([401, 'insufficient_claims', ['c1']]);
    expect(challenged.headers.get('www-authenticate')).toMatch(/ error="insufficient_claims", error_description="[^"]+", claims="[A-Za-z0-9+/=]+"$/);
    const told = await remove(writer(alice), item.id);
    expect([told.status, told.body.reason]).toEqual([403, 'auth_context_required']);
    const reader = await remove(entra.mintAccessToken({ oid: alice, scopes: ['Todolist.Read'], claims: { acrs: ['c1'] } }), item.id);
    expect([reader.status, reader.body.reason]).toEqual([403, 'insufficient_permissions']);

    expect((await remove(writer(bob, { acrs: ['c1'] }), item.id)).status).toBe(404);
    const deleted = await remove(writer(alice, { acrs: ['c1'] }), item.id);
    expect([deleted.status, deleted.body]).toEqual([204, '']);
    expect((await remove(writer(alice, { acrs: ['c1'] }), item.id)).status).toBe(404);
    expect((await call(`${app.url}/api/todolist`, { token: writer(alice) })).body).toEqual([]);
  });

  it('answers GET /api/todolist/stats to the members of AZURE_ADMIN_GROUP_ID only: items per owner', async () => {
    const owner = randomUUID();
    const add = (token: string) => call(`${app.url}/api/todolist`, { method: 'POST', token, body: { description: 'counted' } });
    for (let i = 0; i < 2; i += 1) await add(entra.mintAccessToken({ oid: owner, scopes: ['Todolist.ReadWrite'] }));
    const stats = (mint: MintOptions) => call(`${app.url}/api/todolist/stats`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], ...mint }) });

    const member = await stats({ groups: [ADMIN_GROUP.toUpperCase()] });
    expect(member.status).toBe(200);
    expect(member.body.tenantId).toBe(entra.tenantId);
    expect(member.body.owners).toContainEqual({ owner, items: 2 });
    const outsider = await stats({ groups: [OTHER_TENANT] });
    expect([outsider.status, outsider.body.reason, outsider.body.required]).toEqual([403, 'insufficient_permissions', [ADMIN_GROUP]]);
    // Without a client credential (AZURE_CLIENT_SECRET…) the API cannot ask Graph: an overage token is told so.
    const overage = await stats({ groupsOverage: true });
    expect([overage.status, overage.body.reason]).toEqual([403, 'groups_overage']);
  });

  describe('POST /api/todolist validates its body', () => {
    const writerOid = randomUUID();
    const writer = () => entra.mintAccessToken({ oid: writerOid, scopes: ['Todolist.ReadWrite'] });
    const post = (body: string, token: string | undefined, contentType = 'application/json') =>
      fetch(`${app.url}/api/todolist`, {
        method: 'POST',
        headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
      });

    it.each([
      ['an empty object', '{}', /description/],
      ['an empty description', '{"description":""}', /description should not be empty/],
      ['a blank description', '{"description":"   "}', /description must not be blank/],
      ['a number', '{"description":42}', /description must be a string/],
      ['a description too long', JSON.stringify({ description: 'x'.repeat(501) }), /description must be shorter than or equal to 500 characters/],
      ['an unknown property', '{"description":"ok","owner":"someone-else"}', /property owner should not exist/],
      ['an array', '[{"description":"ok"}]', /./],
      ['a JSON string', '"ok"', /./],
      ['null', 'null', /./],
      ['malformed JSON', '{"description":', /./],
    ])('refuses %s with 400', async (_name, body, message) => {
      const answer = await post(body, writer());
      expect(answer.status).toBe(400);
      expect(await answer.text()).toMatch(message);
    });

    it('refuses a text body with 400: it is never parsed, so it has no description', async () => {
      const answer = await post('{"description":"ok"}', writer(), 'text/plain');
      expect(answer.status).toBe(400);
      expect(await answer.text()).toMatch(/description must be a string/);
    });

    it('stored none of the refused bodies', async () => {
      const answer = await call(`${app.url}/api/todolist`, { token: writer() });
      expect(answer).toMatchObject({ status: 200, body: [] });
    });

    it('checks the caller before the body: 401 without a token, 403 for a reader', async () => {
      const anonymous = await post('{}', undefined);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}"`);
      const reader = await post('{}', entra.mintAccessToken({ scopes: ['Todolist.Read'] }));
      expect(reader.status).toBe(403);
      expect(reader.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="Todolist\.ReadWrite"$/);
    });
  });

  it('never answers 500 to junk in the Authorization header, on any route', async () => {
    const unpublished = entra.createUnpublishedKey();
    const junk = [
      'Bearer',
      'Bearer ',
      'Bearer a.b.c',
      'Bearer ....',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'a'.repeat(10000)}`,
      `Bearer ${entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'], privateKey: unpublished.privateKey, kid: unpublished.kid })}`,
      `Bearer ${entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'], audience: 'api://another-api' })}`,
      `Bearer ${entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'], tenantId: OTHER_TENANT })}`,
      `Bearer ${entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'] }).replace(/\.[^.]+$/, '.c2ln')}`,
    ];
    for (const route of ROUTES.slice(1)) {
      const [method, path] = route.split(' ');
      for (const authorization of junk) {
        const answer = await call(`${app.url}${path}`, { method, headers: { authorization }, body: method === 'POST' ? { description: 'x' } : undefined });
        expect({ route, authorization: authorization.slice(0, 40), status: answer.status }).toEqual({ route, authorization: authorization.slice(0, 40), status: 401 });
        expect(answer.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="${escapeRegExp(realm)}"`));
      }
    }
  });

  it('answers unknown routes 404, token or not', async () => {
    expect((await call(`${app.url}/api/nothing-here`)).status).toBe(404);
    expect((await call(`${app.url}/api/todolist`, { method: 'DELETE', token: entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'] }) })).status).toBe(404);
  });

  it('never printed a token', () => {
    expect(app.output()).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/);
  });
});

describe('the built sample app as a multi-tenant API', () => {
  let entra: EntraEmulator;
  let app: SampleApp;

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    entra = await EntraEmulator.start();
    app = await startSampleApp({
      AZURE_TENANT_ID: 'organizations',
      AZURE_CLIENT_ID: entra.clientId,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
      AZURE_ALLOWED_TENANTS: `${entra.tenantId}, ${OTHER_TENANT}`,
      PORT: '0',
      HOST: '127.0.0.1',
    });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
    await entra?.stop();
  });

  it('accepts the tenants of AZURE_ALLOWED_TENANTS and refuses the others', async () => {
    for (const tenantId of [entra.tenantId, OTHER_TENANT]) {
      const answer = await call(`${app.url}/api/me`, { token: entra.mintAccessToken({ tenantId, scopes: ['Todolist.Read'] }) });
      expect({ status: answer.status, tid: answer.body.tid }).toEqual({ status: 200, tid: tenantId });
    }
    const untrusted = await call(`${app.url}/api/me`, { token: entra.mintAccessToken({ tenantId: UNTRUSTED_TENANT, scopes: ['Todolist.Read'] }) });
    expect({ status: untrusted.status, reason: untrusted.body.reason }).toEqual({ status: 401, reason: 'tenant_not_allowed' });
    expect(untrusted.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it("never shows one tenant's items to another tenant's daemon", async () => {
    const added = await call(`${app.url}/api/todolist`, {
      method: 'POST',
      token: entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'] }),
      body: { description: 'Home tenant only' },
    });
    expect(added.status).toBe(201);
    const daemonOf = (tenantId: string) => entra.mintAccessToken({ kind: 'app', tenantId, roles: ['Todolist.Read.All'] });
    expect((await call(`${app.url}/api/todolist`, { token: daemonOf(entra.tenantId) })).body).toEqual([added.body]);
    expect((await call(`${app.url}/api/todolist`, { token: daemonOf(OTHER_TENANT) })).body).toEqual([]);
  });
});

describe('the built sample app with HOST unset (every interface, as a deployed API)', () => {
  let entra: EntraEmulator;
  let app: SampleApp;
  const beyondLoopback = addressBeyondLoopback();

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    entra = await EntraEmulator.start();
    app = await startSampleApp({ AZURE_TENANT_ID: entra.tenantId, AZURE_CLIENT_ID: entra.clientId, AZURE_AUTHORITY_HOST: entra.authorityHost, PORT: '0' });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
    await entra?.stop();
  });

  (beyondLoopback === undefined ? it.skip : it)('logs the wildcard address it really listens on, reached from beyond loopback', async () => {
    const { hostname, port } = new URL(app.url);
    expect(['[::]', '0.0.0.0']).toContain(hostname);
    expect(app.output()).toMatch(new RegExp(`Listening on ${escapeRegExp(app.url)} \\(every (IPv4 )?interface; from this machine: http://(127\\.0\\.0\\.1|\\[::1\\]):${port}\\)`));
    expect((await call(`http://${beyondLoopback}:${port}/health`)).status).toBe(200);
  });
});

describe('the built sample app refuses a half or wrong configuration', () => {
  const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const CLIENT = '11111111-2222-4333-8444-555555555555';

  beforeAll(() => ensureSampleAppBuilt(), BUILD_TIMEOUT_MS);
  afterAll(() => stopAllSampleApps());

  it.each([
    ['only AZURE_TENANT_ID', { AZURE_TENANT_ID: TENANT }, /AZURE_CLIENT_ID is missing/],
    ['only AZURE_CLIENT_ID', { AZURE_CLIENT_ID: CLIENT }, /AZURE_TENANT_ID is missing/],
    // Checked by AzureAuthModule, which names the option; the app adds the variable that set it.
    [
      'organizations without AZURE_ALLOWED_TENANTS',
      { AZURE_TENANT_ID: 'organizations', AZURE_CLIENT_ID: CLIENT },
      /option "allowedTenants" is required when tenantId is "organizations".*\(environment variable AZURE_ALLOWED_TENANTS\)/,
    ],
    [
      'an AZURE_ALLOWED_TENANTS entry that is not a GUID',
      { AZURE_TENANT_ID: 'organizations', AZURE_CLIENT_ID: CLIENT, AZURE_ALLOWED_TENANTS: `${TENANT},contoso.com` },
      /option "allowedTenants" must be an array of GUIDs \(environment variable AZURE_ALLOWED_TENANTS\)/,
    ],
    [
      'an http:// authority that is not loopback',
      { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_AUTHORITY_HOST: 'http://login.example.com' },
      /option "authorityHost" must use https:\/\/.*\(environment variable AZURE_AUTHORITY_HOST\)/,
    ],
    [
      'AZURE_AUTHORITY together with AZURE_TENANT_ID',
      { AZURE_AUTHORITY: `https://contoso.ciamlogin.com/${TENANT}/v2.0`, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT },
      /AZURE_AUTHORITY and AZURE_TENANT_ID are both set: .*Set one form only/,
    ],
    [
      'a B2C AZURE_AUTHORITY that names no policy',
      { AZURE_AUTHORITY: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/v2.0', AZURE_CLIENT_ID: CLIENT },
      /AZURE_AUTHORITY "https:\/\/contoso\.b2clogin\.com\/contoso\.onmicrosoft\.com\/v2\.0" is an Azure AD B2C authority without a policy/,
    ],
    [
      'an http:// AZURE_AUTHORITY that is not loopback',
      { AZURE_AUTHORITY: `http://contoso.ciamlogin.com/${TENANT}/v2.0`, AZURE_CLIENT_ID: CLIENT },
      /option "authority" must use https:\/\/.*\(environment variable AZURE_AUTHORITY\)/,
    ],
    [
      'an admin group id that is not a GUID',
      { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_ADMIN_GROUP_ID: 'Admins' },
      /AZURE_ADMIN_GROUP_ID must be the object id \(a GUID\) of a security group/,
    ],
    [
      'a Swagger UI client id that is not a GUID',
      { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_SWAGGER_CLIENT_ID: 'swagger-ui' },
      /option "swaggerClientId" must be .*GUID.*\(environment variable AZURE_SWAGGER_CLIENT_ID\)/,
    ],
  ])('with %s: exits non-zero and says what to fix', async (_name, env, message) => {
    const exit = await runSampleAppToExit({ ...env, PORT: '0' });
    expect(exit.code).toBe(1);
    expect(exit.output).toMatch(message);
    expect(exit.output).not.toMatch(/Listening on/);
  });
});
