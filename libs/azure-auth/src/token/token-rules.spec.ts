import { resolveAzureAuthOptions, type ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import type { DiscoveredAuthority, IssuerRoute } from '../metadata/authority-metadata.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';
import {
  checkAlgorithm,
  checkAudience,
  checkClaimTypes as checkClaimShapes,
  checkIssuer,
  checkKeyIssuer,
  checkLifetime,
  checkNotForGraph,
  checkPolicy,
  checkTenant,
  checkVersion,
  isGraphToken,
  type IssuedBy,
} from './token-rules.js';

type TokenRoute = IssuedBy & { readonly kid: string };

/** The rules that place a token before its key, in the verifier's order. */
function routeToken(h: JwtHeader, p: AzureAccessTokenClaims, a: DiscoveredAuthority, o: ResolvedAzureAuthOptions): TokenRoute {
  const withOptions = { ...a, options: o };
  checkNotForGraph(h, p, o.clientId);
  const kid = checkAlgorithm(h, o);
  const issued = checkIssuer(p, checkVersion(p, o), withOptions);
  const [route] = checkPolicy(p, issued, withOptions);
  return { ...issued, route, kid };
}

const tenantId = '11111111-2222-4333-8444-555555555555';
const otherTenant = '99999999-8888-4777-8666-555555555555';
const clientId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const host = 'https://login.microsoftonline.com';
const v2Issuer = (tid: string) => `${host}/${tid}/v2.0`;
const v1Issuer = (tid: string) => `https://sts.windows.net/${tid}/`;
const GRAPH_ID = '00000003-0000-0000-c000-000000000000';

function options(extra: Partial<AzureAuthModuleOptions> = {}): ResolvedAzureAuthOptions {
  return resolveAzureAuthOptions({ tenantId, clientId, authorityHost: host, ...extra });
}

function authority(v2Template: string | undefined, v1Template: string | undefined): DiscoveredAuthority {
  const routes: IssuerRoute[] = [];
  if (v2Template) routes.push({ version: '2.0', issuerTemplate: v2Template, keys: {} as never });
  if (v1Template) routes.push({ version: '1.0', issuerTemplate: v1Template, keys: {} as never });
  return { options: options(), routes, unavailable: [], v2IssuerTemplate: v2Template, fetchedAt: 0 };
}

const single = authority(v2Issuer(tenantId), v1Issuer(tenantId));
const multi = authority(`${host}/{tenantid}/v2.0`, 'https://sts.windows.net/{tenantid}/');
const multiOptions = () => options({ tenantId: 'organizations', allowAnyTenant: true });

const header = (extra: Record<string, unknown> = {}): JwtHeader => ({ typ: 'JWT', alg: 'RS256', kid: 'key-1', ...extra });
const v2 = (extra: Partial<AzureAccessTokenClaims> = {}): AzureAccessTokenClaims => ({
  aud: clientId,
  iss: v2Issuer(tenantId),
  tid: tenantId,
  ver: '2.0',
  iat: 1000,
  nbf: 1000,
  exp: 4600,
  sub: 'subject',
  oid: 'object',
  azp: 'client',
  scp: 'Todolist.Read',
  ...extra,
});
const v1 = (extra: Partial<AzureAccessTokenClaims> = {}): AzureAccessTokenClaims =>
  v2({ aud: `api://${clientId}`, iss: v1Issuer(tenantId), ver: '1.0', azp: undefined, appid: 'client', ...extra });

function caught(action: () => unknown): AzureAuthError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthError);
    return error as AzureAuthError;
  }
  throw new Error('expected an AzureAuthError, nothing was thrown');
}

async function caughtAsync(action: () => Promise<unknown>): Promise<AzureAuthError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthError);
    return error as AzureAuthError;
  }
  throw new Error('expected an AzureAuthError, nothing was thrown');
}

const reasonOfRoute = (h: JwtHeader, p: AzureAccessTokenClaims, a = single, o = options()) => caught(() => routeToken(h, p, a, o)).reason;

