import { isGuid } from '../shared/guid.js';
import { createHash, randomBytes } from 'node:crypto';
import type { MintOptions } from './access-token.js';
import { parseRedirectUri, type AccessPolicy } from './access-policy.js';
import { TENANT_ID_TEMPLATE } from './emulator-defaults.js';
import { resolveTenant, type ResolvedTenant } from './entra-documents.js';
import { JWT_BEARER_GRANT, type DownstreamGrants } from './downstream-grants.js';
import type { EmulatorFault } from './fault-injection.js';
import { CLIENT_ASSERTION_TYPE, basicCredentials, jsonError, missingParameter, tokenAnswer, type SignInAnswer } from './token-answers.js';

export type { SignInAnswer } from './token-answers.js';

/**
 * The user the emulator's authorize endpoint signs in: there is no sign-in page, every
 * authorization request is granted at once to this user.
 */
export interface EmulatedSignInUser {
  /** Object id of the user (`oid`). Default `ENTRA_EMULATOR_DEFAULTS.userObjectId`. */
  oid?: string;
  /** App roles assigned to the user, written as the `roles` claim of their tokens. Default: none (no `roles` claim). */
  roles?: string[];
}

/** The two sign-in endpoints of a tenant, `/{tenant}/oauth2/v2.0/authorize` and `/{tenant}/oauth2/v2.0/token`. */
export interface SignInRoute {
  endpoint: 'authorize' | 'token';
  tenant: ResolvedTenant;
}

/**
 * What the sign-in endpoints need from the emulator.
 *
 * @internal
 */
export interface SignInSettings {
  /** The API's application (client) id: the only resource tokens are issued for. */
  readonly clientId: string;
  readonly homeTenantId: string;
  readonly user: Readonly<EmulatedSignInUser>;
  /** Application permissions granted to every client of the client credentials grant. */
  readonly daemonRoles: readonly string[];
  /** Which clients the emulated tenant has registered, and where they may be sent back to. */
  readonly access: Pick<AccessPolicy, 'knowsClient' | 'acceptsRedirectUri'>;
  readonly mint: (options: MintOptions) => string;
  /** Lifetime of the tokens issued, in seconds. */
  readonly tokenLifetimeSeconds: number;
  /** The grants the API itself uses to call other APIs (on-behalf-of, its own client credentials). */
  readonly downstream: DownstreamGrants;
}

/** An authorization code waiting to be redeemed. */
interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  /** The granted scopes of the API, as requested (full URIs): the token answer's `scope`. */
  readonly scopeUris: readonly string[];
  /** The same scopes without the resource prefix: what `scp` carries. */
  readonly scopeNames: readonly string[];
  readonly tenantId: string;
  readonly expiresAt: number;
  /** What the request's `claims` asked for: authentication contexts the user stepped up to, and the client's capabilities. */
  readonly stepUp: RequestedClaims;
}

/** The access-token claims an authorization request asks for (its `claims` parameter), as the emulator grants them. */
interface RequestedClaims {
  readonly authContexts?: string[];
  readonly clientCapabilities?: string[];
}

const AUTH_CONTEXT_ID = /^c(?:[1-9]|[1-9][0-9])$/;

/** `{"value": "c1"}` or `{"values": ["c1", "c2"]}`, as a claims request names what it wants. */
function requestedValues(request: unknown): string[] | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  const { value, values } = request as { value?: unknown; values?: unknown };
  const list = values !== undefined ? values : value !== undefined ? [value] : undefined;
  return Array.isArray(list) && list.length > 0 && list.every((entry) => typeof entry === 'string') ? (list as string[]) : undefined;
}

/**
 * The `claims` parameter of an authorization request (OpenID Connect claims request, JSON): a
 * client answering a claims challenge asks for `access_token.acrs` (the user then satisfies those
 * authentication contexts at once, as a user passing the Conditional Access policy would), and
 * MSAL adds `access_token.xms_cc` for its declared client capabilities.
 */
