import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { createPrincipal } from './azure-principal.js';

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