describe('isGraphToken', () => {
  it('is false for a token of this API', () => {
    expect(isGraphToken(header(), v2())).toBe(false);
    expect(isGraphToken(header(), v1())).toBe(false);
  });

  it('is true when the header carries a nonce', () => {
    expect(isGraphToken(header({ nonce: 'abc' }), v2())).toBe(true);
  });

  it.each([GRAPH_ID, 'https://graph.microsoft.com', 'https://graph.microsoft.com/', 'HTTPS://GRAPH.MICROSOFT.COM'])('is true for aud %s', (aud) => {
    expect(isGraphToken(header(), v2({ aud }))).toBe(true);
  });

  it('is true when one entry of an array aud is Graph', () => {
    expect(isGraphToken(header(), v2({ aud: [clientId, GRAPH_ID] }))).toBe(true);
  });
});

describe('routeToken', () => {
  it('routes a v2 token of the tenant', () => {
    const route = routeToken(header(), v2(), single, options());
    expect(route).toMatchObject({ version: '2.0', issuer: v2Issuer(tenantId), tenantId, kid: 'key-1' });
    expect(route.route).toBe(single.routes.find((r) => r.version === '2.0'));
  });

  it('routes a v1 token of the tenant', () => {
    const route = routeToken(header(), v1(), single, options());
    expect(route).toMatchObject({ version: '1.0', issuer: v1Issuer(tenantId), tenantId });
    expect(route.route).toBe(single.routes.find((r) => r.version === '1.0'));
  });

  describe('Graph tokens', () => {
    it('refuses a token whose header carries a nonce with graph_token', () => {
      const error = caught(() => routeToken(header({ nonce: 'n' }), v2(), single, options()));
      expect(error.reason).toBe('graph_token');
      expect(error.hint).toContain('User.Read');
    });

    it.each([GRAPH_ID, 'https://graph.microsoft.com'])('refuses aud %s with graph_token', (aud) => {
      expect(reasonOfRoute(header(), v2({ aud }))).toBe('graph_token');
    });

    it('says graph_token before complaining about the algorithm', () => {
      expect(reasonOfRoute(header({ alg: 'HS256', nonce: 'n' }), v2())).toBe('graph_token');
    });
  });

  describe('algorithm', () => {
    it.each(['none', 'HS256', 'RS512', 'PS256', 'ES256', 'rs256'])('refuses alg %s', (alg) => {
      expect(reasonOfRoute(header({ alg }), v2())).toBe('unsupported_algorithm');
    });

    it('refuses a header without alg', () => {
      const h = header();
      delete h.alg;
      expect(reasonOfRoute(h, v2())).toBe('unsupported_algorithm');
    });

    it('does not echo an invalid alg into the description', () => {
      const error = caught(() => routeToken(header({ alg: '<script>"x"' }), v2(), single, options()));
      expect(error.reason).toBe('unsupported_algorithm');
      expect(error.description).not.toContain('<script>');
    });
  });

  it('refuses critical header parameters as malformed_token', () => {
    expect(reasonOfRoute(header({ crit: ['exp'] }), v2())).toBe('malformed_token');
  });

  describe('kid', () => {
    it('refuses a missing kid', () => {
      const h = header();
      delete h.kid;
      expect(reasonOfRoute(h, v2())).toBe('malformed_token');
    });

    it.each([
      ['an empty string', ''],
      ['a number', 42],
      ['an object', { id: 'key-1' }],
      ['an array', ['key-1']],
    ])('refuses a kid that is %s', (_name, kid) => {
      expect(reasonOfRoute(header({ kid }), v2())).toBe('malformed_token');
    });

    it('refuses a 10 000 character kid as signing_key_not_found without looking it up', () => {
      expect(reasonOfRoute(header({ kid: 'k'.repeat(10_000) }), v2())).toBe('signing_key_not_found');
    });

    it('accepts a kid of 256 characters', () => {
      expect(routeToken(header({ kid: 'k'.repeat(256) }), v2(), single, options()).kid).toHaveLength(256);
    });
  });

  describe('ver', () => {
    it('refuses a missing ver', () => {
      expect(reasonOfRoute(header(), v2({ ver: undefined }))).toBe('invalid_claims');
    });

    it.each([['3.0'], [2], ['2'], [2.0]])('refuses ver %p', (ver) => {
      expect(reasonOfRoute(header(), v2({ ver: ver as string }))).toBe('invalid_claims');
    });

    it('refuses a v1 token when only v2 is accepted, naming requestedAccessTokenVersion', () => {
      const onlyV2 = options({ acceptedTokenVersions: ['2.0'] });
      const error = caught(() => routeToken(header(), v1(), authority(v2Issuer(tenantId), undefined), onlyV2));
      expect(error.reason).toBe('token_version_not_accepted');
      expect(error.description).toContain('1.0');
      expect(error.hint).toContain('requestedAccessTokenVersion');
    });

    it('refuses a v2 token when only v1 is accepted', () => {
      const onlyV1 = options({ acceptedTokenVersions: ['1.0'] });
      expect(reasonOfRoute(header(), v2(), authority(undefined, v1Issuer(tenantId)), onlyV1)).toBe('token_version_not_accepted');
    });
  });

  describe('issuer and tenant', () => {
    it('refuses the issuer of another tenant', () => {
      const error = caught(() => routeToken(header(), v2({ iss: v2Issuer(otherTenant), tid: otherTenant }), single, options()));
      expect(error.reason).toBe('invalid_issuer');
      expect(error.hint).toContain('another tenant');
    });

    it('refuses a v1 issuer of another tenant', () => {
      expect(reasonOfRoute(header(), v1({ iss: v1Issuer(otherTenant), tid: otherTenant }))).toBe('invalid_issuer');
    });

    it('refuses the right issuer when tid names another tenant', () => {
      const error = caught(() => routeToken(header(), v2({ tid: otherTenant }), single, options()));
      expect(error.reason).toBe('invalid_issuer');
      expect(error.hint).toContain('different tenants');
    });

    it('refuses the v2 issuer with a trailing slash', () => {
      expect(reasonOfRoute(header(), v2({ iss: `${v2Issuer(tenantId)}/` }))).toBe('invalid_issuer');
    });

    it('refuses the v1 issuer without its trailing slash', () => {
      expect(reasonOfRoute(header(), v1({ iss: `https://sts.windows.net/${tenantId}` }))).toBe('invalid_issuer');
    });

    it('refuses the issuer of another cloud', () => {
      expect(reasonOfRoute(header(), v2({ iss: `https://login.microsoftonline.us/${tenantId}/v2.0` }))).toBe('invalid_issuer');
    });

    it('refuses a v1 issuer on a token that says ver 2.0, and says so', () => {
      const error = caught(() => routeToken(header(), v2({ iss: v1Issuer(tenantId) }), single, options()));
      expect(error.reason).toBe('invalid_issuer');
      expect(error.hint).toContain('v1.0');
    });

    it('refuses an iss that is not a string', () => {
      expect(reasonOfRoute(header(), v2({ iss: 42 as unknown as string }))).toBe('invalid_claims');
    });

    it.each([['missing', undefined], ['not a GUID', 'contoso.onmicrosoft.com'], ['a number', 7]])('refuses a tid that is %s', (_name, tid) => {
      expect(reasonOfRoute(header(), v2({ tid: tid as string }))).toBe('invalid_claims');
    });

    it('fills a multi-tenant v2 template from tid and returns the tenant lowercased', () => {
      const upper = otherTenant.toUpperCase();
      const route = routeToken(header(), v2({ iss: v2Issuer(otherTenant), tid: upper }), multi, multiOptions());
      expect(route.tenantId).toBe(otherTenant);
      expect(route.issuer).toBe(v2Issuer(otherTenant));
      expect(route.version).toBe('2.0');
    });

    it('fills a multi-tenant v1 template from tid', () => {
      const route = routeToken(header(), v1({ iss: v1Issuer(otherTenant), tid: otherTenant }), multi, multiOptions());
      expect(route).toMatchObject({ version: '1.0', tenantId: otherTenant, issuer: v1Issuer(otherTenant) });
    });

    it('refuses a multi-tenant token whose iss names another tenant than tid', () => {
      expect(reasonOfRoute(header(), v2({ iss: v2Issuer(tenantId), tid: otherTenant }), multi, multiOptions())).toBe('invalid_issuer');
    });

    it('refuses the unfilled template itself as an issuer', () => {
      expect(reasonOfRoute(header(), v2({ iss: `${host}/{tenantid}/v2.0`, tid: otherTenant }), multi, multiOptions())).toBe('invalid_issuer');
    });

    it('refuses a multi-tenant token whose tid is not a GUID', () => {
      expect(reasonOfRoute(header(), v2({ iss: `${host}/common/v2.0`, tid: 'common' }), multi, multiOptions())).toBe('invalid_claims');
    });
  });
});

