import { AuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { AzureAuthErrors } from '../errors/messages.js';
import { TOKEN_ENDPOINT_UNAVAILABLE } from './msal-client.js';
import { toTokenRequestFailure } from './token-request-errors.js';

// MSAL's own error classes, built as MSAL builds them from Entra's answers.
const entraDescription = (code: number, text: string) =>
  `Error(s): ${code} - Timestamp: 2026-01-01 00:00:00Z - Description: AADSTS${code}: ${text} Trace ID: 1 Correlation ID: 2 Timestamp: 2026-01-01 00:00:00Z - Correlation ID: 2 - Trace ID: 1`;

describe('toTokenRequestFailure', () => {
  const scopes = ['User.Read'];

  it('our network client’s outage, with Entra’s Retry-After (capped), or 10 s: 503 token_endpoint_unavailable', () => {
    const withRetry = Object.assign(new AuthError(TOKEN_ENDPOINT_UNAVAILABLE, 'HTTP 503'), { retryAfterSeconds: 30 });
    expect(toTokenRequestFailure(withRetry, scopes, 'on-behalf-of').error).toMatchObject({ reason: 'token_endpoint_unavailable', status: 503, retryAfterSeconds: 30 });
    const tooLong = Object.assign(new AuthError(TOKEN_ENDPOINT_UNAVAILABLE, 'HTTP 429'), { retryAfterSeconds: 86_400 });
    expect(toTokenRequestFailure(tooLong, scopes, 'on-behalf-of').error.retryAfterSeconds).toBe(300);
    expect(toTokenRequestFailure(new AuthError('network_error', 'fetch failed'), scopes, 'on-behalf-of').error.retryAfterSeconds).toBe(10);
  });

  it('AADSTS65001 (suberror consent_required): 403 consent_required naming the scopes', () => {
    const error = new InteractionRequiredAuthError('invalid_grant', '', entraDescription(65001, 'The user or administrator has not consented.'), 'consent_required', '', '', '', 65001 as never);
    const { error: refusal, logLine } = toTokenRequestFailure(error, scopes, 'on-behalf-of');
    expect(refusal).toMatchObject({ reason: 'consent_required', requiredPermissions: scopes });
    expect(logLine).toBeUndefined();
  });

  it('interaction required with claims: 401 insufficient_claims, the claims base64-encoded as challenges carry them', () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}';
    const error = new InteractionRequiredAuthError('interaction_required', '', entraDescription(50079, 'MFA needed.'), '', '', '', claims, 50079 as never);
    const { error: refusal } = toTokenRequestFailure(error, scopes, 'on-behalf-of');
    expect(refusal).toMatchObject({ reason: 'insufficient_claims', status: 401, claims: Buffer.from(claims).toString('base64') });
  });

  it("the caller's token expired at Entra meanwhile (AADSTS500133): 401 token_expired", () => {
    const error = new ServerError('invalid_grant', '', entraDescription(500133, 'Assertion is not within its valid time range.'), '', 500133 as never, 400);
    expect(toTokenRequestFailure(error, scopes, 'on-behalf-of').error.reason).toBe('token_expired');
  });

  it("anything else is the API's configuration: 503 downstream_token_refused, and a log line with the AADSTS code and Entra's words", () => {
    const error = new ServerError('invalid_client', '', entraDescription(7000215, 'Invalid client secret provided.'), '', 7000215 as never, 401);
    const { error: refusal, logLine } = toTokenRequestFailure(error, scopes, 'client credentials');
    expect(refusal).toMatchObject({ reason: 'downstream_token_refused', status: 503, retryAfterSeconds: undefined });
    expect(logLine).toBe('Entra refused the client credentials token request for User.Read: invalid_client AADSTS7000215: Invalid client secret provided.');
  });

  it('a failing client assertion callback is logged with its message; an AzureAuthError passes through', () => {
    expect(toTokenRequestFailure(new Error("ENOENT: no such file, open '/var/run/token'"), scopes, 'on-behalf-of').logLine).toContain('ENOENT');
    const own = AzureAuthErrors.userTokenRequired();
    expect(toTokenRequestFailure(own, scopes, 'on-behalf-of').error).toBe(own);
  });
});
