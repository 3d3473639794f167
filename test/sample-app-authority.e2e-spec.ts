import type { INestApplication } from '@nestjs/common';
import { EntraEmulator, type EntraEmulatorOptions, type MintOptions } from 'nestjs-azure-auth/testing';
import { AppModule } from '../src/app.module.js';
import { parseAppConfig } from '../src/config/app-config.js';
import { BUILD_TIMEOUT_MS, ensureSampleAppBuilt, startSampleApp, stopAllSampleApps, type SampleApp } from './support/sample-app-process.js';
import { ADAPTERS, call, startApp, type HttpAnswer } from './support/test-app.js';

// The sample app configured with AZURE_AUTHORITY (a B2C policy, an External ID authority) instead of
// AZURE_TENANT_ID + AZURE_AUTHORITY_HOST, against the emulator over real loopback HTTP.

const SIGN_UP = 'B2C_1_signupsignin';
const PROFILE = 'B2C_1_profile';
const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const OTHER_API = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const EXTERNAL_ID_ISSUER = 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** How the API must answer a caller: a status, or a refusal with its reason. */
type Outcome = 200 | { status: 401 | 403; reason: string };

interface AuthorityKind {
  readonly name: string;
  readonly emulator: EntraEmulatorOptions;
  /** What AZURE_AUTHORITY is set to. */
  authority(entra: EntraEmulator): string;
  /** Callers of GET /api/todolist and what each must get. */
  callers(entra: EntraEmulator): Array<[string, MintOptions, Outcome]>;
}