describe('checkClaimShapes', () => {
  it('accepts Entra-shaped claims', () => {
    expect(() => checkClaimShapes(v2({ roles: ['TaskAdmin'] }))).not.toThrow();
    expect(() => checkClaimShapes(v2({ nbf: undefined, iat: undefined }))).not.toThrow();
  });

  it.each([
    ['exp missing', { exp: undefined }, 'exp'],
    ['exp a string', { exp: '4600' }, 'exp'],
    ['exp NaN', { exp: Number.NaN }, 'exp'],
    ['exp Infinity', { exp: Number.POSITIVE_INFINITY }, 'exp'],
    ['nbf a string', { nbf: '1000' }, 'nbf'],
    ['iat an object', { iat: { at: 1000 } }, 'iat'],
    ['sub missing', { sub: undefined }, 'sub'],
    ['sub a number', { sub: 5 }, 'sub'],
    ['oid a number', { oid: 5 }, 'oid'],
    ['scp an array', { scp: ['Todolist.Read'] }, 'scp'],
    ['roles a string', { roles: 'TaskAdmin' }, 'roles'],
    ['roles with a number', { roles: ['TaskAdmin', 1] }, 'roles'],
    ['azp an object', { azp: {} }, 'azp'],
    ['idtyp a boolean', { idtyp: true }, 'idtyp'],
  ])('refuses %s as invalid_claims', (_name, extra, claim) => {
    const error = caught(() => checkClaimShapes(v2(extra as Partial<AzureAccessTokenClaims>)));
    expect(error.reason).toBe('invalid_claims');
    expect(error.description).toContain(`"${claim}"`);
  });
});

