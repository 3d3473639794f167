import { randomBytes } from 'node:crypto';
import { isGuid } from '../shared/guid.js';
import type { MintOptions } from './access-token.js';
import type { ApiRegistration } from './confidential-client.js';
import { TENANT_ID_TEMPLATE } from './emulator-defaults.js';
import type { ResolvedTenant } from './entra-documents.js';
import type { EmulatorFault } from './fault-injection.js';
import { verifyIssuedToken } from './issued-tokens.js';
import type { KeyStore } from './key-store.js';
import { jsonError, missingParameter, tokenAnswer, type SignInAnswer } from './token-answers.js';

/** The application id of Microsoft Graph: the `aud` of the tokens Graph takes. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** `grant_type` of the on-behalf-of flow (RFC 7523 JWT bearer). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

// The OpenID Connect scopes MSAL adds to every user request; they name no resource.
const OPENID_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * What the downstream grants need from the emulator.
 *
 * @internal
 */
export interface DownstreamGrantSettings {
  readonly api: ApiRegistration;
  readonly keys: KeyStore;
  /** `host[:port]` of Microsoft Graph as the metadata names it (the emulator's own over HTTPS). */
  readonly graphHost: string;
  readonly tokenLifetimeSeconds: number;
  /** Application permissions of the API on the APIs it calls: the `roles` of its client-credentials tokens. */
  readonly apiAppPermissions: readonly string[];
  readonly mint: (options: MintOptions) => string;
}

/** A downstream API named by a scope: Microsoft Graph, or another API by its application id. */
interface DownstreamResource {
  /** Microsoft Graph's app id, or the other API's client id (lower case). */
  readonly appId: string;
  readonly graph: boolean;
}

/**
 * The grants the API itself uses at the token endpoint to call other APIs: on-behalf-of
 * (exchanging its caller's token for one to a downstream API, for the same user) and client
 * credentials (a token of its own). Both require the API's credential ({@link ApiRegistration}),
 * and issue tokens for Microsoft Graph or any other API (`api://{appId}/…`), for the scopes asked:
 * the emulated tenant has consented to everything, unless a fault says otherwise.
 *
 * @internal
 */
export class DownstreamGrants {
  constructor(private readonly settings: DownstreamGrantSettings) {}

  /** `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use=on_behalf_of`. */
  onBehalfOf(form: URLSearchParams, authorization: string | undefined, tenant: ResolvedTenant, tokenEndpoint: string, fault: EmulatorFault | null): SignInAnswer {
    const refused = this.authenticateApi(form, authorization, tokenEndpoint);
    if (refused) return refused;
    if (form.get('requested_token_use') !== 'on_behalf_of') {
      return jsonError(400, 'invalid_request', "The jwt-bearer grant needs requested_token_use=on_behalf_of (the emulator answers on-behalf-of requests only).", 900144);
    }
    const assertion = form.get('assertion');
    if (!assertion) return missingParameter('assertion');
    const scope = form.get('scope');
    if (!scope) return missingParameter('scope');

    const verified = verifyIssuedToken(assertion, this.settings.keys);
    if ('problem' in verified) {
      return verified.problem === 'expired' || verified.problem === 'not_yet_valid'
        ? jsonError(400, 'invalid_grant', 'Assertion is not within its valid time range.', 500133)
        : jsonError(400, 'invalid_grant', 'Assertion failed signature validation.', 50013);
    }
    const caller = verified.token.payload;
    const clientId = this.settings.api.clientId.toLowerCase();
    const audience = typeof caller.aud === 'string' ? caller.aud.toLowerCase() : undefined;
    // The token must have been issued to the API that exchanges it.
    if (audience !== clientId && audience !== `api://${clientId}`) {
      return jsonError(400, 'invalid_grant', 'Assertion audience does not match the Client app presenting the assertion.', 50013);
    }
    if (typeof caller.scp !== 'string' || caller.idtyp === 'app') {
      return jsonError(400, 'invalid_grant', 'The assertion is an app-only token: the on-behalf-of flow exchanges the token of a signed-in user.', 50013);
    }
    const tenantId = typeof caller.tid === 'string' ? caller.tid : undefined;
    if (tenantId === undefined || (tenant.issuerTenantId !== TENANT_ID_TEMPLATE && tenant.issuerTenantId !== tenantId.toLowerCase())) {
      return jsonError(400, 'invalid_grant', "The assertion's tenant (tid) is not the tenant of this token endpoint.", 50013);
    }
    const requested = this.requestedScopes(scope, 'delegated');
    if ('answer' in requested) return requested.answer;
    if (fault?.consentRequired) {
      return jsonError(
        400,
        'invalid_grant',
        `The user or administrator has not consented to use the application with ID '${this.settings.api.clientId}'. Send an interactive authorization request for this user and resource.`,
        65001,
        { suberror: 'consent_required' },
      );
    }
    if (fault?.claimsChallenge !== undefined) {
      return jsonError(
        400,
        'interaction_required',
        `Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '${requested.resource.appId}'.`,
        50079,
        { claims: fault.claimsChallenge },
      );
    }
    const oid = typeof caller.oid === 'string' ? caller.oid : undefined;
    const userClaims: Record<string, unknown> = {};
    for (const claim of ['name', 'preferred_username', 'upn', 'unique_name', 'given_name', 'family_name']) {
      if (caller[claim] !== undefined) userClaims[claim] = caller[claim];
    }
    const { resource, names, asRequested } = requested;
    const accessToken = this.settings.mint({
      // Graph's tokens are v1 tokens with a nonce in the header, as the real ones.
      version: resource.graph ? 1 : 2,
      clientId: resource.appId,
      audience: resource.appId,
      clientAppId: clientId,
      tenantId,
      oid,
      scopes: names,
      expiresInSeconds: this.settings.tokenLifetimeSeconds,
      claims: userClaims,
      header: resource.graph ? { nonce: randomBytes(32).toString('base64url') } : undefined,
    });
    const clientInfo = Buffer.from(JSON.stringify({ uid: oid, utid: tenantId })).toString('base64url');
    return tokenAnswer(accessToken, this.settings.tokenLifetimeSeconds, { scope: asRequested.join(' '), client_info: clientInfo });
  }

