import {
  AZURE_AD_SECURITY_SCHEME,
  applicationIdUriOf,
  azureAdSecurityScheme,
  oauthEndpoints,
  routeSecurityRequirements,
  scopeUri,
  tenantAuthority,
} from './azure-ad-security.js';

const clientId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const appIdUri = `api://${clientId}`;

describe('scope URIs', () => {
  it('default to api://{clientId}, the App ID URI Entra proposes', () => {
    expect(applicationIdUriOf(clientId)).toBe(appIdUri);
    expect(scopeUri(applicationIdUriOf(clientId), 'Todolist.Read')).toBe(`api://${clientId}/Todolist.Read`);
  });

  it('use a custom App ID URI, without doubling its trailing slash', () => {
    expect(scopeUri(applicationIdUriOf(clientId, 'https://contoso.com/todo-api'), 'Todolist.Read')).toBe('https://contoso.com/todo-api/Todolist.Read');
    expect(scopeUri(applicationIdUriOf(clientId, 'https://contoso.com/todo-api/'), 'Todolist.Read')).toBe('https://contoso.com/todo-api/Todolist.Read');
  });
});

describe('oauthEndpoints', () => {
  const tenant = '11111111-2222-4333-8444-555555555555';

  it("are a tenant's v2 authorize and token endpoints", () => {
    expect(oauthEndpoints(tenantAuthority('https://login.microsoftonline.com', tenant))).toEqual({
      authorizationUrl: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`,
      tokenUrl: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
    });
  });

  it('follow other clouds and multi-tenant segments', () => {
    expect(oauthEndpoints(tenantAuthority('https://login.microsoftonline.us/', 'organizations')).authorizationUrl).toBe(
      'https://login.microsoftonline.us/organizations/oauth2/v2.0/authorize',
    );
  });

  it.each([
    ['a B2C policy', 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0', 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin'],
    ['External ID', `https://contoso.ciamlogin.com/${tenant}/v2.0/`, `https://contoso.ciamlogin.com/${tenant}`],
    ['a custom domain', `https://login.contoso.com/${tenant}/V2.0`, `https://login.contoso.com/${tenant}`],
    ['an authority without /v2.0', `https://login.microsoftonline.com/${tenant}/`, `https://login.microsoftonline.com/${tenant}`],
  ])("sit under the authority of %s, without its /v2.0", (_kind, authority, base) => {
    expect(oauthEndpoints(authority)).toEqual({ authorizationUrl: `${base}/oauth2/v2.0/authorize`, tokenUrl: `${base}/oauth2/v2.0/token` });
  });
});

describe('azureAdSecurityScheme', () => {
  it('is an OAuth2 authorization code flow offering the scopes by full URI', () => {
    const scheme = azureAdSecurityScheme(
      { authorizationUrl: 'https://a/authorize', tokenUrl: 'https://a/token' },
      new Map([[`${appIdUri}/Todolist.Read`, 'Read your tasks']]),
    );
    expect(scheme).toEqual({
      type: 'oauth2',
      description: expect.stringMatching(/PKCE/),
      flows: {
        authorizationCode: { authorizationUrl: 'https://a/authorize', tokenUrl: 'https://a/token', scopes: { [`${appIdUri}/Todolist.Read`]: 'Read your tasks' } },
      },
    });
    expect(Object.keys(scheme.flows ?? {})).toEqual(['authorizationCode']);
  });
});

describe('routeSecurityRequirements', () => {
  const requirements = (route: Parameters<typeof routeSecurityRequirements>[0]) => routeSecurityRequirements(route, AZURE_AD_SECURITY_SCHEME, appIdUri);

  it('gives each scope a requirement of its own: OpenAPI reads the list as any-of, like @Scopes', () => {
    expect(requirements({ isPublic: false, scopes: ['Todolist.Read', 'Todolist.ReadWrite'], guarded: true })).toEqual([
      { 'azure-ad': [`${appIdUri}/Todolist.Read`] },
      { 'azure-ad': [`${appIdUri}/Todolist.ReadWrite`] },
    ]);
  });

  it('asks for a token without scopes on a guarded route without @Scopes', () => {
    expect(requirements({ isPublic: false, guarded: true })).toEqual([{ 'azure-ad': [] }]);
  });

  it('marks a route with @Scopes as secured even when the guard cannot be seen', () => {
    expect(requirements({ isPublic: false, scopes: ['Todolist.Read'], guarded: false })).toEqual([{ 'azure-ad': [`${appIdUri}/Todolist.Read`] }]);
  });

  it('leaves public and unguarded routes open', () => {
    expect(requirements({ isPublic: true, scopes: ['Todolist.Read'], guarded: true })).toEqual([]);
    expect(requirements({ isPublic: false, guarded: false })).toEqual([]);
  });

  it('uses the scheme name it is given', () => {
    expect(routeSecurityRequirements({ isPublic: false, guarded: true }, 'entra', appIdUri)).toEqual([{ entra: [] }]);
  });
});
