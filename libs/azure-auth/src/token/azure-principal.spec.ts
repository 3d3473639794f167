import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { authorityOf, createPrincipal } from './azure-principal.js';

const workforce = resolveAzureAuthOptions({ tenantId: '11111111-2222-4333-8444-555555555555', clientId: '11111111-2222-4333-8444-555555555555' });
const b2c = resolveAzureAuthOptions({ authority: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0', clientId: '11111111-2222-4333-8444-555555555555' });
import type { AzureAccessTokenClaims } from './claims.js';

describe('createPrincipal guest detection', () => {
  const claims = (extra: Partial<AzureAccessTokenClaims>): AzureAccessTokenClaims => ({
    aud: 'a',
    iss: 'https://login.microsoftonline.com/t/v2.0',
    exp: 1,
    sub: 's',
    oid: 'o',
    scp: 'Todolist.Read',
    ...extra,
  });

  it('marks a workforce user whose idp is another issuer, or with acct 1, as a guest', () => {
    expect(createPrincipal(claims({ idp: 'https://sts.windows.net/other/' }), 't', '2.0', workforce).guest).toBe(true);
    expect(createPrincipal(claims({ acct: 1 }), 't', '2.0', workforce).guest).toBe(true);
    expect(createPrincipal(claims({}), 't', '2.0', workforce).guest).toBe(false);
  });

  it('does not take a B2C / External ID social identity provider for a guest', () => {
    expect(createPrincipal(claims({ idp: 'google.com' }), 't', '1.0', b2c).guest).toBe(false);
    expect(createPrincipal(claims({ idp: 'google.com', acct: 1 }), 't', '1.0', b2c).guest).toBe(true);
  });
});

describe('a principal this module created', () => {
  const claims = (): AzureAccessTokenClaims => ({ aud: 'a', iss: 'i', exp: 1, sub: 's', oid: 'o', groups: ['g1'], xms: { nested: ['n'] } } as AzureAccessTokenClaims);

  it('knows its authority; a copy of it (spread, JSON round trip) is a lookalike that does not', () => {
    const principal = createPrincipal(claims(), 't', '2.0', workforce);
    expect(authorityOf(principal)).toBe(workforce);
    expect(authorityOf({ ...principal })).toBeUndefined();
    expect(authorityOf(JSON.parse(JSON.stringify(principal)))).toBeUndefined();
    expect(authorityOf(Object.create(principal))).toBeUndefined();
  });

  it('shows handlers its claims and nothing of the module: own keys are the documented ones', () => {
    const principal = createPrincipal(claims(), 't', '2.0', workforce);
    expect(Object.keys(principal).sort()).toEqual(
      ['appOnly', 'claims', 'clientId', 'expiresAt', 'groups', 'guest', 'name', 'oid', 'roles', 'scopes', 'sub', 'tid', 'tokenVersion', 'username', 'wids'].sort(),
    );
    expect(Object.getOwnPropertySymbols(principal)).toEqual([]);
  });

  it('is frozen to the last nested claim', () => {
    const principal = createPrincipal(claims(), 't', '2.0', workforce);
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.claims.groups)).toBe(true);
    expect(Object.isFrozen((principal.claims as unknown as { xms: { nested: string[] } }).xms.nested)).toBe(true);
  });

  it('freezes objects inside arrays, and arrays inside those', () => {
    const principal = createPrincipal({ ...claims(), xms_list: [{ ids: ['a'] }, 'b'] } as AzureAccessTokenClaims, 't', '2.0', workforce);
    const [first] = (principal.claims as unknown as { xms_list: [{ ids: string[] }] }).xms_list;
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.ids)).toBe(true);
  });
});
