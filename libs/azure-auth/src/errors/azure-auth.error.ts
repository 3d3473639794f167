import type { AzureAuthReason } from './reason-codes.js';

/** What the refusal means to the caller: 401 (who are you?), 403 (not allowed), 503 (cannot tell now). */
export type AzureAuthStatus = 401 | 403 | 503;

export interface AzureAuthErrorDetails {
  /** Short, token-free sentence for `error_description` and the JSON body. */
  readonly description: string;
  /** What the user of the API most likely has to change. Token-free. */
  readonly hint?: string;
  /** For 403: the permissions any one of which would have let the caller in. */
  readonly requiredPermissions?: readonly string[];
  /** For 503: seconds after which a retry may succeed. */
  readonly retryAfterSeconds?: number;
  /**
   * For `insufficient_claims`: the claims challenge, base64-encoded JSON as Entra and Microsoft
   * Graph send it (`{"access_token":{…}}`), for the client to pass to MSAL as `claims`.
   */
  readonly claims?: string;
  /** For 403 on `@Groups` / `@DirectoryRoles`: the object ids any one of which would have let the caller in (not scopes: no `scope` attribute). */
  readonly requiredMembership?: readonly string[];
  /** For a step-up (`insufficient_claims`, `auth_context_required`): the authentication contexts any one of which would pass. */
  readonly authContexts?: readonly string[];
  /** For a step-up claims challenge: where the client sends the user (`authorization_uri`). */
  readonly authorizationUri?: string;
}

/**
 * The one failure type of the module. Every refusal (authentication, authorization, key
 * availability, calls made downstream on the caller's behalf) is an `AzureAuthError` with a stable {@link AzureAuthReason}; the guards turn it into
 * the HTTP answer with its RFC 6750 `WWW-Authenticate` header.
 */
export class AzureAuthError extends Error {
  override readonly name = 'AzureAuthError';
  readonly status: AzureAuthStatus;
  readonly description: string;
  readonly hint?: string;
  readonly requiredPermissions?: readonly string[];
  readonly retryAfterSeconds?: number;
  /** For `insufficient_claims`: the claims challenge (base64 JSON), sent in `WWW-Authenticate`. */
  readonly claims?: string;
  /** For 403 on `@Groups` / `@DirectoryRoles`: the object ids any one of which would pass. */
  readonly requiredMembership?: readonly string[];
  /** For a step-up: the authentication contexts any one of which would pass. */
  readonly authContexts?: readonly string[];
  /** For a step-up claims challenge: `authorization_uri` of `WWW-Authenticate`. */
  readonly authorizationUri?: string;

  constructor(
    readonly reason: AzureAuthReason,
    details: AzureAuthErrorDetails,
  ) {
    super(`${reason}: ${details.description}`);
    this.status = statusOf(reason);
    this.description = details.description;
    this.hint = details.hint;
    this.requiredPermissions = details.requiredPermissions;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.claims = details.claims;
    this.requiredMembership = details.requiredMembership;
    this.authContexts = details.authContexts;
    this.authorizationUri = details.authorizationUri;
  }
}

const FORBIDDEN: ReadonlySet<AzureAuthReason> = new Set<AzureAuthReason>([
  'insufficient_permissions',
  'no_permissions',
  'client_not_allowed',
  'guest_not_allowed',
  'consent_required',
  'user_token_required',
  'auth_context_required',
  'groups_overage',
]);

const UNAVAILABLE: ReadonlySet<AzureAuthReason> = new Set<AzureAuthReason>([
  'keys_unavailable',
  'token_endpoint_unavailable',
  'downstream_unavailable',
  'downstream_token_refused',
  'groups_unavailable',
]);

function statusOf(reason: AzureAuthReason): AzureAuthStatus {
  if (UNAVAILABLE.has(reason)) return 503;
  return FORBIDDEN.has(reason) ? 403 : 401;
}
