import { createPrincipal } from './azure-principal.js';
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
    expect(createPrincipal(claims({ idp: 'https://sts.windows.net/other/' }), 't', '2.0').guest).toBe(true);
    expect(createPrincipal(claims({ acct: 1 }), 't', '2.0').guest).toBe(true);
    expect(createPrincipal(claims({}), 't', '2.0').guest).toBe(false);
  });

  it('does not take a B2C / External ID social identity provider for a guest', () => {
    expect(createPrincipal(claims({ idp: 'google.com' }), 't', '1.0', true).guest).toBe(false);
    expect(createPrincipal(claims({ idp: 'google.com', acct: 1 }), 't', '1.0', true).guest).toBe(true);
  });
});
