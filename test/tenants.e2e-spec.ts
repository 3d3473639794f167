import type { INestApplication } from '@nestjs/common';
import { AzureAuthModule, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { ENTRA_EMULATOR_DEFAULTS, EntraEmulator, decodeJwtUnverified, type EmulatorKeyPair } from 'nestjs-azure-auth/testing';
import { ProbeController, call, emulatorOptions, probeApp, startApp, type HttpAnswer } from './support/test-app.js';

// Every kind of Entra tenant (issue 5), over Express: what is under test is token routing and
// the tenant rules, which sit below the HTTP adapter.

const TENANT_A = '3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const TENANT_B = '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a';
const MSA_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const SIGN_UP = 'B2C_1_signupsignin';
const PROFILE = 'B2C_1_profile';
const SCOPES = ['Todolist.Read'];

const me = (url: string, token?: string): Promise<HttpAnswer> => call(`${url}/api/me`, { token });

function expectOk(answer: HttpAnswer): void {
  expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status: 200, reason: undefined });
}

function expectInvalidToken(answer: HttpAnswer, reason: string): void {
  expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status: 401, reason });
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/);
}

function expectForbidden(answer: HttpAnswer, reason: string): void {
  expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status: 403, reason });
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", error_description="[^"]+"/);
}

/** Starts the probe app for the duration of a `describe`; `get()` gives its URL. */
function probeAppFor(options: () => AzureAuthModuleOptions): { url: () => string } {
  let app: INestApplication | undefined;
  let url = '';
  beforeAll(async () => {
    ({ app, url } = await probeApp('express', options()));
  });
  afterAll(async () => {
    await app?.close();
  });
  return { url: () => url };
}

/** A running emulator for the duration of a `describe`. */
function emulatorFor(options: Parameters<typeof EntraEmulator.start>[0] = {}): () => EntraEmulator {
  let entra: EntraEmulator | undefined;
  beforeAll(async () => {
    entra = await EntraEmulator.start(options);
  });
  afterAll(async () => {
    await entra?.stop();
  });
  return () => {
    if (entra === undefined) throw new Error('the emulator is not running');
    return entra;
  };
}

describe('multi-tenant: organizations with allowedTenants', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => emulatorOptions(entra(), { tenantId: 'organizations', allowedTenants: [TENANT_A] }));

  it('accepts an allowed tenant, v2 and v1, and names it in the principal', async () => {
    const v2 = await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES }));
    expectOk(v2);
    expect(v2.body.tid).toBe(TENANT_A);
    expectOk(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, version: 1 })));
  });

  it('refuses a tenant that is not in allowedTenants with tenant_not_allowed', async () => {
    const answer = await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES }));
    expectInvalidToken(answer, 'tenant_not_allowed');
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, version: 1 })), 'tenant_not_allowed');
  });

  it('refuses an iss of the allowed tenant with the tid of another', async () => {
    const token = entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, claims: { tid: TENANT_B } });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
    // ...and the other way round: the allowed tid cannot vouch for another tenant's issuer.
    const reverse = entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, claims: { tid: TENANT_A } });
    expectInvalidToken(await me(app.url(), reverse), 'invalid_issuer');
  });

  it('refuses a v1 token whose tid names the allowed tenant while its iss names another', async () => {
    const token = entra().mintAccessToken({ version: 1, tenantId: TENANT_B, scopes: SCOPES, claims: { tid: TENANT_A } });
    expect(decodeJwtUnverified(token).payload).toMatchObject({ iss: `https://sts.windows.net/${TENANT_B}/`, tid: TENANT_A });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });

  it('never accepts the literal template as an issuer', async () => {
    const token = entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, issuer: `${entra().authorityHost}/{tenantid}/v2.0` });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });
});

describe('multi-tenant: allowAnyTenant', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => emulatorOptions(entra(), { tenantId: 'organizations', allowAnyTenant: true }));

  it('accepts any tenant when trusting every tenant was asked for explicitly', async () => {
    const answer = await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES }));
    expectOk(answer);
    expect(answer.body.tid).toBe(TENANT_B);
  });

  it('still refuses an iss/tid mismatch', async () => {
    const token = entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, claims: { tid: TENANT_B } });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });
});

