/**
 * Why a request was refused. Stable: these strings are part of the public API and appear in the
 * JSON body (`reason`) of every refusal.
 */
export type AzureAuthReason =
  // 401: no usable token
  | 'token_missing'
  | 'token_too_large'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'invalid_signature'
  | 'signing_key_not_found'
  | 'signing_key_issuer_mismatch'
  | 'policy_key_not_found'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'invalid_claims'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'token_version_not_accepted'
  | 'tenant_not_allowed'
  | 'graph_token'
  // 401 on a WebSocket re-authentication: the fresh token is another user's (or app's)
  | 'caller_changed'
  // 401 for an unexpected failure while checking the token (details in the log)
  | 'token_rejected'
  // 401: the route, or a downstream API, needs more from the user (an authentication context,
  // MFA, continuous access evaluation); the `claims` of the challenge say what, for the client to
  // ask the user again
  | 'insufficient_claims'
  // 403: a valid token that may not do this
  | 'insufficient_permissions'
  | 'no_permissions'
  | 'client_not_allowed'
  | 'guest_not_allowed'
  // 403: the route needs a Conditional Access authentication context (step-up) the token lacks,
  // and its client cannot answer a claims challenge (no `cp1` in `xms_cc`); a client that can gets
  // 401 `insufficient_claims` instead
  | 'auth_context_required'
  // 403: the route needs a group (`@Groups`) and the token has none but says the user is in too many
  // groups to list (overage); the module does not call the endpoint such a token names
  | 'groups_overage'
  // 403: a call on the caller's behalf that cannot be made for this caller
  | 'consent_required'
  | 'user_token_required'
  // 503: we could not get the keys to decide
  | 'keys_unavailable'
  // 503: a downstream call could not be made now (Entra's token endpoint, or the downstream API,
  // unreachable or too slow; or Entra refused this API's own token request: see the log)
  | 'token_endpoint_unavailable'
  | 'downstream_unavailable'
  | 'downstream_token_refused'
  // 503: the route needs a group and the token has an overage, and its groups could not be looked
  // up now (Microsoft Graph, or the app's own groupsOverage.resolve, failed: see the log)
  | 'groups_unavailable';