function parseClaimsRequest(value: string | null): RequestedClaims | { problem: string } {
  if (value === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { problem: 'The claims parameter is not valid JSON.' };
  }
  const accessToken = (parsed as { access_token?: unknown } | null)?.access_token;
  if (accessToken === undefined) return {};
  if (accessToken === null || typeof accessToken !== 'object') return { problem: 'claims.access_token must be an object.' };
  const { acrs, xms_cc: capabilities } = accessToken as { acrs?: unknown; xms_cc?: unknown };
  const authContexts = acrs === undefined ? undefined : requestedValues(acrs);
  if (acrs !== undefined && (authContexts === undefined || !authContexts.every((id) => AUTH_CONTEXT_ID.test(id)))) {
    return { problem: 'claims.access_token.acrs must name authentication contexts c1 to c99, as {"essential":true,"value":"c1"} or {"values":["c1","c2"]}.' };
  }
  const clientCapabilities = capabilities === undefined ? undefined : requestedValues(capabilities);
  if (capabilities !== undefined && clientCapabilities === undefined) return { problem: 'claims.access_token.xms_cc must be {"values":["cp1"]}.' };
  return { authContexts, clientCapabilities };
}

/** Entra's codes live about ten minutes; long enough for a test, short enough to test expiry by moving the clock. */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
// The OpenID Connect scopes a client may add to an API's scopes; the emulator issues no ID or
// refresh token for them, as the API under test never sees either.
const OPENID_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);
// RFC 7636: a verifier is 43 to 128 unreserved characters; an S256 challenge is 32 bytes in base64url.
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Matches `/{tenant}/oauth2/v2.0/authorize` and `/token` for any method (the endpoints refuse wrong ones themselves). */
export function matchSignInRoute(pathname: string, homeTenantId: string): SignInRoute | undefined {
  const [tenantSegment, ...rest] = pathname.replace(/^\//, '').split('/');
  const endpoint = rest.join('/');
  if (endpoint !== 'oauth2/v2.0/authorize' && endpoint !== 'oauth2/v2.0/token') {
    return undefined;
  }
  const tenant = tenantSegment === undefined ? undefined : resolveTenant(tenantSegment, homeTenantId);
  return tenant === undefined ? undefined : { endpoint: endpoint === 'oauth2/v2.0/token' ? 'token' : 'authorize', tenant };
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * The authorization code flow (with PKCE) and the client credentials grant of one emulator, as
 * Entra's v2 endpoints answer them, minus everything a human would see: no sign-in page, no
 * consent. Its registrations are few: the clients it knows, redirected back to loopback or to the
 * redirect URIs it was given. Tokens are minted for the emulator's API only, so that the API under
 * test verifies them for real.
 *
 * @internal
 */
export class SignInService {
  private readonly codes = new Map<string, IssuedCode>();
  /** Codes already redeemed, until they would have expired: a replay gets Entra's own answer. */
  private readonly redeemed = new Map<string, number>();

  constructor(private readonly settings: SignInSettings) {}

  /** `GET /{tenant}/oauth2/v2.0/authorize`: signs the user in at once and redirects back with a code. */
  authorize(query: URLSearchParams, tenant: ResolvedTenant): SignInAnswer {
    this.forgetExpired();
    // Until the client and its redirect URI are known to be sound, errors cannot be sent back to
    // the client: Entra shows them on its own page, which here is a 400.
    const clientId = query.get('client_id');
    if (!clientId) {
      return missingParameter('client_id');
    }
    const unknown = this.unknownClient(clientId);
    if (unknown !== undefined) {
      return unknown;
    }
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) {
      return jsonError(400, 'invalid_request', 'No reply address provided: redirect_uri is required.');
    }
    const target = parseRedirectUri(redirectUri);
    if (target === undefined) {
      return jsonError(400, 'invalid_request', `The redirect URI '${redirectUri}' is not an absolute http(s) URL without fragment.`);
    }
    // A code sent to any URI would let a page the developer visits sign in as the emulated user.
    if (!this.settings.access.acceptsRedirectUri(target)) {
      return jsonError(
        400,
        'invalid_request',
        `The redirect URI '${redirectUri}' is not registered: the emulator redirects to loopback URIs and to EntraEmulatorOptions.redirectUris only.`,
        50011,
      );
    }

    const state = query.get('state');
    const responseMode = query.get('response_mode') ?? 'query';
    const back = (params: Record<string, string>): SignInAnswer => {
      const answer = new URLSearchParams(params);
      if (state !== null) answer.set('state', state);
      // Fragment mode keeps the answer out of server logs; the client asked for it.
      if (responseMode === 'fragment') {
        return { type: 'redirect', location: `${target.href}#${answer.toString()}` };
      }
      const location = new URL(target.href);
      for (const [name, value] of answer) location.searchParams.set(name, value);
      return { type: 'redirect', location: location.href };
    };
    const refuse = (error: string, description: string, code?: number): SignInAnswer =>
      back({ error, error_description: code === undefined ? description : `AADSTS${code}: ${description}` });

    if (responseMode !== 'query' && responseMode !== 'fragment') {
      return refuse('invalid_request', `The emulator answers with response_mode query or fragment, not '${responseMode}'.`);
    }
    const responseType = query.get('response_type');
    if (!responseType) {
      return refuse('invalid_request', "The request must contain the parameter 'response_type'.", 900144);
    }
    if (responseType !== 'code') {
      return refuse('unsupported_response_type', `The emulator supports the authorization code flow only (response_type=code), not '${responseType}'.`);
    }
    const scope = query.get('scope');
    if (!scope?.trim()) {
      return refuse('invalid_request', "The request must contain the parameter 'scope'.", 900144);
    }
    const scopes = this.apiScopes(scope);
    if ('problem' in scopes) {
      return refuse('invalid_scope', scopes.problem, 70011);
    }
    const codeChallenge = query.get('code_challenge');
    if (!codeChallenge) {
      return refuse('invalid_request', 'Proof Key for Code Exchange is required: code_challenge is missing.', 9002325);
    }
    // Entra also takes `plain`; the emulator does not, so that a test catches a client that would
    // send its verifier in clear through the browser.
    if (query.get('code_challenge_method') !== 'S256' || !S256_CHALLENGE.test(codeChallenge)) {
      return refuse('invalid_request', 'The emulator requires code_challenge_method=S256 and a 43-character base64url code_challenge.');
    }
    // Entra only recommends `state`; requiring it catches a client without CSRF protection.
    if (!state) {
      return refuse('invalid_request', 'The emulator requires the parameter state, which protects the client from cross-site request forgery.');
    }

    const stepUp = parseClaimsRequest(query.get('claims'));
    if ('problem' in stepUp) {
      return refuse('invalid_request', stepUp.problem, 90014);
    }

    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, {
      stepUp,
      clientId,
      redirectUri,
      codeChallenge,
      scopeUris: scopes.uris,
      scopeNames: scopes.names,
      tenantId: this.tokenTenant(tenant),
      expiresAt: Date.now() + AUTHORIZATION_CODE_LIFETIME_MS,
    });
    return back({ code });
  }

  /**
   * `POST /{tenant}/oauth2/v2.0/token` with a form body already parsed. `tokenEndpoint`: the URL
   * posted to, without query; `fault`: the token endpoint's fault when the request arrived.
   */
  token(form: URLSearchParams, authorization: string | undefined, tenant: ResolvedTenant, tokenEndpoint: string, fault: EmulatorFault | null): SignInAnswer {
    this.forgetExpired();
    const grantType = form.get('grant_type');
    if (!grantType) {
      return missingParameter('grant_type');
    }
    if (grantType === 'authorization_code') {
      return this.redeemCode(form, tenant);
    }
    if (grantType === JWT_BEARER_GRANT) {
      return this.settings.downstream.onBehalfOf(form, authorization, tenant, tokenEndpoint, fault);
    }
    if (grantType === 'client_credentials') {
      // The API asking for a token of its own (to call Graph or another API) is a confidential
      // client with a credential to check; any other client is a daemon calling the API.
      const clientId = form.get('client_id') || basicCredentials(authorization)?.clientId;
      return this.settings.downstream.isApi(clientId)
        ? this.settings.downstream.clientCredentials(form, authorization, tenant, tokenEndpoint)
        : this.clientCredentials(form, authorization, tenant);
    }
    return jsonError(400, 'unsupported_grant_type', `The emulator supports grant_type authorization_code, client_credentials and ${JWT_BEARER_GRANT} (on-behalf-of), not '${grantType}'.`);
  }

  private redeemCode(form: URLSearchParams, tenant: ResolvedTenant): SignInAnswer {
    for (const name of ['client_id', 'code', 'redirect_uri', 'code_verifier']) {
      if (!form.get(name)) return missingParameter(name);
    }
    const code = form.get('code')!;
    const issued = this.codes.get(code);
    if (issued === undefined) {
      return this.redeemed.has(code)
        ? jsonError(400, 'invalid_grant', 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.', 54005)
        : jsonError(400, 'invalid_grant', 'The authorization code is not one this emulator issued.');
    }
    // One attempt per code, right or wrong, as Entra does: a wrong verifier must not be retried.
    this.codes.delete(code);
    this.redeemed.set(code, issued.expiresAt);
    if (Date.now() >= issued.expiresAt) {
      return jsonError(400, 'invalid_grant', 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.', 70008);
    }
    if (form.get('client_id') !== issued.clientId) {
      return jsonError(400, 'invalid_grant', 'The authorization code was issued to another client_id.');
    }
    if (form.get('redirect_uri') !== issued.redirectUri) {
      return jsonError(400, 'invalid_grant', 'The redirect_uri differs from the one of the authorization request.');
    }
    if (this.tokenTenant(tenant) !== issued.tenantId) {
      return jsonError(400, 'invalid_grant', 'The authorization code was issued for another tenant.');
    }
    const verifier = form.get('code_verifier')!;
    if (!CODE_VERIFIER.test(verifier) || s256(verifier) !== issued.codeChallenge) {
      return jsonError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.');
    }
    const { user } = this.settings;
    const accessToken = this.settings.mint({
      tenantId: issued.tenantId,
      clientAppId: issued.clientId,
      scopes: [...issued.scopeNames],
      oid: user.oid,
      roles: user.roles?.length ? [...user.roles] : undefined,
      authContexts: issued.stepUp.authContexts,
      clientCapabilities: issued.stepUp.clientCapabilities,
      expiresInSeconds: this.settings.tokenLifetimeSeconds,
    });
    return tokenAnswer(accessToken, this.settings.tokenLifetimeSeconds, { scope: issued.scopeUris.join(' ') });
  }

  private clientCredentials(form: URLSearchParams, authorization: string | undefined, tenant: ResolvedTenant): SignInAnswer {
    const basic = basicCredentials(authorization);
    const clientId = form.get('client_id') || basic?.clientId;
    if (!clientId) {
      return missingParameter('client_id');
    }
    const unknown = this.unknownClient(clientId);
    if (unknown !== undefined) {
      return unknown;
    }
    // Any secret or assertion will do: the emulator keeps no credentials to check them against,
    // but a daemon that sends neither would fail against Entra and must fail here too.
    const assertion = form.get('client_assertion') && form.get('client_assertion_type') === CLIENT_ASSERTION_TYPE;
    if (!form.get('client_secret') && !assertion && !basic?.secret) {
      return jsonError(401, 'invalid_client', "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 7000218);
    }
    const scope = form.get('scope');
    if (!scope) {
      return missingParameter('scope');
    }
    const requested = scope.trim().split(/\s+/);
    const resource = requested.length === 1 && requested[0]!.endsWith('/.default') ? requested[0]!.slice(0, -'/.default'.length) : undefined;
    if (resource === undefined) {
      return jsonError(400, 'invalid_scope', `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, 1002012);
    }
    if (!this.isApiResource(resource)) {
      return jsonError(400, 'invalid_resource', `The emulator issues tokens for its API only (api://${this.settings.clientId}), not for '${resource}'.`);
    }
    if (tenant.issuerTenantId === TENANT_ID_TEMPLATE) {
      return jsonError(400, 'invalid_request', `The client credentials grant needs a tenant (its id or a domain), not '${tenant.pathSegment}'.`);
    }
    const roles = this.settings.daemonRoles;
    const accessToken = this.settings.mint({
      kind: 'app',
      tenantId: tenant.issuerTenantId,
      clientAppId: clientId,
      roles: roles.length > 0 ? [...roles] : undefined,
      expiresInSeconds: this.settings.tokenLifetimeSeconds,
    });
    return tokenAnswer(accessToken, this.settings.tokenLifetimeSeconds);
  }

  /** The API's scopes in a `scope` parameter, with and without their resource prefix, or what is wrong with it. */
  private apiScopes(scope: string): { uris: string[]; names: string[] } | { problem: string } {
    const uris: string[] = [];
    const names: string[] = [];
    for (const requested of scope.trim().split(/\s+/)) {
      if (OPENID_SCOPES.has(requested)) continue;
      const slash = requested.lastIndexOf('/');
      const name = requested.slice(slash + 1);
      if (slash < 0 || !this.isApiResource(requested.slice(0, slash))) {
        return { problem: `The emulator issues tokens for its API only: request its scopes as api://${this.settings.clientId}/{scope}, not '${requested}'.` };
      }
      // `.default` means "whatever was consented", which the emulator has no record of.
      if (name === '' || name === '.default') {
        return { problem: `The emulator needs the scopes by name (api://${this.settings.clientId}/Todolist.Read), not '${requested}'.` };
      }
      if (!names.includes(name)) {
        uris.push(requested);
        names.push(name);
      }
    }
    if (names.length === 0) {
      return { problem: `No scope of the emulator's API was requested: add api://${this.settings.clientId}/{scope}.` };
    }
    return { uris, names };
  }

  /** Entra's answer to a client it has no registration of; undefined for a client it knows. */
  private unknownClient(clientId: string): SignInAnswer | undefined {
    if (!isGuid(clientId)) {
      return jsonError(400, 'unauthorized_client', `Application with identifier '${clientId}' was not found in the directory: client_id must be an application (client) id GUID.`);
    }
    if (!this.settings.access.knowsClient(clientId)) {
      return jsonError(
        400,
        'unauthorized_client',
        `Application with identifier '${clientId}' was not found in the directory: the emulator knows its clientAppId and EntraEmulatorOptions.signInClientIds only.`,
        700016,
      );
    }
    return undefined;
  }

  /** Entra knows an API by its App ID URI or its bare application id. */
  private isApiResource(resource: string): boolean {
    const clientId = this.settings.clientId.toLowerCase();
    const lower = resource.toLowerCase();
    return lower === `api://${clientId}` || lower === clientId;
  }

  /** The tenant of the signed-in user: `common` and `organizations` sign in to the emulator's own. */
  private tokenTenant(tenant: ResolvedTenant): string {
    return tenant.issuerTenantId === TENANT_ID_TEMPLATE ? this.settings.homeTenantId : tenant.issuerTenantId;
  }

  /** Keeps memory bounded; a code stays known for one more lifetime so that a late redemption is told it expired. */
  private forgetExpired(): void {
    const horizon = Date.now() - AUTHORIZATION_CODE_LIFETIME_MS;
    for (const [code, issued] of this.codes) {
      if (issued.expiresAt <= horizon) this.codes.delete(code);
    }
    for (const [code, expiresAt] of this.redeemed) {
      if (expiresAt <= horizon) this.redeemed.delete(code);
    }
  }
}
