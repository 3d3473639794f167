import { AzureAuthError } from '../errors/azure-auth.error.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { TOKEN_ENDPOINT_UNAVAILABLE } from './msal-client.js';

/** Seconds a 503 tells the client to wait when Entra named no time of its own. */
export const RETRY_AFTER_SECONDS = 10;

/** What MSAL's errors carry (AuthError, ServerError, InteractionRequiredAuthError), read without importing MSAL. */
interface MsalErrorFields {
  name?: unknown;
  errorCode?: unknown;
  errorNo?: unknown;
  subError?: unknown;
  errorMessage?: unknown;
  claims?: unknown;
  retryAfterSeconds?: unknown;
}

/** A token request that failed: the answer for the caller, and for the log what Entra said (token-free). @internal */
export interface TokenRequestFailure {
  readonly error: AzureAuthError;
  /** Set when the API's own configuration is at fault: logged as an error. */
  readonly logLine?: string;
}

/** Entra's `AADSTS…` number, from the error number MSAL kept or the description. */
function aadstsCode(fields: MsalErrorFields): string | undefined {
  if (fields.errorNo !== undefined && /^\d+$/.test(String(fields.errorNo))) return String(fields.errorNo);
  return typeof fields.errorMessage === 'string' ? /AADSTS(\d+)/.exec(fields.errorMessage)?.[1] : undefined;
}

/** Entra's description, cut short and without control characters: it goes to the log. */
function description(fields: MsalErrorFields): string {
  const text = typeof fields.errorMessage === 'string' ? (/AADSTS\d+: ([^\r\n]*?)(?: Trace ID:| - Correlation ID:| - Timestamp:|$)/.exec(fields.errorMessage)?.[1] ?? '') : '';
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 300);
}

/**
 * What a failed token request (on-behalf-of or client credentials) means for the caller:
 * - Entra unreachable, slow or unwell → 503 `token_endpoint_unavailable` with `Retry-After`;
 * - the caller's token expired meanwhile (`AADSTS500133`) → 401 `token_expired`;
 * - consent missing (`AADSTS65001`) → 403 `consent_required`, naming the scopes;
 * - interaction required (Conditional Access, MFA) → 401 `insufficient_claims` with Entra's
 *   claims, base64-encoded as challenges carry them;
 * - anything else (a wrong secret, a scope Entra does not know…) is the API's own configuration:
 *   503 `downstream_token_refused`, and the AADSTS code in the log.
 *
 * @internal
 */
export function toTokenRequestFailure(failure: unknown, scopes: readonly string[], flow: string): TokenRequestFailure {
  if (failure instanceof AzureAuthError) return { error: failure };
  const fields = (failure ?? {}) as MsalErrorFields;
  const code = aadstsCode(fields);
  if (fields.errorCode === TOKEN_ENDPOINT_UNAVAILABLE || fields.errorCode === 'network_error') {
    const retryAfter = typeof fields.retryAfterSeconds === 'number' ? Math.min(fields.retryAfterSeconds, 300) : RETRY_AFTER_SECONDS;
    return { error: AzureAuthErrors.tokenEndpointUnavailable(retryAfter) };
  }
  // The caller's token expired between its check here (within the clock skew) and Entra's.
  if (code === '500133') return { error: AzureAuthErrors.expired(0) };
  if (code === '65001' || fields.subError === 'consent_required' || fields.errorCode === 'consent_required') {
    return { error: AzureAuthErrors.consentRequired(scopes) };
  }
  if (fields.name === 'InteractionRequiredAuthError') {
    const claims = typeof fields.claims === 'string' && fields.claims.trim() !== '' ? Buffer.from(fields.claims, 'utf8').toString('base64') : undefined;
    return { error: AzureAuthErrors.claimsChallenge(claims, 'entra') };
  }
  const what = typeof fields.errorCode === 'string' && fields.errorCode ? fields.errorCode : failure instanceof Error ? failure.name : typeof failure;
  const said = code ? ` AADSTS${code}: ${description(fields)}` : failure instanceof Error && !(typeof fields.errorCode === 'string') ? ` ${failure.message.slice(0, 300)}` : '';
  return {
    error: AzureAuthErrors.downstreamTokenRefused(),
    logLine: `Entra refused the ${flow} token request for ${scopes.join(' ')}: ${what}${said}`,
  };
}