describe('multi-tenant: configuration', () => {
  const entra = emulatorFor();

  it.each(['organizations', 'common'])('refuses to start %s without allowedTenants, tenantValidator or allowAnyTenant', async (tenantId) => {
    const start = async () =>
      startApp('express', { imports: [AzureAuthModule.forRoot(emulatorOptions(entra(), { tenantId }))], controllers: [ProbeController] });
    await expect(start()).rejects.toThrow(/allowedTenants/);
  });

  it('refuses allowedTenants entries that are not tenant GUIDs', async () => {
    const start = async () =>
      startApp('express', {
        imports: [AzureAuthModule.forRoot(emulatorOptions(entra(), { tenantId: 'organizations', allowedTenants: ['contoso.onmicrosoft.com'] }))],
        controllers: [ProbeController],
      });
    await expect(start()).rejects.toThrow(/allowedTenants/);
  });
});

describe('multi-tenant: async tenantValidator', () => {
  const entra = emulatorFor();
  const seen: Array<{ tenantId: string; tid: unknown }> = [];
  const app = probeAppFor(() =>
    emulatorOptions(entra(), {
      tenantId: 'organizations',
      tenantValidator: async (tenantId, claims) => {
        seen.push({ tenantId, tid: claims.tid });
        await new Promise((resolve) => setImmediate(resolve));
        return tenantId === TENANT_A;
      },
    }),
  );

  it('accepts the tenant the validator trusts and refuses the others', async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES })));
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES })), 'tenant_not_allowed');
    expect(seen).toEqual([
      { tenantId: TENANT_A, tid: TENANT_A },
      { tenantId: TENANT_B, tid: TENANT_B },
    ]);
  });

  it('is not asked about a token whose iss and tid disagree', async () => {
    seen.length = 0;
    const token = entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, claims: { tid: TENANT_A } });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
    expect(seen).toEqual([]);
  });
});

describe('multi-tenant: common with allowedTenants', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => emulatorOptions(entra(), { tenantId: 'common', allowedTenants: [TENANT_A] }));

  it('accepts the allowed tenant (v2 and v1) and refuses another with tenant_not_allowed', async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES })));
    expectOk(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, version: 1 })));
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES })), 'tenant_not_allowed');
  });

  it('refuses an iss/tid mismatch', async () => {
    const token = entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, claims: { tid: TENANT_B }, version: 1 });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });
});

describe('multi-tenant: consumers', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => emulatorOptions(entra(), { tenantId: 'consumers' }));

  it('accepts the Microsoft account tenant', async () => {
    const answer = await me(app.url(), entra().mintAccessToken({ tenantId: MSA_TENANT, scopes: SCOPES }));
    expectOk(answer);
    expect(answer.body.tid).toBe(MSA_TENANT);
  });

  it('refuses every work or school tenant', async () => {
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES })), 'invalid_issuer');
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, version: 1 })), 'invalid_issuer');
  });
});

describe('signing-key issuer', () => {
  const entra = emulatorFor();
  const keys = new Map<'otherCloud' | 'otherTenant' | 'plain', EmulatorKeyPair>();
  const privateKey = (name: 'otherCloud' | 'otherTenant' | 'plain') => keys.get(name)!.privateKey;
  beforeAll(() => {
    // Published before the first fetch, so the API's first key set already holds them.
    keys.set('otherCloud', entra().addKey({ issuer: 'https://login.microsoftonline.us/{tenantid}/v2.0' }));
    keys.set('otherTenant', entra().addKey({ issuer: entra().v2Issuer(TENANT_B) }));
    keys.set('plain', entra().addKey());
  });
  const app = probeAppFor(() => emulatorOptions(entra()));

  it('accepts a token signed by a published key whose issuer is the tenant template', async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ scopes: SCOPES, privateKey: privateKey('plain') })));
  });

  it('refuses a token signed by a key whose issuer names another cloud', async () => {
    const token = entra().mintAccessToken({ scopes: SCOPES, privateKey: privateKey('otherCloud') });
    expectInvalidToken(await me(app.url(), token), 'signing_key_issuer_mismatch');
  });

  it('refuses a token signed by a key whose issuer names another tenant', async () => {
    const token = entra().mintAccessToken({ scopes: SCOPES, privateKey: privateKey('otherTenant') });
    expectInvalidToken(await me(app.url(), token), 'signing_key_issuer_mismatch');
  });

  // v1 key sets name no issuer: v1 tokens are checked against the v2 set, which holds the same keys.
  it('accepts a v1 token signed by a published key whose issuer is the tenant template', async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ version: 1, scopes: SCOPES, privateKey: privateKey('plain') })));
  });

  it.each(['otherCloud', 'otherTenant'] as const)('refuses a v1 token signed by a key whose issuer names %s', async (name) => {
    const token = entra().mintAccessToken({ version: 1, scopes: SCOPES, privateKey: privateKey(name) });
    expectInvalidToken(await me(app.url(), token), 'signing_key_issuer_mismatch');
  });
});