  /** `grant_type=client_credentials` asked by the API itself: a token of its own for Graph or another API. */
  clientCredentials(form: URLSearchParams, authorization: string | undefined, tenant: ResolvedTenant, tokenEndpoint: string): SignInAnswer {
    const refused = this.authenticateApi(form, authorization, tokenEndpoint);
    if (refused) return refused;
    const scope = form.get('scope');
    if (!scope) return missingParameter('scope');
    if (tenant.issuerTenantId === TENANT_ID_TEMPLATE) {
      return jsonError(400, 'invalid_request', `The client credentials grant needs a tenant (its id or a domain), not '${tenant.pathSegment}'.`);
    }
    const requested = this.requestedScopes(scope, 'application');
    if ('answer' in requested) return requested.answer;
    const roles = this.settings.apiAppPermissions;
    const accessToken = this.settings.mint({
      kind: 'app',
      version: requested.resource.graph ? 1 : 2,
      clientId: requested.resource.appId,
      audience: requested.resource.appId,
      clientAppId: this.settings.api.clientId,
      tenantId: tenant.issuerTenantId,
      roles: roles.length > 0 ? [...roles] : undefined,
      expiresInSeconds: this.settings.tokenLifetimeSeconds,
    });
    return tokenAnswer(accessToken, this.settings.tokenLifetimeSeconds);
  }

  /** Whether a token request comes from the API itself (by its `client_id`). */
  isApi(clientId: string | null | undefined): boolean {
    return this.settings.api.isApi(clientId);
  }

  private authenticateApi(form: URLSearchParams, authorization: string | undefined, tokenEndpoint: string): SignInAnswer | undefined {
    const clientId = form.get('client_id');
    if (!clientId) return missingParameter('client_id');
    if (!this.settings.api.isApi(clientId)) {
      return jsonError(400, 'unauthorized_client', `The emulator's downstream grants serve its API's own registration (${this.settings.api.clientId}), not '${clientId}'.`, 700016);
    }
    return this.settings.api.authenticate(form, authorization, tokenEndpoint);
  }

  /**
   * The one resource a `scope` parameter names, and the scopes as `scp` carries them. Delegated
   * scopes are named (`User.Read`, `api://{appId}/Tasks.Read`; a bare name is Microsoft Graph's,
   * as Entra reads it; Graph's `.default` is User.Read, which every registration starts with);
   * application scopes are `{resource}/.default`.
   */
  private requestedScopes(
    scope: string,
    kind: 'delegated' | 'application',
  ): { resource: DownstreamResource; names: string[]; asRequested: string[] } | { answer: SignInAnswer } {
    let resource: DownstreamResource | undefined;
    const names: string[] = [];
    const asRequested: string[] = [];
    for (const requested of scope.trim().split(/\s+/)) {
      if (OPENID_SCOPES.has(requested)) continue;
      const slash = requested.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : requested.slice(0, slash);
      const name = requested.slice(slash + 1);
      const named = prefix === undefined ? { appId: MICROSOFT_GRAPH_APP_ID, graph: true } : this.resourceOf(prefix);
      if (named === undefined) {
        return { answer: jsonError(400, 'invalid_resource', `The resource principal named ${prefix} was not found in the tenant: the emulator issues tokens for Microsoft Graph and for APIs named api://{appId}.`, 500011) };
      }
      if (resource !== undefined && resource.appId !== named.appId) {
        return { answer: jsonError(400, 'invalid_scope', `The provided value for the input parameter scope '${scope}' is not valid because it contains more than one resource.`, 28000) };
      }
      resource = named;
      if (kind === 'application' && name !== '.default') {
        return { answer: jsonError(400, 'invalid_scope', `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, 1002012) };
      }
      if (kind === 'delegated' && name === '.default' && !named.graph) {
        return { answer: jsonError(400, 'invalid_scope', `The emulator has no record of what was consented for ${prefix}: ask for its scopes by name, not '${requested}'.`, 70011) };
      }
      const granted = name === '.default' ? 'User.Read' : name;
      if (name === '' || names.includes(granted)) continue;
      names.push(granted);
      asRequested.push(requested);
    }
    if (resource === undefined) {
      return { answer: jsonError(400, 'invalid_scope', `The scope '${scope}' names no resource: ask for a scope of Microsoft Graph (User.Read) or of an API (api://{appId}/{scope}).`, 70011) };
    }
    return { resource, names: kind === 'application' ? [] : names, asRequested };
  }

  /** Microsoft Graph under any of its names (the public cloud's, its app id, the emulator's own), or an API by its app id. */
  private resourceOf(prefix: string): DownstreamResource | undefined {
    const lower = prefix.toLowerCase().replace(/\/+$/, '');
    if (lower === MICROSOFT_GRAPH_APP_ID || lower === 'https://graph.microsoft.com' || lower === `https://${this.settings.graphHost}`) {
      return { appId: MICROSOFT_GRAPH_APP_ID, graph: true };
    }
    const appId = lower.startsWith('api://') ? lower.slice('api://'.length) : lower;
    return isGuid(appId) ? { appId, graph: false } : undefined;
  }
}