describe('checkAudience', () => {
  it('accepts the client id and the App ID URI exactly', () => {
    expect(() => checkAudience(clientId, options())).not.toThrow();
    expect(() => checkAudience(`api://${clientId}`, options())).not.toThrow();
  });

  it('refuses an audience of another case', () => {
    expect(caught(() => checkAudience(`API://${clientId}`, options())).reason).toBe('invalid_audience');
    expect(caught(() => checkAudience(clientId.toUpperCase(), options())).reason).toBe('invalid_audience');
  });

  it('refuses another application and lists the accepted audiences in the hint', () => {
    const error = caught(() => checkAudience('api://someone-else', options()));
    expect(error.reason).toBe('invalid_audience');
    expect(error.hint).toContain(`api://${clientId}`);
  });

  it('accepts a configured custom audience and nothing else', () => {
    const custom = options({ audience: 'https://contoso.com/todo' });
    expect(() => checkAudience('https://contoso.com/todo', custom)).not.toThrow();
    expect(caught(() => checkAudience(clientId, custom)).reason).toBe('invalid_audience');
  });

  it('refuses an array aud as invalid_claims by default', () => {
    expect(caught(() => checkAudience([clientId], options())).reason).toBe('invalid_claims');
  });

  it('with allowMultipleAudiences, accepts an array only when every entry is accepted', () => {
    const multiple = options({ allowMultipleAudiences: true });
    expect(() => checkAudience([clientId, `api://${clientId}`], multiple)).not.toThrow();
    expect(caught(() => checkAudience([clientId, 'api://other'], multiple)).reason).toBe('invalid_audience');
    expect(caught(() => checkAudience([clientId, 7], multiple)).reason).toBe('invalid_audience');
    expect(caught(() => checkAudience([], multiple)).reason).toBe('invalid_audience');
  });

  it.each([[42], [undefined], [null], [{ aud: clientId }]])('refuses aud %p as invalid_claims', (aud) => {
    expect(caught(() => checkAudience(aud, options())).reason).toBe('invalid_claims');
  });
});

