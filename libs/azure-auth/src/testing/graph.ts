import { randomUUID } from 'node:crypto';
import { GRAPH_AUDIENCES } from '../azure-auth.constants.js';
import { MICROSOFT_GRAPH_APP_ID } from './downstream-grants.js';
import type { EmulatorFault } from './fault-injection.js';
import { verifyIssuedToken } from './issued-tokens.js';
import type { KeyStore } from './key-store.js';

/** A user of the emulated directory, as its Microsoft Graph shows them. */
export interface EmulatedDirectoryUser {
  /** Object id (`oid` of the user's tokens, `id` in Graph). */
  oid: string;
  /** Default: the `name` claim of the token Graph receives. */
  displayName?: string;
  /** Default: the token's `upn` or `preferred_username`. */
  userPrincipalName?: string;
  /** Default: the user principal name. */
  mail?: string;
  /** Object ids of the (security) groups the user is a member of, directly or not. Default: none. */
  groups?: string[];
}

/** The answer of a Graph route; the router writes it. */
export interface GraphAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A Graph request, as the router read it. */
export interface GraphRequest {
  readonly method: string;
  readonly pathname: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

/**
 * What the emulated Graph needs from the emulator.
 *
 * @internal
 */
export interface GraphSettings {
  readonly keys: KeyStore;
  /** `host[:port]` of the emulated Graph, for the `@odata.context` links. */
  readonly graphHost: string;
  readonly authorityHost: string;
  readonly users: ReadonlyMap<string, EmulatedDirectoryUser>;
}

// Graph's least-privileged permissions for these calls, and those above them (Microsoft Graph
// API reference); for another user's memberships both User.ReadBasic.All and GroupMember.Read.All.
const READ_SELF = ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const READ_OTHERS_MEMBERSHIPS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): GraphAnswer {
  return {
    status,
    headers,
    body: { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } },
  };
}

