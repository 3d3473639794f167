import type { AzureAuthError } from './azure-auth.error.js';

/** Quotes a value for an RFC 7235 auth-param; drops characters RFC 6750 does not allow in them. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
}

/**
 * The RFC 6750 challenge for a refusal: no `error` attribute when no token was sent,
 * `invalid_token` for a bad token, `insufficient_scope` (with the scopes that would pass) for a
 * valid token without permission, `insufficient_claims` (with the `claims` to ask for) when a
 * downstream API needs the user to sign in again. `undefined` when the answer is not a challenge (503).
 */
export function buildWwwAuthenticate(error: AzureAuthError, realm: string): string | undefined {
  const realmParam = `realm=${quote(realm)}`;
  if (error.reason === 'token_missing') return `Bearer ${realmParam}`;
  if (error.status === 503) return undefined;
  if (error.reason === 'insufficient_claims') {
    // What MSAL.js needs to ask the user again: the claims, exactly as the challenge had them.
    const claims = error.claims ? `, claims=${quote(error.claims)}` : '';
    const authorizationUri = error.authorizationUri ? `, authorization_uri=${quote(error.authorizationUri)}` : '';
    return `Bearer ${realmParam}${authorizationUri}, error="insufficient_claims", error_description=${quote(error.description)}${claims}`;
  }
  if (error.status === 403) {
    const scope = error.requiredPermissions?.length
      ? `, scope=${quote(error.requiredPermissions.join(' '))}`
      : '';
    return `Bearer ${realmParam}, error="insufficient_scope", error_description=${quote(error.description)}${scope}`;
  }
  return `Bearer ${realmParam}, error="invalid_token", error_description=${quote(error.description)}`;
}

/** The JSON body of a refusal: a stable reason code, what happened, and how to fix it. */
export interface AzureAuthErrorBody {
  statusCode: number;
  error: string;
  reason: string;
  message: string;
  hint?: string;
  /** For 403: the permissions (or groups, directory roles) any one of which would have been enough (`consent_required`: the downstream scopes to consent to). */
  required?: readonly string[];
  /** For `insufficient_claims`: the claims challenge (base64 JSON), as in `WWW-Authenticate`, for clients that cannot read that header cross-origin. */
  claims?: string;
  /** For a step-up: the authentication contexts (`acrs`) any one of which would pass. */
  authContexts?: readonly string[];
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' };

export function buildErrorBody(error: AzureAuthError): AzureAuthErrorBody {
  const required = error.requiredPermissions ?? error.requiredMembership;
  return {
    statusCode: error.status,
    error: STATUS_TEXT[error.status],
    reason: error.reason,
    message: error.description,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(required ? { required } : {}),
    ...(error.claims ? { claims: error.claims } : {}),
    ...(error.authContexts ? { authContexts: error.authContexts } : {}),
  };
}