describe('app-specific signing keys', () => {
  const entra = emulatorFor();
  let appToken = '';
  beforeAll(() => {
    appToken = entra().mintAccessToken({ appId: entra().clientId, scopes: SCOPES });
  });
  const plain = probeAppFor(() => emulatorOptions(entra()));
  const withAppKeys = probeAppFor(() => emulatorOptions(entra(), { appSpecificSigningKeys: true }));

  it('the token is signed by the app key, not a tenant-wide one', () => {
    const { kid } = decodeJwtUnverified(appToken).header;
    expect(kid).toBe(entra().appSpecificKid(entra().clientId));
    expect(entra().publishedKids()).not.toContain(kid);
  });

  it('is refused with signing_key_not_found without appSpecificSigningKeys', async () => {
    const answer = await me(plain.url(), appToken);
    expectInvalidToken(answer, 'signing_key_not_found');
    expect(answer.body.hint).toMatch(/appSpecificSigningKeys/);
  });

  it('is accepted with appSpecificSigningKeys, which asks for the metadata under ?appid', async () => {
    entra().resetRequests();
    expectOk(await me(withAppKeys.url(), appToken));
    expectOk(await me(withAppKeys.url(), entra().mintAccessToken({ appId: entra().clientId, scopes: SCOPES, version: 1 })));
    const query = `?appid=${entra().clientId}`;
    const metadata = entra().requests.filter((request) => request.kind === 'metadata');
    const keyFetches = entra().requests.filter((request) => request.kind === 'keys');
    expect(metadata.length).toBeGreaterThan(0);
    expect(metadata.every((request) => request.path.endsWith(query))).toBe(true);
    expect(keyFetches.length).toBeGreaterThan(0);
    expect(keyFetches.every((request) => request.path.endsWith(query))).toBe(true);
  });
});