function words(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

/** The caller a Graph token names: delegated (`scp`) or app-only (`roles`), and what it may do. */
interface GraphCaller {
  readonly claims: Record<string, unknown>;
  readonly delegated: boolean;
  /** Delegated scopes, or application permissions. */
  readonly permissions: readonly string[];
}

/**
 * A minimal Microsoft Graph: `GET /v1.0/me`, `POST /v1.0/me/getMemberObjects` and
 * `/v1.0/users/{id}/getMemberObjects`, and `GET
 * /v1.0/me/transitiveMemberOf`, answered as Graph answers them, for tokens the emulator issued
 * for Graph (signature, audience, lifetime and permission checked as Graph would). Faults can make
 * it send a continuous access evaluation challenge (`claimsChallenge`) or fail.
 *
 * @internal
 */
export class GraphService {
  constructor(private readonly settings: GraphSettings) {}

  /** Whether a path is one of Graph's (`/v1.0/…`); everything else belongs to Entra's routes. */
  static matches(pathname: string): boolean {
    return pathname.startsWith('/v1.0/');
  }

  handle(request: GraphRequest, fault: EmulatorFault | null): GraphAnswer {
    const caller = this.authenticate(request.authorization);
    if ('status' in caller) return caller;
    if (fault?.claimsChallenge !== undefined) {
      // Graph's continuous access evaluation challenge: the claims are base64 JSON in the header.
      const claims = Buffer.from(fault.claimsChallenge, 'utf8').toString('base64');
      return graphError(401, 'TokenCreatedWithOutdatedPolicies', 'The token was issued before the latest policies applied; a new token with these claims is needed.', {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.settings.authorityHost}/common/oauth2/authorize", client_id="${MICROSOFT_GRAPH_APP_ID}", error="insufficient_claims", claims="${claims}"`,
      });
    }
    const { method, pathname } = request;
    if (pathname === '/v1.0/me' && method === 'GET') return this.me(caller);
    if (pathname === '/v1.0/me/transitiveMemberOf' && method === 'GET') return this.transitiveMemberOf(caller);
    if (pathname === '/v1.0/me/getMemberObjects' && method === 'POST') {
      if (!caller.delegated) return graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      return this.getMemberObjects(caller, String(caller.claims.oid ?? ''), request.body);
    }
    const memberObjects = /^\/v1\.0\/users\/([^/]+)\/getMemberObjects$/.exec(pathname);
    if (memberObjects && method === 'POST') {
      const userId = decodedSegment(memberObjects[1]!);
      if (userId === undefined) return graphError(400, 'BadRequest', 'The user id in the path is not a valid percent-encoded segment.');
      return this.getMemberObjects(caller, userId, request.body);
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${pathname.split('/').pop() ?? ''}' (the emulated Graph serves /v1.0/me, /v1.0/me/transitiveMemberOf and POST /v1.0/me/getMemberObjects and /v1.0/users/{id}/getMemberObjects).`);
  }

  private authenticate(authorization: string | undefined): GraphCaller | GraphAnswer {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'WWW-Authenticate': 'Bearer realm=""' });
    }
    const verified = verifyIssuedToken(token, this.settings.keys);
    if ('problem' in verified) {
      const message = verified.problem === 'expired' ? 'Lifetime validation failed, the token is expired.' : 'Access token validation failure. Invalid audience or signature.';
      return graphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' });
    }
    const claims = verified.token.payload;
    const audience = typeof claims.aud === 'string' ? claims.aud.toLowerCase() : '';
    if (!GRAPH_AUDIENCES.has(audience) && audience !== `https://${this.settings.graphHost}`) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' });
    }
    const scopes = words(claims.scp);
    return scopes.length > 0 ? { claims, delegated: true, permissions: scopes } : { claims, delegated: false, permissions: words(claims.roles) };
  }

  private me(caller: GraphCaller): GraphAnswer {
    if (!caller.delegated) {
      return graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    }
    if (!caller.permissions.some((permission) => READ_SELF.includes(permission))) return this.insufficientPrivileges();
    return { status: 200, body: { '@odata.context': `https://${this.settings.graphHost}/v1.0/$metadata#users/$entity`, ...this.profile(caller.claims) } };
  }

  private transitiveMemberOf(caller: GraphCaller): GraphAnswer {
    if (!caller.delegated) {
      return graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    }
    if (!caller.permissions.some((permission) => READ_SELF.includes(permission))) return this.insufficientPrivileges();
    const groups = this.groupsOf(String(caller.claims.oid ?? ''));
    return {
      status: 200,
      body: {
        '@odata.context': `https://${this.settings.graphHost}/v1.0/$metadata#directoryObjects`,
        value: groups.map((id) => ({ '@odata.type': '#microsoft.graph.group', id, securityEnabled: true })),
      },
    };
  }

  private getMemberObjects(caller: GraphCaller, id: string, body: string): GraphAnswer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (typeof (parsed as { securityEnabledOnly?: unknown } | undefined)?.securityEnabledOnly !== 'boolean') {
      return graphError(400, 'Request_BadRequest', "The request body must be JSON with the boolean parameter 'securityEnabledOnly'.");
    }
    const self = caller.delegated && id.toLowerCase() === String(caller.claims.oid ?? '').toLowerCase();
    const { permissions } = caller;
    const allowed = self
      ? permissions.some((permission) => READ_SELF.includes(permission))
      : permissions.some((permission) => READ_OTHERS_MEMBERSHIPS.includes(permission)) ||
        (permissions.includes('User.ReadBasic.All') && permissions.includes('GroupMember.Read.All'));
    if (!allowed) return this.insufficientPrivileges();
    return { status: 200, body: { '@odata.context': `https://${this.settings.graphHost}/v1.0/$metadata#Collection(Edm.String)`, value: this.groupsOf(id) } };
  }

  private insufficientPrivileges(): GraphAnswer {
    return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }

  private groupsOf(oid: string): string[] {
    return [...(this.settings.users.get(oid.toLowerCase())?.groups ?? [])];
  }

  /** A directory user as `/me` shows them: the emulated directory's entry, else what the token says. */
  private profile(claims: Record<string, unknown>): Record<string, unknown> {
    const oid = String(claims.oid ?? '');
    const entry = this.settings.users.get(oid.toLowerCase());
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const userPrincipalName = entry?.userPrincipalName ?? text(claims.upn) ?? text(claims.preferred_username) ?? text(claims.unique_name) ?? null;
    const displayName = entry?.displayName ?? text(claims.name) ?? null;
    return {
      businessPhones: [],
      displayName,
      givenName: text(claims.given_name) ?? null,
      jobTitle: null,
      mail: entry?.mail ?? userPrincipalName,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: text(claims.family_name) ?? null,
      userPrincipalName,
      id: oid,
    };
  }
}

/** A percent-decoded path segment, or `undefined` for a broken escape such as `%E0%A4%A` (never a throw). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
