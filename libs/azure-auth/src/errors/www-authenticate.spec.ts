import { AzureAuthError } from './azure-auth.error.js';
import { AzureAuthErrors } from './messages.js';
import { buildErrorBody, buildWwwAuthenticate } from './www-authenticate.js';

const realm = 'api://aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

describe('buildWwwAuthenticate', () => {
  it('token_missing: only the realm, no error attribute', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.tokenMissing(), realm)).toBe(`Bearer realm="${realm}"`);
  });

  it('a bad token: invalid_token with its description', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.expired(42), realm)).toBe(
      `Bearer realm="${realm}", error="invalid_token", error_description="Token expired 42 seconds ago"`,
    );
    expect(buildWwwAuthenticate(AzureAuthErrors.invalidSignature(), realm)).toBe(
      `Bearer realm="${realm}", error="invalid_token", error_description="Token signature is invalid"`,
    );
  });

  it('403: insufficient_scope with the scopes that would pass, space separated', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.insufficientPermissions('scope', ['a', 'b']), realm)).toBe(
      `Bearer realm="${realm}", error="insufficient_scope", error_description="Token lacks a required scope", scope="a b"`,
    );
  });

  it('403 without required permissions: no scope attribute', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.clientNotAllowed(), realm)).toBe(
      `Bearer realm="${realm}", error="insufficient_scope", error_description="Client application is not allowed to call this API"`,
    );
  });

  it('insufficient_claims: the claims challenge, base64 as it came, for MSAL.js to ask the user again', () => {
    const claims = Buffer.from('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}').toString('base64');
    expect(buildWwwAuthenticate(AzureAuthErrors.claimsChallenge(claims, 'downstream'), realm)).toBe(
      `Bearer realm="${realm}", error="insufficient_claims", error_description="The downstream API needs the user to sign in again (claims challenge)", claims="${claims}"`,
    );
    expect(buildWwwAuthenticate(AzureAuthErrors.claimsChallenge(undefined, 'entra'), realm)).toMatch(/error="insufficient_claims", error_description="[^"]+"$/);
    expect(buildErrorBody(AzureAuthErrors.claimsChallenge(claims, 'entra'))).toMatchObject({ statusCode: 401, reason: 'insufficient_claims', claims });
  });

  it('consent_required: 403 insufficient_scope naming the downstream scopes; user_token_required without scopes', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.consentRequired(['User.Read', 'Mail.Read']), realm)).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", error_description="[^"]+", scope="User.Read Mail.Read"$/);
    expect(buildErrorBody(AzureAuthErrors.consentRequired(['User.Read']))).toMatchObject({ statusCode: 403, reason: 'consent_required', required: ['User.Read'] });
    expect(buildWwwAuthenticate(AzureAuthErrors.userTokenRequired(), realm)).toMatch(/error="insufficient_scope", error_description="[^"]+"$/);
    expect(AzureAuthErrors.userTokenRequired().status).toBe(403);
  });

  it.each([
    ['token_endpoint_unavailable', AzureAuthErrors.tokenEndpointUnavailable(10), 10],
    ['downstream_unavailable', AzureAuthErrors.downstreamUnavailable(10), 10],
    ['downstream_token_refused', AzureAuthErrors.downstreamTokenRefused(), undefined],
  ])('%s: 503 without a challenge', (reason, error, retryAfter) => {
    expect(error.status).toBe(503);
    expect(error.reason).toBe(reason);
    expect(error.retryAfterSeconds).toBe(retryAfter);
    expect(buildWwwAuthenticate(error, realm)).toBeUndefined();
  });

  it('503: no challenge', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.keysUnavailable(10), realm)).toBeUndefined();
  });

  it('strips quotes, backslashes and control characters from the realm', () => {
    expect(buildWwwAuthenticate(AzureAuthErrors.tokenMissing(), 'my "realm"\\\r\nX-Injected: 1\t\u0000é')).toBe(
      'Bearer realm="my realmX-Injected: 1"',
    );
  });

  it('strips quotes and control characters from descriptions and scopes', () => {
    const error = new AzureAuthError('insufficient_permissions', {
      description: 'bad "thing"\r\nSet-Cookie: x',
      requiredPermissions: ['Scope"One', 'Two\nThree'],
    });
    const header = buildWwwAuthenticate(error, realm);
    expect(header).toBe(
      `Bearer realm="${realm}", error="insufficient_scope", error_description="bad thingSet-Cookie: x", scope="ScopeOne TwoThree"`,
    );
    expect(header).not.toMatch(/[\r\n]/);
  });
});

describe('buildErrorBody', () => {
  it('401 body with reason, message and hint', () => {
    expect(buildErrorBody(AzureAuthErrors.tokenMissing())).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      reason: 'token_missing',
      message: 'No bearer token in the Authorization header',
      hint: 'Send "Authorization: Bearer <access token>".',
    });
  });

  it('403 body lists the required permissions', () => {
    const body = buildErrorBody(AzureAuthErrors.insufficientPermissions('app permission', ['Todolist.Read.All']));
    expect(body).toMatchObject({
      statusCode: 403,
      error: 'Forbidden',
      reason: 'insufficient_permissions',
      message: 'Token lacks a required app permission',
      required: ['Todolist.Read.All'],
    });
    expect(body.hint).toContain('Todolist.Read.All');
  });

  it('503 body', () => {
    expect(buildErrorBody(AzureAuthErrors.keysUnavailable(10))).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      reason: 'keys_unavailable',
    });
  });

  it('omits hint and required when the error has none', () => {
    const body = buildErrorBody(AzureAuthErrors.clientNotAllowed());
    expect(body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      reason: 'client_not_allowed',
      message: 'Client application is not allowed to call this API',
    });
    expect(Object.keys(body)).not.toContain('hint');
    expect(Object.keys(body)).not.toContain('required');
  });
});
