import { AzureAuthError } from './azure-auth.error.js';

/**
 * The claims request of a step-up, base64-encoded as Entra's challenges are: `acrs` is essential,
 * with the one context (`value`) or any of several (`values`).
 */
function authContextClaims(authContexts: readonly string[]): string {
  const acrs = authContexts.length === 1 ? { essential: true, value: authContexts[0] } : { essential: true, values: authContexts };
  return Buffer.from(JSON.stringify({ access_token: { acrs } })).toString('base64');
}

/**
 * Every refusal the module produces, built in one place so wording stays consistent. Descriptions
 * are short and never contain token content (they end up in `WWW-Authenticate`); hints say how to
 * fix the cause.
 */
export const AzureAuthErrors = {
  tokenMissing: () =>
    new AzureAuthError('token_missing', {
      description: 'No bearer token in the Authorization header',
      hint: 'Send "Authorization: Bearer <access token>".',
    }),
  tokenTooLarge: (limit: number) =>
    new AzureAuthError('token_too_large', {
      description: `Token is larger than ${limit} bytes`,
      hint: 'Entra access tokens are a few KB. Check that the client sends an access token, not something else.',
    }),
  malformed: (why: string) =>
    new AzureAuthError('malformed_token', {
      description: `Malformed token: ${why}`,
      hint: 'Send the access token exactly as MSAL returned it (three base64url parts separated by dots).',
    }),
  unsupportedAlgorithm: (alg: unknown) =>
    new AzureAuthError('unsupported_algorithm', {
      description: `Algorithm ${typeof alg === 'string' && /^[A-Za-z0-9]{1,10}$/.test(alg) ? alg : '(invalid)'} is not accepted; Entra signs with RS256`,
    }),
  invalidSignature: () =>
    new AzureAuthError('invalid_signature', {
      description: 'Token signature is invalid',
      hint: 'The token was altered or not signed by Entra for this tenant.',
    }),
  signingKeyNotFound: (appSpecificKeys: boolean) =>
    new AzureAuthError('signing_key_not_found', {
      description: 'Token signing key is not among the keys of the authority',
      hint: appSpecificKeys
        ? 'The key is unknown even after a refresh. The token may come from another authority.'
        : 'If this app uses claims mapping or SAML SSO it has its own signing keys: set appSpecificSigningKeys: true.',
    }),
  signingKeyIssuerMismatch: () =>
    new AzureAuthError('signing_key_issuer_mismatch', {
      description: 'Token was verified by a key that belongs to another issuer',
    }),
  expired: (secondsAgo: number) =>
    new AzureAuthError('token_expired', {
      description: `Token expired ${secondsAgo} seconds ago`,
      hint: 'Acquire a new token (MSAL acquireTokenSilent refreshes it). If tokens expire right after being issued, check the server clock.',
    }),
  notYetValid: (secondsAhead: number) =>
    new AzureAuthError('token_not_yet_valid', {
      description: `Token is not valid for another ${secondsAhead} seconds`,
      hint: 'The server clock is probably behind. Synchronise it (NTP) or raise clockToleranceSeconds.',
    }),
  invalidClaims: (claim: string) =>
    new AzureAuthError('invalid_claims', {
      description: `Claim "${claim}" is missing or has the wrong type`,
    }),
  invalidIssuer: (hint?: string) =>
    new AzureAuthError('invalid_issuer', {
      description: 'Token issuer is not trusted by this API',
      hint: hint ?? 'Check tenantId and authorityHost: the token comes from another tenant or cloud.',
    }),
  invalidAudience: (expected: readonly string[]) =>
    new AzureAuthError('invalid_audience', {
      description: 'Token audience is not this API',
      hint: `The token was issued for another application. Request a scope of this API (audiences accepted: ${expected.join(', ')}).`,
    }),
  versionNotAccepted: (version: string, accepted: readonly string[]) =>
    new AzureAuthError('token_version_not_accepted', {
      description: `Token version ${version === '1.0' || version === '2.0' ? version : '(unknown)'} is not accepted`,
      hint: `This API accepts ${accepted.join(' and ')} tokens. The version is set by requestedAccessTokenVersion in the API's app registration manifest.`,
    }),
  tenantNotAllowed: () =>
    new AzureAuthError('tenant_not_allowed', {
      description: 'Token tenant is not allowed by this API',
      hint: 'Add the tenant to allowedTenants (or tenantValidator) if it should be trusted.',
    }),
  graphToken: (clientId: string) =>
    new AzureAuthError('graph_token', {
      description: 'Token is for Microsoft Graph, not for this API',
      hint: `The client asked for a Graph scope such as User.Read. Request this API's own scope instead, e.g. api://${clientId}/Todolist.Read (MSAL: scopes: ['api://${clientId}/<scope>']).`,
    }),
  insufficientPermissions: (kind: 'scope' | 'app role' | 'app permission', required: readonly string[]) =>
    new AzureAuthError('insufficient_permissions', {
      description: `Token lacks a required ${kind}`,
      hint: `Any one of these ${kind}s would be enough: ${required.join(', ')}.`,
      requiredPermissions: required,
    }),
  membershipRequired: (kind: 'group' | 'directory role', required: readonly string[]) =>
    new AzureAuthError('insufficient_permissions', {
      description: `Caller is not in a required ${kind}`,
      hint: `Membership in any one of these ${kind === 'group' ? 'groups' : 'directory roles (role template ids)'} would be enough: ${required.join(', ')}.`,
      requiredMembership: required,
    }),
  groupsOverage: () =>
    new AzureAuthError('groups_overage', {
      description: 'The token carries no groups: the user is in more groups than a token holds (overage)',
      hint: "Let the module look the groups up in Microsoft Graph (give the API a clientCredential; see groupsOverage), emit only the groups assigned to the application (app registration > Token configuration > groups claim > 'Groups assigned to the application'), or authorize with app roles (@Roles) instead of groups.",
    }),
  groupsUnavailable: (retryAfterSeconds: number) =>
    new AzureAuthError('groups_unavailable', {
      description: "The user's groups could not be looked up: the token has a groups overage",
      hint: 'The groups lookup (Microsoft Graph, or groupsOverage.resolve) failed; the log says why. Retry later.',
      retryAfterSeconds,
    }),
  noPermissions: () =>
    new AzureAuthError('no_permissions', {
      description: 'Token carries neither scopes (scp) nor roles',
      hint: 'Request a scope of this API, or grant the client an app permission.',
    }),
  clientNotAllowed: () =>
    new AzureAuthError('client_not_allowed', {
      description: 'Client application is not allowed to call this API',
    }),
  guestNotAllowed: () =>
    new AzureAuthError('guest_not_allowed', {
      description: 'Guest users are not allowed to call this API',
    }),
  tokenRejected: () =>
    new AzureAuthError('token_rejected', {
      description: 'Token could not be validated',
    }),
  policyKeyNotFound: () =>
    new AzureAuthError('policy_key_not_found', {
      description: 'Token names no B2C policy, and no accepted policy holds its signing key',
      hint: 'The token has neither tfp nor acr: it was checked against the keys of every policy in "policies". Add its policy there, or have the user flow emit tfp.',
    }),
  policyMetadataUnavailable: () =>
    new AzureAuthError('keys_unavailable', {
      description: 'Signing keys of the authority are unavailable right now',
      hint: 'The metadata of the token\'s B2C policy could not be read (see the error logged at start-up: a policy name in "policies" may be wrong or not yet published).',
      retryAfterSeconds: 10,
    }),
  claimsChallenge: (claims: string | undefined, where: 'entra' | 'downstream') =>
    new AzureAuthError('insufficient_claims', {
      description:
        where === 'entra'
          ? 'Entra needs the user to sign in again before this API can call on their behalf'
          : 'The downstream API needs the user to sign in again (claims challenge)',
      hint: claims
        ? 'Acquire a new token interactively with these claims (MSAL.js: acquireTokenPopup({ scopes, claims: atob(claims) })), then retry.'
        : 'Acquire a new token interactively (MSAL.js: acquireTokenPopup), then retry.',
      claims,
    }),
  authContextChallenge: (authContexts: readonly string[], authorizationUri: string | undefined) =>
    new AzureAuthError('insufficient_claims', {
      description: 'This operation needs a stronger sign-in (Conditional Access authentication context)',
      hint: 'Acquire a new token interactively with these claims (MSAL.js: acquireTokenPopup or acquireTokenRedirect with { scopes, claims: atob(claims) }), then retry.',
      claims: authContextClaims(authContexts),
      authContexts,
      authorizationUri,
    }),
  authContextRequired: (authContexts: readonly string[]) =>
    new AzureAuthError('auth_context_required', {
      description: `This operation needs the authentication context ${authContexts.join(' or ')}`,
      hint: "The client cannot answer a claims challenge: declare clientCapabilities: ['cp1'] in the SPA's MSAL configuration and handle the 401 insufficient_claims challenge by calling acquireTokenPopup or acquireTokenRedirect with its claims.",
      authContexts,
    }),
  consentRequired: (scopes: readonly string[]) =>
    new AzureAuthError('consent_required', {
      description: 'Consent is missing for a downstream API this API calls on the user\'s behalf',
      hint:
        `Grant consent to ${scopes.join(', ')} for this API: an administrator grants it in the API's app registration (API permissions, Grant admin consent), ` +
        "or the client asks the user for it (MSAL.js: extraScopesToConsent, or list the client in the API's knownClientApplications).",
      requiredPermissions: scopes,
    }),
  userTokenRequired: () =>
    new AzureAuthError('user_token_required', {
      description: 'This call needs a signed-in user; the caller is an application',
      hint: 'On-behalf-of exchanges a user\'s token only. An application calling as itself gets this route\'s data through a route made for app-only callers.',
    }),
  tokenEndpointUnavailable: (retryAfterSeconds: number) =>
    new AzureAuthError('token_endpoint_unavailable', {
      description: 'Entra\'s token endpoint is unavailable right now',
      hint: 'The token for the downstream API could not be obtained in time. Retry later; the caller\'s token itself is fine.',
      retryAfterSeconds,
    }),
  downstreamUnavailable: (retryAfterSeconds: number) =>
    new AzureAuthError('downstream_unavailable', {
      description: 'The downstream API is unavailable right now',
      hint: 'It did not answer in time. Retry later.',
      retryAfterSeconds,
    }),
  downstreamTokenRefused: () =>
    new AzureAuthError('downstream_token_refused', {
      description: 'Entra refused the token request of this API for a downstream call',
      hint: 'The API\'s own configuration is at fault (its credential, its API permissions or the scopes it asks for): its log names the AADSTS error.',
    }),
  keysUnavailable: (retryAfterSeconds: number) =>
    new AzureAuthError('keys_unavailable', {
      description: 'Signing keys of the authority are unavailable right now',
      hint: 'The identity provider could not be reached. Retry later; the token itself may be fine.',
      retryAfterSeconds,
    }),
  webSocketTokenMissing: () =>
    new AzureAuthError('token_missing', {
      description: 'No access token in the WebSocket handshake',
      hint: 'Send it in the handshake: socket.io auth { token }, an "Authorization: Bearer" header, the subprotocols ["access_token", token], or graphql-ws connectionParams { authorization: "Bearer <token>" }.',
    }),
  callerChanged: () =>
    new AzureAuthError('caller_changed', {
      description: 'The new token belongs to another caller than the connection',
      hint: 'A connection keeps its caller: re-authenticate with a fresh token of the same user (or app), or open a new connection.',
    }),
} as const;