describe('checkKeyIssuer', () => {
  const key = (issuer?: string): SigningKey => ({ kid: 'key-1', publicKey: {} as never, issuer });
  const v2Route = (): TokenRoute => routeToken(header(), v2(), single, options());
  const v1Route = (): TokenRoute => routeToken(header(), v1(), single, options());

  it('skips a key without issuer (v1 keys endpoint)', () => {
    expect(() => checkKeyIssuer(key(), v2Route(), single)).not.toThrow();
    expect(() => checkKeyIssuer(key(), v1Route(), single)).not.toThrow();
  });

  it('accepts a v2 key whose issuer template matches the token tenant', () => {
    expect(() => checkKeyIssuer(key(`${host}/{tenantid}/v2.0`), v2Route(), single)).not.toThrow();
    expect(() => checkKeyIssuer(key(v2Issuer(tenantId)), v2Route(), single)).not.toThrow();
  });

  it('refuses a key of another tenant', () => {
    expect(caught(() => checkKeyIssuer(key(v2Issuer(otherTenant)), v2Route(), single)).reason).toBe('signing_key_issuer_mismatch');
  });

  it('refuses a key of another cloud', () => {
    const usGov = key('https://login.microsoftonline.us/{tenantid}/v2.0');
    expect(caught(() => checkKeyIssuer(usGov, v2Route(), single)).reason).toBe('signing_key_issuer_mismatch');
  });

  it('checks a v1 token against the v2 form of its tenant issuer', () => {
    expect(() => checkKeyIssuer(key(`${host}/{tenantid}/v2.0`), v1Route(), single)).not.toThrow();
    expect(caught(() => checkKeyIssuer(key(v2Issuer(otherTenant)), v1Route(), single)).reason).toBe('signing_key_issuer_mismatch');
    // The v1 issuer itself is not the v2 form.
    expect(caught(() => checkKeyIssuer(key('https://sts.windows.net/{tenantid}/'), v1Route(), single)).reason).toBe(
      'signing_key_issuer_mismatch',
    );
  });

  it('fills the multi-tenant v2 template with the token tenant for a v1 token', () => {
    const route = routeToken(header(), v1({ iss: v1Issuer(otherTenant), tid: otherTenant }), multi, multiOptions());
    expect(() => checkKeyIssuer(key(`${host}/{tenantid}/v2.0`), route, multi)).not.toThrow();
    expect(caught(() => checkKeyIssuer(key(v2Issuer(tenantId)), route, multi)).reason).toBe('signing_key_issuer_mismatch');
  });
});

describe('checkLifetime', () => {
  it('refuses an expiry further away than any token Entra issues', () => {
    const now = 1_700_000_000;
    expect(caught(() => checkLifetime(v2({ exp: now + 3 * 86_400 }), now, 300)).reason).toBe('invalid_claims');
    expect(caught(() => checkLifetime(v2({ exp: 1e300 }), now, 300)).reason).toBe('invalid_claims');
    expect(() => checkLifetime(v2({ exp: now + 86_400 }), now, 300)).not.toThrow();
  });

  const now = 100_000;

  it('accepts a token inside its lifetime', () => {
    expect(() => checkLifetime(v2({ nbf: now - 10, exp: now + 10 }), now, 0)).not.toThrow();
  });

  it('refuses a token expired beyond the tolerance and says by how many seconds', () => {
    const error = caught(() => checkLifetime(v2({ exp: now - 301 }), now, 300));
    expect(error.reason).toBe('token_expired');
    expect(error.description).toContain('301 seconds');
  });

  it('accepts a token expired within the tolerance', () => {
    expect(() => checkLifetime(v2({ exp: now - 299 }), now, 300)).not.toThrow();
  });

  it('refuses a token at its exp second when there is no tolerance', () => {
    expect(caught(() => checkLifetime(v2({ exp: now }), now, 0)).reason).toBe('token_expired');
  });

  it('refuses a token whose nbf is beyond the tolerance in the future', () => {
    const error = caught(() => checkLifetime(v2({ nbf: now + 301, exp: now + 3600 }), now, 300));
    expect(error.reason).toBe('token_not_yet_valid');
    expect(error.description).toContain('301 seconds');
  });

  it('accepts a token whose nbf is within the tolerance in the future', () => {
    expect(() => checkLifetime(v2({ nbf: now + 300, exp: now + 3600 }), now, 300)).not.toThrow();
  });

  it('accepts a token without nbf', () => {
    expect(() => checkLifetime(v2({ nbf: undefined, exp: now + 1 }), now, 0)).not.toThrow();
  });
});