describe('B2C with two policies', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => ({
    authority: entra().b2cAuthority(),
    policies: [SIGN_UP, PROFILE],
    clientId: entra().clientId,
    warmUp: false,
  }));

  it.each([SIGN_UP, PROFILE])('accepts a token of %s, with the tenant taken from iss', async (policy) => {
    const token = entra().mintAccessToken({ b2cPolicy: policy, scopes: ['demo.read'] });
    expect(decodeJwtUnverified(token).payload).not.toHaveProperty('tid');
    const answer = await me(app.url(), token);
    expectOk(answer);
    expect(answer.body).toMatchObject({ tid: entra().tenantId, tokenVersion: '1.0', scopes: ['demo.read'], appOnly: false });
  });

  it('refuses a token of a third policy', async () => {
    const token = entra().mintAccessToken({ b2cPolicy: 'B2C_1_passwordreset', scopes: ['demo.read'] });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });

  it("refuses a token that claims one policy but was signed by the other policy's key", async () => {
    // Its own kid: the claimed policy's keys do not have it.
    const ownKid = entra().mintAccessToken({ b2cPolicy: PROFILE, scopes: ['demo.read'], claims: { tfp: SIGN_UP } });
    expectInvalidToken(await me(app.url(), ownKid), 'signing_key_not_found');
    // The claimed policy's kid: that key does not verify the signature.
    const borrowedKid = entra().mintAccessToken({
      b2cPolicy: PROFILE,
      scopes: ['demo.read'],
      claims: { tfp: SIGN_UP },
      kid: entra().b2cPolicyKid(SIGN_UP),
    });
    expectInvalidToken(await me(app.url(), borrowedKid), 'invalid_signature');
  });

  it('takes the policy from acr when there is no tfp, in any case', async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ b2cPolicy: PROFILE, policyClaim: 'acr', scopes: ['demo.read'] })));
    const lowerCase = entra().mintAccessToken({ b2cPolicy: SIGN_UP.toLowerCase(), policyClaim: 'acr', scopes: ['demo.read'] });
    expectOk(await me(app.url(), lowerCase));
  });

  // B2C leaves the policy claim out in some configurations: every listed policy shares the issuer,
  // and the key that verifies the token decides which policy it is.
  it.each([SIGN_UP, PROFILE])('accepts a token of %s that names no policy (neither tfp nor acr): its key decides', async (policy) => {
    const token = entra().mintAccessToken({ b2cPolicy: policy, scopes: ['demo.read'], claims: { tfp: undefined } });
    expect(decodeJwtUnverified(token).payload).not.toHaveProperty('tfp');
    expect(decodeJwtUnverified(token).payload).not.toHaveProperty('acr');
    const answer = await me(app.url(), token);
    expectOk(answer);
    expect(answer.body.tid).toBe(entra().tenantId);
  });

  it('refuses a policy-less token whose kid no listed policy holds with policy_key_not_found', async () => {
    const token = entra().mintAccessToken({ b2cPolicy: 'B2C_1_passwordreset', scopes: ['demo.read'], claims: { tfp: undefined } });
    expectInvalidToken(await me(app.url(), token), 'policy_key_not_found');
  });

  it('refuses a tampered policy-less token with invalid_signature', async () => {
    const token = entra().mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read'], claims: { tfp: undefined } });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scp: 'demo.write' })).toString('base64url')}.${signature}`;
    expectInvalidToken(await me(app.url(), tampered), 'invalid_signature');
  });

  it('refuses a workforce token of the same tenant', async () => {
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ scopes: SCOPES })), 'invalid_issuer');
  });

  it('also reads an authority that ends before the policy, fetching only the listed policies', async () => {
    entra().resetRequests();
    const { app: other, url } = await probeApp('express', {
      authority: `${entra().authorityHost}/${entra().b2cDomain}`,
      policies: [PROFILE],
      clientId: entra().clientId,
      warmUp: false,
    });
    try {
      expectOk(await me(url, entra().mintAccessToken({ b2cPolicy: PROFILE, scopes: ['demo.read'] })));
      expectInvalidToken(await me(url, entra().mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read'] })), 'invalid_issuer');
      const fetched = entra().requests.map((request) => request.path.toLowerCase());
      expect(fetched.length).toBeGreaterThan(0);
      expect(fetched.every((path) => path.startsWith(`/${entra().b2cDomain}/${PROFILE.toLowerCase()}/`))).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('External ID (CIAM)', () => {
  const entra = emulatorFor({ v2IssuerTemplate: 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0' });
  const app = probeAppFor(() => ({ authority: `${entra().authorityHost}/${entra().tenantId}/v2.0`, clientId: entra().clientId, warmUp: false }));

  it('accepts a v2 token with the ciamlogin issuer', async () => {
    const token = entra().mintAccessToken({ scopes: SCOPES });
    expect(decodeJwtUnverified(token).payload.iss).toBe(`https://${entra().tenantId}.ciamlogin.com/${entra().tenantId}/v2.0`);
    const answer = await me(app.url(), token);
    expectOk(answer);
    expect(answer.body.tid).toBe(entra().tenantId);
  });

  it('refuses a token with the workforce issuer of the same tenant', async () => {
    const token = entra().mintAccessToken({ scopes: SCOPES, issuer: `${entra().authorityHost}/${entra().tenantId}/v2.0` });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });
});

describe('sovereign cloud: China v1 issuer', () => {
  const entra = emulatorFor({ v1IssuerHost: 'https://sts.chinacloudapi.cn' });
  const app = probeAppFor(() => emulatorOptions(entra()));

  it('accepts a v1 token issued by sts.chinacloudapi.cn', async () => {
    const token = entra().mintAccessToken({ version: 1, scopes: SCOPES });
    expect(decodeJwtUnverified(token).payload.iss).toBe(`https://sts.chinacloudapi.cn/${entra().tenantId}/`);
    expectOk(await me(app.url(), token));
  });

  it('refuses a v1 token issued by the public cloud', async () => {
    const token = entra().mintAccessToken({ version: 1, scopes: SCOPES, issuer: `https://sts.windows.net/${entra().tenantId}/` });
    expectInvalidToken(await me(app.url(), token), 'invalid_issuer');
  });
});

describe('sovereign cloud: authority hosts', () => {
  it.each(['https://login.microsoftonline.us', 'https://login.partner.microsoftonline.cn'])(
    'starts with authorityHost %s (no network: warm-up off, no token sent)',
    async (authorityHost) => {
      const { app, url } = await probeApp('express', { tenantId: TENANT_A, clientId: ENTRA_EMULATOR_DEFAULTS.clientId, authorityHost, warmUp: false });
      try {
        expect((await call(`${url}/api/open`)).status).toBe(200);
        const answer = await me(url);
        expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_missing' });
      } finally {
        await app.close();
      }
    },
  );

  it('refuses a sovereign host over plain http', async () => {
    const start = async () => probeApp('express', { tenantId: TENANT_A, clientId: ENTRA_EMULATOR_DEFAULTS.clientId, authorityHost: 'http://login.microsoftonline.us', warmUp: false });
    await expect(start()).rejects.toThrow(/authorityHost/);
  });
});

describe('guests', () => {
  const entra = emulatorFor();
  const members = probeAppFor(() => emulatorOptions(entra(), { allowGuestUsers: false }));
  const everyone = probeAppFor(() => emulatorOptions(entra()));

  it('allowGuestUsers: false refuses a guest (acct 1) with 403 guest_not_allowed', async () => {
    expectForbidden(await me(members.url(), entra().mintAccessToken({ kind: 'guest', scopes: SCOPES })), 'guest_not_allowed');
    expectForbidden(await me(members.url(), entra().mintAccessToken({ kind: 'guest', scopes: SCOPES, version: 1 })), 'guest_not_allowed');
  });

  it('allowGuestUsers: false refuses a user whose idp is not the issuer', async () => {
    const token = entra().mintAccessToken({ scopes: SCOPES, claims: { idp: `https://sts.windows.net/${TENANT_B}/` } });
    expectForbidden(await me(members.url(), token), 'guest_not_allowed');
  });

  it('allowGuestUsers: false accepts members and app-only callers', async () => {
    expectOk(await me(members.url(), entra().mintAccessToken({ scopes: SCOPES })));
    // A v1 app-only token names its own tenant as idp: that is no guest.
    expectOk(await me(members.url(), entra().mintAccessToken({ kind: 'app', version: 1, roles: ['Todolist.Read.All'] })));
  });

  it('by default accepts a guest and marks the principal', async () => {
    const answer = await me(everyone.url(), entra().mintAccessToken({ kind: 'guest', scopes: SCOPES }));
    expectOk(answer);
    expect(answer.body.guest).toBe(true);
  });
});

describe('several authorities in one app: a workforce tenant and a B2C tenant', () => {
  const entraA = emulatorFor({ tenantId: TENANT_A });
  const entraB = emulatorFor({ tenantId: TENANT_B, clientId: 'b7e6d5c4-3b2a-4190-8f7e-6d5c4b3a2910' });
  const app = probeAppFor(() => ({
    warmUp: false,
    authorities: [
      { tenantId: entraA().tenantId, clientId: entraA().clientId, authorityHost: entraA().authorityHost },
      { authority: entraB().b2cAuthority(), policies: [SIGN_UP], clientId: entraB().clientId },
    ],
  }));

  it("accepts B's token without fetching A's keys", async () => {
    entraA().resetRequests();
    const answer = await me(app.url(), entraB().mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read'] }));
    expectOk(answer);
    expect(answer.body.tid).toBe(TENANT_B);
    expect(entraA().requestCount('keys')).toBe(0);
    expect(entraB().requestCount('keys')).toBe(1);
  });

  it("accepts A's tokens (v2 and v1)", async () => {
    const answer = await me(app.url(), entraA().mintAccessToken({ scopes: SCOPES }));
    expectOk(answer);
    expect(answer.body.tid).toBe(TENANT_A);
    expectOk(await me(app.url(), entraA().mintAccessToken({ scopes: SCOPES, version: 1 })));
  });

  it("refuses A's claims signed by B's key", async () => {
    const { header, payload } = decodeJwtUnverified(entraA().mintAccessToken({ scopes: SCOPES }));
    const bKid = entraB().b2cPolicyKid(SIGN_UP);
    // A's kid: A's key decides, and the signature is not its.
    expectInvalidToken(await me(app.url(), entraB().sign(header, payload, { kid: bKid })), 'invalid_signature');
    // B's kid: routed by iss to A, whose keys never include B's.
    expectInvalidToken(await me(app.url(), entraB().sign({ ...header, kid: bKid }, payload, { kid: bKid })), 'signing_key_not_found');
  });

  it("refuses B's claims signed by A's key", async () => {
    const { header, payload } = decodeJwtUnverified(entraB().mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read'] }));
    const aKid = entraA().signingKid;
    expectInvalidToken(await me(app.url(), entraA().sign(header, payload, { kid: aKid })), 'invalid_signature');
    expectInvalidToken(await me(app.url(), entraA().sign({ ...header, kid: aKid }, payload, { kid: aKid })), 'signing_key_not_found');
  });

  it("refuses A's token for B's audience and B's token for A's audience", async () => {
    expectInvalidToken(await me(app.url(), entraA().mintAccessToken({ scopes: SCOPES, audience: entraB().clientId })), 'invalid_audience');
    const bForA = entraB().mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read'], audience: entraA().clientId });
    expectInvalidToken(await me(app.url(), bForA), 'invalid_audience');
  });

  it('refuses a token of neither authority', async () => {
    expectInvalidToken(await me(app.url(), entraA().mintAccessToken({ scopes: SCOPES, tenantId: MSA_TENANT })), 'invalid_issuer');
  });
});

describe('overlapping authorities: a multi-tenant entry and a tenant of its own', () => {
  const entra = emulatorFor();
  const OTHER_CLIENT = '0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f';
  const app = probeAppFor(() => ({
    warmUp: false,
    authorities: [
      // Listed first, and its {tenantid} template matches the tenant's tokens too...
      { ...emulatorOptions(entra(), { tenantId: 'organizations', allowedTenants: [entra().tenantId] }) },
      // ...but the tenant's own entry, with its exact issuer, decides its tokens.
      { ...emulatorOptions(entra(), { allowedClientApps: [entra().clientAppId] }) },
    ],
  }));

  it("applies the tenant's own entry (its client allow-list) to the tenant's tokens", async () => {
    expectOk(await me(app.url(), entra().mintAccessToken({ scopes: SCOPES })));
    expectForbidden(await me(app.url(), entra().mintAccessToken({ scopes: SCOPES, clientAppId: OTHER_CLIENT })), 'client_not_allowed');
    expectForbidden(await me(app.url(), entra().mintAccessToken({ version: 1, scopes: SCOPES, clientAppId: OTHER_CLIENT })), 'client_not_allowed');
  });

  it('still gives the multi-tenant entry the tokens of its other tenants', async () => {
    expectInvalidToken(await me(app.url(), entra().mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, clientAppId: OTHER_CLIENT })), 'tenant_not_allowed');
  });
});

describe('B2C and External ID callers are users unless the token proves otherwise', () => {
  const entra = emulatorFor();
  const app = probeAppFor(() => ({
    authority: entra().b2cAuthority(),
    policies: [SIGN_UP],
    clientId: entra().clientId,
    warmUp: false,
    allowTokensWithoutPermissions: true,
  }));
  /** A B2C user token as B2C writes it by default: sub is the object id, no scp. */
  const b2cUser = (extra: Record<string, unknown> = {}) => {
    const oid = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    return entra().mintAccessToken({ b2cPolicy: SIGN_UP, oid, sub: oid, includeIdtyp: false, claims: { scp: undefined, ...extra } });
  };

  it('does not class a user without scp whose oid equals sub as app-only', async () => {
    const token = b2cUser({ roles: ['Todolist.Read.All'] });
    const { payload } = decodeJwtUnverified(token);
    expect(payload.oid).toBe(payload.sub);
    expect(payload).not.toHaveProperty('scp');
    const answer = await me(app.url(), token);
    expectOk(answer);
    expect(answer.body.appOnly).toBe(false);
    // A user's app role is not an app permission: the daemon-only route refuses it.
    expectForbidden(await call(`${app.url()}/api/daemon-only`, { token }), 'insufficient_permissions');
  });

  it('classes a token as app-only when it says so (idtyp app)', async () => {
    const answer = await me(app.url(), b2cUser({ idtyp: 'app', roles: ['Todolist.Read.All'] }));
    expectOk(answer);
    expect(answer.body.appOnly).toBe(true);
  });

  it('classes a client-credentials token (client secret, no user claims) as app-only', async () => {
    const clientCredentials = (claims: Record<string, unknown>) => entra().mintAccessToken({ b2cPolicy: SIGN_UP, kind: 'app', roles: ['Todolist.Read.All'], claims });
    const answer = await me(app.url(), clientCredentials({ azpacr: '1' }));
    expectOk(answer);
    expect(answer.body.appOnly).toBe(true);
    // Without the client's authentication in the token, oid == sub and no scp prove nothing in B2C.
    expect((await me(app.url(), clientCredentials({}))).body.appOnly).toBe(false);
  });
});