const KINDS: AuthorityKind[] = [
  {
    name: 'a B2C policy',
    // The tenant publishes a second policy, which this API does not trust.
    emulator: { b2cPolicies: [SIGN_UP, PROFILE] },
    authority: (entra) => entra.b2cAuthority(SIGN_UP),
    callers: (entra) => [
      ['a reader of the policy', { b2cPolicy: SIGN_UP, scopes: ['Todolist.Read'] }, 200],
      ['a reader of the policy naming it in acr', { b2cPolicy: SIGN_UP, policyClaim: 'acr', scopes: ['Todolist.Read'] }, 200],
      ['a reader of another policy of the tenant', { b2cPolicy: PROFILE, scopes: ['Todolist.Read'] }, { status: 401, reason: 'signing_key_not_found' }],
      ['a reader of the policy in another tenant', { b2cPolicy: SIGN_UP, tenantId: OTHER_TENANT, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_issuer' }],
      ['a reader of the policy for another API', { b2cPolicy: SIGN_UP, audience: OTHER_API, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_audience' }],
      ['a workforce token of the same tenant', { scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_issuer' }],
      ['a caller of the policy without the scope', { b2cPolicy: SIGN_UP, scopes: ['Other.Scope'] }, { status: 403, reason: 'insufficient_permissions' }],
      ['an expired reader of the policy', { b2cPolicy: SIGN_UP, scopes: ['Todolist.Read'], expiresInSeconds: -3600 }, { status: 401, reason: 'token_expired' }],
    ],
  },
  {
    name: 'an External ID authority',
    emulator: { v2IssuerTemplate: EXTERNAL_ID_ISSUER },
    authority: (entra) => `${entra.authorityHost}/${entra.tenantId}/v2.0`,
    callers: (entra) => [
      ['a reader', { scopes: ['Todolist.Read'] }, 200],
      ['a daemon', { kind: 'app', roles: ['Todolist.Read.All'] }, 200],
      ['a reader of another tenant', { tenantId: OTHER_TENANT, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_issuer' }],
      ['a reader for another API', { audience: OTHER_API, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_audience' }],
      ['a reader with a workforce issuer', { issuer: `${entra.authorityHost}/${entra.tenantId}/v2.0`, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_issuer' }],
      ['a B2C token of the same tenant', { b2cPolicy: SIGN_UP, scopes: ['Todolist.Read'] }, { status: 401, reason: 'invalid_issuer' }],
      ['a caller without the scope', { scopes: ['Other.Scope'] }, { status: 403, reason: 'insufficient_permissions' }],
    ],
  },
];

function expectOutcome(answer: HttpAnswer, outcome: Outcome, realm: string): void {
  const challenge = answer.headers.get('www-authenticate');
  if (outcome === 200) {
    expect({ status: answer.status, challenge }).toEqual({ status: 200, challenge: null });
    return;
  }
  expect({ status: answer.status, reason: answer.body.reason }).toEqual(outcome);
  const error = outcome.status === 401 ? 'invalid_token' : 'insufficient_scope';
  expect(challenge).toMatch(new RegExp(`^Bearer realm="${escapeRegExp(realm)}", error="${error}", error_description="[^"]+"`));
}

describe.each(ADAPTERS)('the sample app over %s, configured with AZURE_AUTHORITY', (adapter) => {
  describe.each(KINDS)('set to $name', (kind) => {
    let entra: EntraEmulator;
    let app: INestApplication;
    let url: string;
    let realm: string;

    beforeAll(async () => {
      entra = await EntraEmulator.start(kind.emulator);
      realm = `api://${entra.clientId}`;
      // The app's own path from the environment to the module: parseAppConfig, then AppModule.
      const config = parseAppConfig({ AZURE_AUTHORITY: kind.authority(entra), AZURE_CLIENT_ID: entra.clientId });
      if (config.mode !== 'azure') throw new Error('expected Azure mode');
      expect(config.auth).toEqual({ authority: kind.authority(entra), clientId: entra.clientId });
      ({ app, url } = await startApp(adapter, { imports: [AppModule.register({ auth: config.auth })] }));
    });
    afterAll(async () => {
      await app?.close();
      await entra?.stop();
    });

    it('asks a caller without a token for one', async () => {
      const answer = await call(`${url}/api/todolist`);
      expect({ status: answer.status, reason: answer.body.reason, challenge: answer.headers.get('www-authenticate') }).toEqual({
        status: 401,
        reason: 'token_missing',
        challenge: `Bearer realm="${realm}"`,
      });
    });

    it('answers GET /api/todolist to each caller as its token deserves', async () => {
      for (const [caller, mint, outcome] of kind.callers(entra)) {
        const answer = await call(`${url}/api/todolist`, { token: entra.mintAccessToken(mint) });
        expect({ caller, status: answer.status }).toEqual({ caller, status: outcome === 200 ? 200 : outcome.status });
        expectOutcome(answer, outcome, realm);
      }
    });

    it("knows the caller's tenant and keeps items per owner", async () => {
      const mint = kind.callers(entra)[0]![1];
      const writer = entra.mintAccessToken({ ...mint, scopes: ['Todolist.ReadWrite'] });
      const me = await call(`${url}/api/me`, { token: writer });
      expect(me.body).toMatchObject({ tid: entra.tenantId, scopes: ['Todolist.ReadWrite'], appOnly: false });
      const added = await call(`${url}/api/todolist`, { method: 'POST', token: writer, body: { description: `from ${kind.name}` } });
      expect(added.status).toBe(201);
      expect((await call(`${url}/api/todolist`, { token: writer })).body).toEqual([added.body]);
      // Without AZURE_ADMIN_GROUP_ID the stats route is not served.
      expect((await call(`${url}/api/todolist/stats`, { token: writer })).status).toBe(404);
    });
  });
});

const BUILT_CASES = ADAPTERS.flatMap((adapter) => KINDS.map((kind) => [adapter, kind.name, kind] as const));

describe.each(BUILT_CASES)('the built sample app (npm start, HTTP_ADAPTER=%s) with AZURE_AUTHORITY set to %s', (adapter, _name, kind) => {
  let entra: EntraEmulator;
  let app: SampleApp;

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    entra = await EntraEmulator.start(kind.emulator);
    app = await startSampleApp({ AZURE_AUTHORITY: kind.authority(entra), AZURE_CLIENT_ID: entra.clientId, HTTP_ADAPTER: adapter, PORT: '0', HOST: '127.0.0.1' });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
    await entra?.stop();
  });

  it('says which authority it trusts', () => {
    expect(app.output()).toContain(`Accepting access tokens of authority ${kind.authority(entra)} for API ${entra.clientId}`);
  });

  it('accepts the first caller and refuses the others with their reasons', async () => {
    for (const [caller, mint, outcome] of kind.callers(entra)) {
      const answer = await call(`${app.url}/api/todolist`, { token: entra.mintAccessToken(mint) });
      expect({ caller, status: answer.status, reason: answer.body.reason }).toEqual(
        outcome === 200 ? { caller, status: 200, reason: undefined } : { caller, ...outcome },
      );
    }
  });

  it("documents Swagger UI's sign-in at the authority's own endpoints", async () => {
    const document = await call(`${app.url}/docs-json`);
    const base = kind.authority(entra).replace(/\/v2\.0$/, '');
    expect(document.body.components.securitySchemes['azure-ad'].flows.authorizationCode).toMatchObject({
      authorizationUrl: `${base}/oauth2/v2.0/authorize`,
      tokenUrl: `${base}/oauth2/v2.0/token`,
    });
  });

  it('never printed a token', () => {
    expect(app.output()).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/);
  });
});