describe('checkTenant', () => {
  // Sync or async, as the verifier sees it: a thrown refusal becomes a rejection here.
  const tenantCheck = async (...args: Parameters<typeof checkTenant>) => checkTenant(...args);

  it('answers at once (no promise) unless a tenant validator has to be asked', () => {
    const msa = '9188040d-6c67-4c5b-b112-36a304b66dad';
    expect(checkTenant(tenantId, v2(), options())).toBeUndefined();
    expect(caught(() => checkTenant(msa, v2({ tid: msa }), options({ tenantId: 'organizations', allowAnyTenant: true }))).reason).toBe('tenant_not_allowed');
    expect(checkTenant(otherTenant, v2(), options({ tenantId: 'common', tenantValidator: () => true }))).toBeInstanceOf(Promise);
  });

  it('turns a validator that throws into a rejection, not a synchronous throw', async () => {
    const failing = options({ tenantId: 'common', tenantValidator: () => { throw new Error('directory down'); } });
    const answer = checkTenant(otherTenant, v2(), failing);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).rejects.toThrow('directory down');
  });

  it('never lets the personal-account tenant into an organizations API, even with allowAnyTenant', async () => {
    const msa = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const organizations = options({ tenantId: 'organizations', allowAnyTenant: true });
    await expect(tenantCheck(msa, v2({ tid: msa }), organizations)).rejects.toMatchObject({ reason: 'tenant_not_allowed' });
    await expect(tenantCheck(msa, v2({ tid: msa }), options({ tenantId: 'common', allowAnyTenant: true }))).resolves.toBeUndefined();
  });

  const claims = v2();

  it('lets any token of a single-tenant route pass (routeToken already checked the tenant)', async () => {
    await expect(tenantCheck(tenantId, claims, options())).resolves.toBeUndefined();
  });

  it('multi-tenant: admits only allowedTenants', async () => {
    const allowList = options({ tenantId: 'organizations', allowedTenants: [otherTenant.toUpperCase()] });
    await expect(tenantCheck(otherTenant, claims, allowList)).resolves.toBeUndefined();
    const error = await caughtAsync(() => tenantCheck(tenantId, claims, allowList));
    expect(error.reason).toBe('tenant_not_allowed');
    expect(error.status).toBe(401);
  });

  it('multi-tenant: asks an async tenantValidator with the tenant and claims', async () => {
    const asked: Array<[string, unknown]> = [];
    const validator = options({
      tenantId: 'common',
      tenantValidator: async (tid, seen) => {
        asked.push([tid, seen]);
        return tid === otherTenant;
      },
    });
    await expect(tenantCheck(otherTenant, claims, validator)).resolves.toBeUndefined();
    expect((await caughtAsync(() => tenantCheck(tenantId, claims, validator))).reason).toBe('tenant_not_allowed');
    expect(asked).toEqual([
      [otherTenant, claims],
      [tenantId, claims],
    ]);
  });

  it('multi-tenant: a validator answering something truthy but not true refuses', async () => {
    const validator = options({ tenantId: 'common', tenantValidator: () => 'yes' as unknown as boolean });
    expect((await caughtAsync(() => tenantCheck(tenantId, claims, validator))).reason).toBe('tenant_not_allowed');
  });

  it('multi-tenant: falls back to the validator when the tenant is not in allowedTenants', async () => {
    const both = options({ tenantId: 'organizations', allowedTenants: [otherTenant], tenantValidator: (tid) => tid === tenantId });
    await expect(tenantCheck(otherTenant, claims, both)).resolves.toBeUndefined();
    await expect(tenantCheck(tenantId, claims, both)).resolves.toBeUndefined();
    const third = 'cccccccc-dddd-4eee-8fff-000000000000';
    expect((await caughtAsync(() => tenantCheck(third, claims, both))).reason).toBe('tenant_not_allowed');
  });

  it('multi-tenant: allowAnyTenant admits every tenant', async () => {
    await expect(tenantCheck(otherTenant, claims, multiOptions())).resolves.toBeUndefined();
  });

  it('consumers needs no allow-list', async () => {
    const consumers = options({ tenantId: 'consumers' });
    await expect(tenantCheck('9188040d-6c67-4c5b-b112-36a304b66dad', claims, consumers)).resolves.toBeUndefined();
  });
});
