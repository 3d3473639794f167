import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { CONSUMERS_TENANT_ID } from './emulator-defaults.js';
import { EntraEmulator, ENTRA_EMULATOR_DEFAULTS, base64UrlEncode, decodeJwtUnverified } from './index.js';

type Jwk = JsonWebKey & { kid: string; x5t: string; use: string; issuer?: string };

const OTHER_TENANT = '11111111-2222-4333-8444-555555555555';

async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

async function getKeys(url: string): Promise<Jwk[]> {
  return (await getJson<{ keys: Jwk[] }>(url)).body.keys;
}

/** Verifies like a relying party would: pick the JWK by `kid`, check the RS256 signature. */
function verifiesWith(token: string, keys: Jwk[]): boolean {
  // Only the header is parsed: sign() may have signed a payload that is not JSON.
  const [headerPart = '', payloadPart = '', signature = ''] = token.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { kid?: string };
  const signingInput = `${headerPart}.${payloadPart}`;
  const jwk = keys.find((key) => key.kid === header.kid);
  if (jwk === undefined) {
    return false;
  }
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  return verify('sha256', Buffer.from(signingInput), publicKey, Buffer.from(signature, 'base64url'));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('EntraEmulator', () => {
  let entra: EntraEmulator;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });

  afterAll(async () => {
    await entra.stop();
  });

  afterEach(() => {
    entra.setFault('all', null);
  });

  describe('identity', () => {
    it('listens on loopback with a random port and documented fixed ids', () => {
      expect(entra.authorityHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(entra.authorityHost).not.toMatch(/:0$/);
      expect(entra.tenantId).toBe(ENTRA_EMULATOR_DEFAULTS.tenantId);
      expect(entra.clientId).toBe(ENTRA_EMULATOR_DEFAULTS.clientId);
      expect(entra.clientAppId).toBe(ENTRA_EMULATOR_DEFAULTS.clientAppId);
      expect(entra.clientAppId).not.toBe(entra.clientId);
    });

    it('formats issuers and metadata URLs', () => {
      expect(entra.v2Issuer()).toBe(`${entra.authorityHost}/${entra.tenantId}/v2.0`);
      expect(entra.v2Issuer(OTHER_TENANT)).toBe(`${entra.authorityHost}/${OTHER_TENANT}/v2.0`);
      expect(entra.v1Issuer()).toBe(`https://sts.windows.net/${entra.tenantId}/`);
      expect(entra.v2MetadataUrl()).toBe(`${entra.authorityHost}/${entra.tenantId}/v2.0/.well-known/openid-configuration`);
      expect(entra.v1MetadataUrl('common', 'app-1')).toBe(
        `${entra.authorityHost}/common/.well-known/openid-configuration?appid=app-1`,
      );
    });

    it('refuses a tenant id that is not a GUID', async () => {
      await expect(EntraEmulator.start({ tenantId: 'contoso.onmicrosoft.com' })).rejects.toThrow(/tenantId/);
    });

    it('formats B2C authorities and issuers', () => {
      expect(entra.b2cDomain).toBe('contoso.onmicrosoft.com');
      expect(entra.b2cAuthority()).toBe(`${entra.authorityHost}/contoso.onmicrosoft.com/{policy}/v2.0`);
      expect(entra.b2cAuthority('B2C_1_signupsignin')).toBe(`${entra.authorityHost}/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0`);
      expect(entra.b2cIssuer()).toBe(`${entra.authorityHost}/${entra.tenantId}/v2.0/`);
      expect(() => entra.b2cAuthority('no/slashes')).toThrow(/policy/);
    });

    it('refuses a v2 issuer template without {tenantid} and a B2C tenant name that is not a DNS label', async () => {
      await expect(EntraEmulator.start({ v2IssuerTemplate: 'https://issuer.example/v2.0' })).rejects.toThrow(/v2IssuerTemplate/);
      await expect(EntraEmulator.start({ b2cTenantName: 'contoso.onmicrosoft.com' })).rejects.toThrow(/b2cTenantName/);
    });
  });

  describe('v2 metadata', () => {
    it('is shaped like Entra for a GUID tenant', async () => {
      const { status, headers, body } = await getJson(entra.v2MetadataUrl());
      const base = `${entra.authorityHost}/${entra.tenantId}`;
      expect(status).toBe(200);
      expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(headers.get('cache-control')).toBe('max-age=86400, private');
      expect(body).toMatchObject({
        issuer: entra.v2Issuer(),
        jwks_uri: `${base}/discovery/v2.0/keys`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        kerberos_endpoint: `${base}/kerberos`,
        id_token_signing_alg_values_supported: ['RS256'],
        request_uri_parameter_supported: false,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
      for (const field of [
        'token_endpoint_auth_methods_supported',
        'response_modes_supported',
        'subject_types_supported',
        'response_types_supported',
        'scopes_supported',
        'userinfo_endpoint',
        'claims_supported',
        'tenant_region_scope',
      ]) {
        expect(body).toHaveProperty(field);
      }
    });

    it('serves any GUID tenant with that tenant as issuer', async () => {
      const { body } = await getJson(entra.v2MetadataUrl(OTHER_TENANT));
      expect(body.issuer).toBe(entra.v2Issuer(OTHER_TENANT));
    });

    it('answers a verified domain with the emulator tenant', async () => {
      const { body } = await getJson(entra.v2MetadataUrl('contoso.onmicrosoft.com'));
      expect(body.issuer).toBe(entra.v2Issuer());
      expect(body.jwks_uri).toBe(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`);
    });

    it.each(['common', 'organizations'])('gives %s the {tenantid} issuer template', async (tenant) => {
      const { body } = await getJson(entra.v2MetadataUrl(tenant));
      expect(body.issuer).toBe(`${entra.authorityHost}/{tenantid}/v2.0`);
      expect(body.jwks_uri).toBe(`${entra.authorityHost}/${tenant}/discovery/v2.0/keys`);
      expect(body.token_endpoint).toBe(`${entra.authorityHost}/${tenant}/oauth2/v2.0/token`);
      expect(body.tenant_region_scope).toBeNull();
    });

    it('gives consumers the Microsoft account tenant as issuer', async () => {
      const { body } = await getJson(entra.v2MetadataUrl('consumers'));
      expect(body.issuer).toBe(`${entra.authorityHost}/${CONSUMERS_TENANT_ID}/v2.0`);
    });

    it('carries ?appid into jwks_uri', async () => {
      const { body } = await getJson(entra.v2MetadataUrl(entra.tenantId, entra.clientId));
      expect(body.jwks_uri).toBe(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys?appid=${entra.clientId}`);
    });
  });

  describe('v1 metadata', () => {
    it('is shaped like Entra for a GUID tenant', async () => {
      const { status, headers, body } = await getJson(entra.v1MetadataUrl());
      const base = `${entra.authorityHost}/${entra.tenantId}`;
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('max-age=86400, private');
      expect(body).toMatchObject({
        issuer: `https://sts.windows.net/${entra.tenantId}/`,
        jwks_uri: `${base}/discovery/keys`,
        authorization_endpoint: `${base}/oauth2/authorize`,
        token_endpoint: `${base}/oauth2/token`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
      expect(body).toHaveProperty('microsoft_multi_refresh_token', true);
    });

    it('gives common the {tenantid} template and carries ?appid', async () => {
      const { body } = await getJson(entra.v1MetadataUrl('common', 'my-app'));
      expect(body.issuer).toBe('https://sts.windows.net/{tenantid}/');
      expect(body.jwks_uri).toBe(`${entra.authorityHost}/common/discovery/keys?appid=my-app`);
    });

    it('uses the configured v1 issuer host', async () => {
      const china = await EntraEmulator.start({ v1IssuerHost: 'https://sts.chinacloudapi.cn/' });
      try {
        const { body } = await getJson(china.v1MetadataUrl());
        expect(body.issuer).toBe(`https://sts.chinacloudapi.cn/${china.tenantId}/`);
        expect(china.v1Issuer()).toBe(body.issuer);
      } finally {
        await china.stop();
      }
    });
  });

  describe('keys', () => {
    it('v2 keys carry the {tenantid} issuer template and Entra fields', async () => {
      const response = await fetch(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`);
      expect(response.headers.get('cache-control')).toBe('max-age=86400, private');
      const { keys } = (await response.json()) as { keys: Jwk[] };
      expect(keys.map((key) => key.kid)).toEqual(entra.publishedKids());
      expect(keys[0]).toEqual({
        kty: 'RSA',
        use: 'sig',
        kid: entra.signingKid,
        x5t: entra.signingKid,
        n: expect.any(String),
        e: 'AQAB',
        issuer: `${entra.authorityHost}/{tenantid}/v2.0`,
      });
      // 2048-bit modulus: 256 bytes.
      expect(Buffer.from(keys[0]!.n!, 'base64url')).toHaveLength(256);
    });

    it('v1 keys have no issuer', async () => {
      const keys = await getKeys(`${entra.authorityHost}/common/discovery/keys`);
      expect(keys.map((key) => key.kid)).toEqual(entra.publishedKids());
      expect(keys[0]).not.toHaveProperty('issuer');
      expect(keys[0]).toHaveProperty('x5t', entra.signingKid);
    });

    it('answers 404 JSON for anything else', async () => {
      for (const path of ['/', `/${entra.tenantId}/oauth2/v2.0/devicecode`, `/${entra.tenantId}/oauth2/token`, '/not a tenant/discovery/keys']) {
        const { status, body } = await getJson(`${entra.authorityHost}${path}`);
        expect(status).toBe(404);
        expect(body).toEqual({ error: 'not_found' });
      }
      const post = await fetch(entra.v2MetadataUrl(), { method: 'POST' });
      expect(post.status).toBe(404);
    });
  });

  describe('External ID (v2IssuerTemplate)', () => {
    const CIAM_TEMPLATE = 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0';
    let ciam: EntraEmulator;

    beforeAll(async () => {
      ciam = await EntraEmulator.start({ v2IssuerTemplate: CIAM_TEMPLATE });
    });

    afterAll(async () => {
      await ciam.stop();
    });

    it('fills every {tenantid} of the template in issuers', () => {
      expect(ciam.v2IssuerTemplate).toBe(CIAM_TEMPLATE);
      expect(ciam.v2Issuer()).toBe(`https://${ciam.tenantId}.ciamlogin.com/${ciam.tenantId}/v2.0`);
      expect(ciam.v2Issuer(OTHER_TENANT)).toBe(`https://${OTHER_TENANT}.ciamlogin.com/${OTHER_TENANT}/v2.0`);
      // The default template is the workforce one, on the emulator's own host.
      expect(entra.v2IssuerTemplate).toBe(`${entra.authorityHost}/{tenantid}/v2.0`);
    });

    it('v2 metadata, v2 keys and minted v2 tokens follow the template', async () => {
      const { body } = await getJson(ciam.v2MetadataUrl());
      expect(body.issuer).toBe(ciam.v2Issuer());
      // Only the issuer changes: endpoints stay on the host the metadata was fetched from.
      expect(body.jwks_uri).toBe(`${ciam.authorityHost}/${ciam.tenantId}/discovery/v2.0/keys`);
      expect((await getJson(ciam.v2MetadataUrl('organizations'))).body.issuer).toBe(CIAM_TEMPLATE);

      const keys = await getKeys(body.jwks_uri as string);
      expect(keys.map((key) => key.issuer)).toEqual([CIAM_TEMPLATE]);

      const token = ciam.mintAccessToken({ scopes: ['Todolist.Read'] });
      expect(decodeJwtUnverified(token).payload.iss).toBe(body.issuer);
      expect(verifiesWith(token, keys)).toBe(true);
    });

    it('leaves v1 issuers alone', async () => {
      const { body } = await getJson(ciam.v1MetadataUrl());
      expect(body.issuer).toBe(`https://sts.windows.net/${ciam.tenantId}/`);
      expect(decodeJwtUnverified(ciam.mintAccessToken({ version: 1 })).payload.iss).toBe(body.issuer);
    });
  });

  describe('B2C', () => {
    const SIGN_UP = 'B2C_1_signupsignin';
    const PROFILE = 'B2C_1_profile';
    const b2cUrl = (policy: string, what: 'metadata' | 'keys', emulator: EntraEmulator = entra): string =>
      `${emulator.authorityHost}/${emulator.b2cDomain}/${policy}/${
        what === 'metadata' ? 'v2.0/.well-known/openid-configuration' : 'discovery/v2.0/keys'
      }`;

    it('serves policy metadata shaped like B2C', async () => {
      const { status, headers, body } = await getJson(b2cUrl(SIGN_UP, 'metadata'));
      const base = `${entra.authorityHost}/contoso.onmicrosoft.com/b2c_1_signupsignin`;
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('max-age=86400, private');
      expect(body).toEqual({
        issuer: `${entra.authorityHost}/${entra.tenantId}/v2.0/`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: expect.any(Array),
        response_types_supported: expect.any(Array),
        scopes_supported: ['openid'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: expect.any(Array),
        claims_supported: expect.arrayContaining(['tfp', 'acr', 'oid', 'sub']),
      });
      expect(body.issuer).toBe(entra.b2cIssuer());
      // The authority an API is configured with leads to this document.
      expect(`${entra.b2cAuthority(SIGN_UP)}/.well-known/openid-configuration`).toBe(b2cUrl(SIGN_UP, 'metadata'));
    });

    it('gives each policy its own key, without issuer, and treats policy names without case', async () => {
      const signUp = await getKeys(b2cUrl(SIGN_UP, 'keys'));
      const profile = await getKeys(b2cUrl(PROFILE, 'keys'));
      expect(signUp).toEqual([
        { kid: entra.b2cPolicyKid(SIGN_UP), nbf: expect.any(Number), use: 'sig', kty: 'RSA', e: 'AQAB', n: expect.any(String) },
      ]);
      expect(profile.map((key) => key.kid)).toEqual([entra.b2cPolicyKid(PROFILE)]);
      expect(entra.b2cPolicyKid(PROFILE)).not.toBe(entra.b2cPolicyKid(SIGN_UP));
      expect(entra.publishedKids()).not.toContain(entra.b2cPolicyKid(SIGN_UP));
      expect(entra.b2cPolicyKid('b2c_1_SIGNUPSIGNIN')).toBe(entra.b2cPolicyKid(SIGN_UP));
      expect(await getKeys(b2cUrl('b2c_1_signupsignin', 'keys'))).toEqual(signUp);
      expect((await getJson(b2cUrl('B2C_1_SIGNUPSIGNIN', 'metadata'))).body.jwks_uri).toBe(
        (await getJson(b2cUrl(SIGN_UP, 'metadata'))).body.jwks_uri,
      );
    });

    it('keeps workforce routes of a domain tenant apart from B2C routes', async () => {
      const workforce = await getJson(entra.v2MetadataUrl(entra.b2cDomain));
      expect(workforce.body.issuer).toBe(entra.v2Issuer());
      const workforceKeys = await getKeys(`${entra.authorityHost}/${entra.b2cDomain}/discovery/v2.0/keys`);
      expect(workforceKeys.map((key) => key.kid)).toEqual(entra.publishedKids());
      // A policy path under a domain that is not the B2C tenant is nothing.
      expect((await getJson(`${entra.authorityHost}/fabrikam.onmicrosoft.com/${SIGN_UP}/v2.0/.well-known/openid-configuration`)).status).toBe(404);
      expect((await getJson(`${entra.authorityHost}/${entra.b2cDomain}/${SIGN_UP}/oauth2/v2.0/token`)).status).toBe(404);
    });

    it('serves the B2C tenant name it is given', async () => {
      const fabrikam = await EntraEmulator.start({ b2cTenantName: 'Fabrikam' });
      try {
        expect(fabrikam.b2cDomain).toBe('fabrikam.onmicrosoft.com');
        expect(fabrikam.b2cAuthority(SIGN_UP)).toBe(`${fabrikam.authorityHost}/fabrikam.onmicrosoft.com/${SIGN_UP}/v2.0`);
        expect((await getJson(b2cUrl(SIGN_UP, 'metadata', fabrikam))).body.issuer).toBe(fabrikam.b2cIssuer());
        expect((await getJson(`${fabrikam.authorityHost}/contoso.onmicrosoft.com/${SIGN_UP}/discovery/v2.0/keys`)).status).toBe(404);
      } finally {
        await fabrikam.stop();
      }
    });

    it('publishes only the b2cPolicies it is given, in any case, and answers 404 for any other', async () => {
      const tenant = await EntraEmulator.start({ b2cPolicies: [SIGN_UP] });
      try {
        expect((await getJson(b2cUrl(SIGN_UP, 'metadata', tenant))).status).toBe(200);
        expect((await getJson(b2cUrl(SIGN_UP.toUpperCase(), 'keys', tenant))).status).toBe(200);
        expect((await getJson(b2cUrl('B2C_1_profile', 'metadata', tenant))).status).toBe(404);
        expect((await getJson(b2cUrl('B2C_1_profile', 'keys', tenant))).status).toBe(404);
      } finally {
        await tenant.stop();
      }
      await expect(EntraEmulator.start({ b2cPolicies: ['not a policy'] })).rejects.toThrow(/b2cPolicies/);
    });

    it('mints B2C access tokens: tfp, ver 1.0, no tid, signed by the policy key', async () => {
      const token = entra.mintAccessToken({ b2cPolicy: SIGN_UP, scopes: ['demo.read', 'demo.write'] });
      const { header, payload } = decodeJwtUnverified(token);
      expect(header).toEqual({ alg: 'RS256', kid: entra.b2cPolicyKid(SIGN_UP), typ: 'JWT' });
      expect(payload).toMatchObject({
        iss: entra.b2cIssuer(),
        aud: entra.clientId,
        azp: entra.clientAppId,
        tfp: SIGN_UP,
        ver: '1.0',
        scp: 'demo.read demo.write',
        oid: ENTRA_EMULATOR_DEFAULTS.userObjectId,
        sub: ENTRA_EMULATOR_DEFAULTS.userObjectId,
        name: expect.any(String),
      });
      expect(payload).not.toHaveProperty('tid');
      expect(payload).not.toHaveProperty('acr');
      expect(payload.exp).toBe((payload.iat as number) + 3600);
      expect(verifiesWith(token, await getKeys(b2cUrl(SIGN_UP, 'keys')))).toBe(true);
      expect(verifiesWith(token, await getKeys(b2cUrl(PROFILE, 'keys')))).toBe(false);
      expect(verifiesWith(token, await getKeys(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`))).toBe(false);
    });

    it('names the policy in acr when asked, and honours the usual overrides', () => {
      const { payload } = decodeJwtUnverified(
        entra.mintAccessToken({ b2cPolicy: PROFILE, policyClaim: 'acr', tenantId: OTHER_TENANT, audience: 'api://x', claims: { custom: 1 } }),
      );
      expect(payload).toMatchObject({ acr: PROFILE, iss: entra.b2cIssuer(OTHER_TENANT), aud: 'api://x', custom: 1 });
      expect(payload).not.toHaveProperty('tfp');
      // Signing with another policy's key is how a test builds a token that lies about its policy.
      const lying = entra.mintAccessToken({ b2cPolicy: PROFILE, claims: { tfp: SIGN_UP } });
      expect(decodeJwtUnverified(lying).header.kid).toBe(entra.b2cPolicyKid(PROFILE));
      expect(decodeJwtUnverified(lying).payload.tfp).toBe(SIGN_UP);
    });

    it('sign() reaches a policy key by kid', async () => {
      const kid = entra.b2cPolicyKid(SIGN_UP);
      const signed = entra.sign({ alg: 'RS256', kid }, { tfp: SIGN_UP }, { kid });
      expect(verifiesWith(signed, await getKeys(b2cUrl(SIGN_UP, 'keys')))).toBe(true);
    });

    it('refuses options B2C tokens cannot have', () => {
      expect(() => entra.mintAccessToken({ b2cPolicy: SIGN_UP, version: 2 })).toThrow(/version/);
      expect(() => entra.mintAccessToken({ b2cPolicy: SIGN_UP, appId: entra.clientId })).toThrow(/appId/);
      expect(() => entra.mintAccessToken({ b2cPolicy: SIGN_UP, kind: 'guest' })).toThrow(/kind/);
      expect(() => entra.mintAccessToken({ b2cPolicy: 'a/b' })).toThrow(/policy/);
      expect(() => entra.mintAccessToken({ policyClaim: 'acr' })).toThrow(/b2cPolicy/);
    });
  });

  describe('minted tokens', () => {
    let v2Keys: Jwk[];
    let v1Keys: Jwk[];

    beforeAll(async () => {
      v2Keys = await getKeys(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`);
      v1Keys = await getKeys(`${entra.authorityHost}/${entra.tenantId}/discovery/keys`);
    });

    it("writes Entra's optional claims by name: groups, the overage markers, wids, acrs and xms_cc", () => {
      const group = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';
      const { payload } = decodeJwtUnverified(entra.mintAccessToken({ groups: [group], wids: ['62e90394-69f5-4237-9190-012177145e10'], authContexts: ['c1'], clientCapabilities: ['cp1'] }));
      expect(payload).toMatchObject({ groups: [group], wids: ['62e90394-69f5-4237-9190-012177145e10'], acrs: ['c1'], xms_cc: ['cp1'] });
      const overage = decodeJwtUnverified(entra.mintAccessToken({ version: 1, groupsOverage: true })).payload;
      expect(overage).not.toHaveProperty('groups');
      expect(overage).toMatchObject({
        _claim_names: { groups: 'src1' },
        _claim_sources: { src1: { endpoint: `https://graph.windows.net/${entra.tenantId}/users/${String(overage.oid)}/getMemberObjects` } },
      });
      expect(decodeJwtUnverified(entra.mintAccessToken({})).payload).not.toHaveProperty('_claim_names');
      expect(() => entra.mintAccessToken({ groups: [group], groupsOverage: true })).toThrow(/cannot be combined with groupsOverage/);
      expect(() => entra.mintAccessToken({ b2cPolicy: 'B2C_1_signin', groups: [group] })).toThrow(/MintOptions\.groups cannot be combined with b2cPolicy/);
    });

    it('v2 user token verifies and has v2 claims', () => {
      const before = Math.floor(Date.now() / 1000);
      const token = entra.mintAccessToken({ scopes: ['Todolist.Read', 'Todolist.ReadWrite'], roles: ['Admin'] });
      expect(verifiesWith(token, v2Keys)).toBe(true);
      const { header, payload } = decodeJwtUnverified(token);
      expect(header).toEqual({ typ: 'JWT', alg: 'RS256', kid: entra.signingKid });
      expect(payload).toMatchObject({
        aud: entra.clientId,
        iss: entra.v2Issuer(),
        ver: '2.0',
        tid: entra.tenantId,
        azp: entra.clientAppId,
        azpacr: '0',
        scp: 'Todolist.Read Todolist.ReadWrite',
        roles: ['Admin'],
        oid: ENTRA_EMULATOR_DEFAULTS.userObjectId,
        name: expect.any(String),
        preferred_username: expect.any(String),
      });
      expect(payload.sub).not.toBe(payload.oid);
      expect(payload).not.toHaveProperty('appid');
      expect(payload).not.toHaveProperty('idtyp');
      for (const claim of ['aio', 'uti', 'rh']) {
        expect(typeof payload[claim]).toBe('string');
      }
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.nbf).toBe(payload.iat);
      expect(payload.exp).toBe((payload.iat as number) + 3600);
    });

    it('v1 user token verifies and has v1 claims', () => {
      const token = entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'] });
      expect(verifiesWith(token, v1Keys)).toBe(true);
      const { header, payload } = decodeJwtUnverified(token);
      expect(header).toEqual({ typ: 'JWT', alg: 'RS256', x5t: entra.signingKid, kid: entra.signingKid });
      expect(payload).toMatchObject({
        aud: `api://${entra.clientId}`,
        iss: `https://sts.windows.net/${entra.tenantId}/`,
        ver: '1.0',
        appid: entra.clientAppId,
        appidacr: '0',
        scp: 'Todolist.Read',
        upn: expect.any(String),
        unique_name: expect.any(String),
      });
      expect(payload).not.toHaveProperty('azp');
      expect(payload).not.toHaveProperty('preferred_username');
    });

    it('omits scp and roles when not asked for', () => {
      const { payload } = decodeJwtUnverified(entra.mintAccessToken({ scopes: [] }));
      expect(payload).not.toHaveProperty('scp');
      expect(payload).not.toHaveProperty('roles');
    });

    it.each([1, 2] as const)('v%s app-only token: no scp, oid === sub, roles, idtyp app', (version) => {
      const token = entra.mintAccessToken({ version, kind: 'app', roles: ['Todolist.Read.All'], includeIdtyp: true });
      expect(verifiesWith(token, version === 2 ? v2Keys : v1Keys)).toBe(true);
      const { payload } = decodeJwtUnverified(token);
      expect(payload).not.toHaveProperty('scp');
      expect(payload).not.toHaveProperty('name');
      expect(payload.oid).toBe(ENTRA_EMULATOR_DEFAULTS.appObjectId);
      expect(payload.sub).toBe(payload.oid);
      expect(payload.roles).toEqual(['Todolist.Read.All']);
      expect(payload.idtyp).toBe('app');
      expect(payload[version === 2 ? 'azpacr' : 'appidacr']).toBe('1');
    });

    it('refuses scopes on an app-only token', () => {
      expect(() => entra.mintAccessToken({ kind: 'app', scopes: ['Todolist.Read'] })).toThrow(/scp/);
    });

    it('guest token has acct 1 and an idp from another tenant', () => {
      const { payload } = decodeJwtUnverified(entra.mintAccessToken({ kind: 'guest', includeIdtyp: true }));
      expect(payload.acct).toBe(1);
      expect(payload.idp).toBe(`https://sts.windows.net/${ENTRA_EMULATOR_DEFAULTS.guestHomeTenantId}/`);
      expect(payload.idp).not.toBe(payload.iss);
      expect(payload.idtyp).toBe('user');
      expect(payload.sub).not.toBe(payload.oid);
    });

    it('honours tenant, audience, client, lifetime, issuer, claim and header overrides', () => {
      const token = entra.mintAccessToken({
        tenantId: OTHER_TENANT,
        audience: ['a', 'b'],
        clientAppId: 'spa-id',
        oid: 'user-oid',
        issuedAt: 1_000,
        expiresInSeconds: -10,
        notBefore: 900,
        claims: { ver: undefined, custom: 'x' },
        header: { typ: undefined, nonce: 'n' },
        kid: 'made-up',
      });
      const { header, payload } = decodeJwtUnverified(token);
      expect(payload).toMatchObject({
        tid: OTHER_TENANT,
        iss: entra.v2Issuer(OTHER_TENANT),
        aud: ['a', 'b'],
        azp: 'spa-id',
        oid: 'user-oid',
        iat: 1_000,
        nbf: 900,
        exp: 990,
        custom: 'x',
      });
      expect(payload).not.toHaveProperty('ver');
      expect(header).toEqual({ alg: 'RS256', kid: 'made-up', nonce: 'n' });
      expect(decodeJwtUnverified(entra.mintAccessToken({ issuer: 'https://evil.example/' })).payload.iss).toBe(
        'https://evil.example/',
      );
    });

    it('sign() signs arbitrary objects and raw strings with RS256', () => {
      const token = entra.sign({ alg: 'none', kid: entra.signingKid }, 'not json');
      const [, payloadPart] = token.split('.');
      expect(payloadPart).toBe(base64UrlEncode('not json'));
      expect(verifiesWith(token, v2Keys)).toBe(true);
      expect(() => entra.sign({}, {}, { kid: 'nope' })).toThrow(/nope/);
    });
  });

  describe('key management', () => {
    let emulator: EntraEmulator;
    const keysUrl = (appId?: string, version: 1 | 2 = 2): string =>
      `${emulator.authorityHost}/${emulator.tenantId}/discovery/${version === 2 ? 'v2.0/' : ''}keys${
        appId ? `?appid=${appId}` : ''
      }`;

    beforeEach(async () => {
      emulator = await EntraEmulator.start();
    });

    afterEach(async () => {
      await emulator.stop();
    });

    it('rotateKeys publishes a new signing key and keeps the old one by default', async () => {
      const oldKid = emulator.signingKid;
      const oldToken = emulator.mintAccessToken();
      const newKid = emulator.rotateKeys();
      expect(newKid).not.toBe(oldKid);
      expect(emulator.signingKid).toBe(newKid);
      const keys = await getKeys(keysUrl());
      expect(keys.map((key) => key.kid).sort()).toEqual([oldKid, newKid].sort());
      const newToken = emulator.mintAccessToken();
      expect(decodeJwtUnverified(newToken).header.kid).toBe(newKid);
      expect(verifiesWith(newToken, keys)).toBe(true);
      expect(verifiesWith(oldToken, keys)).toBe(true);
    });

    it('rotateKeys({ keepPrevious: false }) unpublishes the old key', async () => {
      const oldKid = emulator.signingKid;
      const oldToken = emulator.mintAccessToken();
      const newKid = emulator.rotateKeys({ keepPrevious: false });
      expect(emulator.publishedKids()).toEqual([newKid]);
      const keys = await getKeys(keysUrl());
      expect(keys.map((key) => key.kid)).toEqual([newKid]);
      expect(verifiesWith(oldToken, keys)).toBe(false);
      // The old key can still sign on request, for tests of tokens from a retired key.
      expect(decodeJwtUnverified(emulator.sign({ kid: oldKid }, {}, { kid: oldKid })).header.kid).toBe(oldKid);
    });

    it('removeKey unpublishes a key that still signs', async () => {
      const kid = emulator.signingKid;
      emulator.removeKey(kid);
      expect(emulator.publishedKids()).toEqual([]);
      expect(await getKeys(keysUrl())).toEqual([]);
      expect(decodeJwtUnverified(emulator.mintAccessToken()).header.kid).toBe(kid);
      expect(() => emulator.removeKey(kid)).toThrow(kid);
    });

    it('an unpublished key signs tokens the JWKS cannot verify', async () => {
      const unpublished = emulator.createUnpublishedKey();
      const token = emulator.mintAccessToken({ privateKey: unpublished.privateKey });
      expect(decodeJwtUnverified(token).header.kid).toBe(unpublished.kid);
      const keys = await getKeys(keysUrl());
      expect(keys.map((key) => key.kid)).not.toContain(unpublished.kid);
      expect(emulator.publishedKids()).not.toContain(unpublished.kid);
      expect(verifiesWith(token, keys)).toBe(false);
      const jwk = unpublished.publicKey.export({ format: 'jwk' });
      expect(verifiesWith(token, [{ ...jwk, kid: unpublished.kid, x5t: unpublished.kid, use: 'sig' }])).toBe(true);
    });

    it('addKey publishes a key that does not sign by default, with a custom v2 issuer when asked', async () => {
      const foreignIssuer = `https://login.microsoftonline.us/${OTHER_TENANT}/v2.0`;
      const signingKid = emulator.signingKid;
      const foreign = emulator.addKey({ issuer: foreignIssuer });
      const plain = emulator.addKey();
      expect(emulator.signingKid).toBe(signingKid);
      expect(emulator.publishedKids()).toEqual([signingKid, foreign.kid, plain.kid]);

      const v2 = await getKeys(keysUrl());
      expect(v2.map((key) => [key.kid, key.issuer])).toEqual([
        [signingKid, emulator.v2IssuerTemplate],
        [foreign.kid, foreignIssuer],
        [plain.kid, emulator.v2IssuerTemplate],
      ]);
      const v1 = await getKeys(keysUrl(undefined, 1));
      expect(v1.map((key) => key.kid)).toEqual([signingKid, foreign.kid, plain.kid]);
      expect(v1.some((key) => 'issuer' in key)).toBe(false);

      const token = emulator.mintAccessToken({ privateKey: foreign.privateKey });
      expect(decodeJwtUnverified(token).header.kid).toBe(foreign.kid);
      expect(verifiesWith(token, v2)).toBe(true);

      emulator.removeKey(foreign.kid);
      expect((await getKeys(keysUrl())).map((key) => key.kid)).toEqual([signingKid, plain.kid]);
      expect(() => emulator.addKey({ issuer: '' })).toThrow(/issuer/);
    });

    it('an app-specific key is served only under ?appid, with the tenant issuer', async () => {
      const appId = 'd0c1b2a3-9f8e-4d7c-8b6a-5f4e3d2c1b0a';
      // Before the app has its own key, ?appid serves the tenant keys.
      expect((await getKeys(keysUrl(appId))).map((key) => key.kid)).toEqual([emulator.signingKid]);

      const appKid = emulator.appSpecificKid(appId);
      expect(emulator.appSpecificKid(appId)).toBe(appKid);
      expect(appKid).not.toBe(emulator.signingKid);

      const appKeys = await getKeys(keysUrl(appId));
      expect(appKeys.map((key) => key.kid)).toEqual([appKid]);
      expect(appKeys[0]!.issuer).toBe(emulator.v2Issuer());
      expect((await getKeys(keysUrl(appId, 1)))[0]).not.toHaveProperty('issuer');

      const tenantKeys = await getKeys(keysUrl());
      expect(tenantKeys.map((key) => key.kid)).not.toContain(appKid);
      expect(emulator.publishedKids()).not.toContain(appKid);

      const token = emulator.mintAccessToken({ appId });
      expect(decodeJwtUnverified(token).header.kid).toBe(appKid);
      expect(verifiesWith(token, appKeys)).toBe(true);
      expect(verifiesWith(token, tenantKeys)).toBe(false);
    });
  });

  describe('request log and faults', () => {
    beforeEach(() => {
      entra.resetRequests();
    });

    it('records and counts requests by kind', async () => {
      const before = Date.now();
      await fetch(entra.v2MetadataUrl());
      await fetch(entra.v1MetadataUrl('common'));
      await fetch(`${entra.authorityHost}/common/discovery/v2.0/keys?appid=x`);
      await fetch(`${entra.authorityHost}/nowhere`);
      expect(entra.requestCount('metadata')).toBe(2);
      expect(entra.requestCount('keys')).toBe(1);
      expect(entra.requestCount()).toBe(4);
      expect(entra.requests.map(({ method, path, kind }) => ({ method, path, kind }))).toEqual([
        { method: 'GET', path: `/${entra.tenantId}/v2.0/.well-known/openid-configuration`, kind: 'metadata' },
        { method: 'GET', path: '/common/.well-known/openid-configuration', kind: 'metadata' },
        { method: 'GET', path: '/common/discovery/v2.0/keys?appid=x', kind: 'keys' },
        { method: 'GET', path: '/nowhere', kind: 'other' },
      ]);
      expect(entra.requests[0]!.at).toBeGreaterThanOrEqual(before);
      entra.resetRequests();
      expect(entra.requestCount()).toBe(0);
    });

    it('records B2C routes as metadata and keys, and applies faults to them', async () => {
      const policyPath = `/${entra.b2cDomain}/B2C_1_signupsignin`;
      await fetch(`${entra.authorityHost}${policyPath}/v2.0/.well-known/openid-configuration`);
      await fetch(`${entra.authorityHost}${policyPath}/discovery/v2.0/keys`);
      expect(entra.requests.map(({ path, kind }) => ({ path, kind }))).toEqual([
        { path: `${policyPath}/v2.0/.well-known/openid-configuration`, kind: 'metadata' },
        { path: `${policyPath}/discovery/v2.0/keys`, kind: 'keys' },
      ]);
      entra.setFault('keys', { status: 503 });
      expect((await fetch(`${entra.authorityHost}${policyPath}/discovery/v2.0/keys`)).status).toBe(503);
      expect((await fetch(`${entra.authorityHost}${policyPath}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
      entra.setFault('metadata', { destroy: true });
      await expect(fetch(`${entra.authorityHost}${policyPath}/v2.0/.well-known/openid-configuration`)).rejects.toThrow();
      expect(entra.requestCount('keys')).toBe(2);
      expect(entra.requestCount('metadata')).toBe(3);
    });

    it('a status fault answers that status, only on its kind, and is still counted', async () => {
      entra.setFault('keys', { status: 503 });
      const keys = await fetch(`${entra.authorityHost}/common/discovery/v2.0/keys`);
      expect(keys.status).toBe(503);
      expect(((await keys.json()) as { error: string }).error).toBe('emulated_fault');
      expect((await fetch(entra.v2MetadataUrl())).status).toBe(200);
      expect(entra.requestCount('keys')).toBe(1);

      entra.setFault('keys', null);
      expect((await fetch(`${entra.authorityHost}/common/discovery/v2.0/keys`)).status).toBe(200);
    });

    it("'all' faults both metadata and keys", async () => {
      entra.setFault('all', { status: 500 });
      expect((await fetch(entra.v2MetadataUrl())).status).toBe(500);
      expect((await fetch(`${entra.authorityHost}/common/discovery/keys`)).status).toBe(500);
      expect((await fetch(`${entra.authorityHost}/nowhere`)).status).toBe(404);
    });

    it('a delay fault delays the answer', async () => {
      entra.setFault('metadata', { delayMs: 400 });
      const started = Date.now();
      const response = await fetch(entra.v2MetadataUrl());
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(380);
      expect(entra.requestCount('metadata')).toBe(1);
    });

    it('a destroy fault resets the connection', async () => {
      entra.setFault('metadata', { destroy: true });
      await expect(fetch(entra.v2MetadataUrl())).rejects.toThrow();
      expect(entra.requestCount('metadata')).toBe(1);
    });

    it('refuses a malformed fault', () => {
      expect(() => entra.setFault('keys', { status: 42 })).toThrow(/status/);
      expect(() => entra.setFault('keys', { delayMs: -1 })).toThrow(/delayMs/);
    });
  });

  describe('stop()', () => {
    it('is idempotent and refuses later connections', async () => {
      const emulator = await EntraEmulator.start();
      const first = emulator.stop();
      const second = emulator.stop();
      expect(second).toBe(first);
      await first;
      await emulator.stop();
      await expect(fetch(emulator.v2MetadataUrl())).rejects.toThrow();
    });

    it('closes idle keep-alive sockets', async () => {
      const emulator = await EntraEmulator.start();
      const agent = new Agent({ keepAlive: true });
      try {
        // Wrapped in an object: resolving with a bare promise would wait for the socket to close.
        const { socketClosed } = await new Promise<{ socketClosed: Promise<void> }>((resolve, reject) => {
          const req = httpRequest(emulator.v2MetadataUrl(), { agent }, (res) => {
            const closed = new Promise<void>((onClose) => res.socket.once('close', () => onClose()));
            res.resume();
            res.once('end', () => resolve({ socketClosed: closed }));
          });
          req.once('error', reject);
          req.end();
        });
        await withTimeout(emulator.stop(), 2_000, 'stop()');
        await withTimeout(socketClosed, 2_000, 'keep-alive socket close');
      } finally {
        agent.destroy();
      }
    });

    it('does not wait for answers held back by a delay fault', async () => {
      const emulator = await EntraEmulator.start();
      emulator.setFault('keys', { delayMs: 60_000 });
      const pending = fetch(`${emulator.authorityHost}/common/discovery/keys`);
      const outcome = pending.then(
        () => 'answered',
        () => 'rejected',
      );
      const deadline = Date.now() + 2_000;
      while (emulator.requestCount('keys') === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(emulator.requestCount('keys')).toBe(1);
      await withTimeout(emulator.stop(), 2_000, 'stop()');
      expect(await withTimeout(outcome, 2_000, 'the pending fetch')).toBe('rejected');
    });
  });
});
