import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority } from '../azure-auth.options.resolve.js';
import type { AzureAccessTokenClaims } from './claims.js';

/** The verified caller, as handlers receive it through `@AzureUser()` (and `request.user`). */
export interface AzurePrincipal {
  /** Object id of the user or of the client's service principal. */
  readonly oid: string;
  /** Tenant the token was issued in. */
  readonly tid: string;
  /** Subject: unique per user (or app) and per application. */
  readonly sub: string;
  /** Delegated scopes (`scp`), empty for app-only tokens. */
  readonly scopes: readonly string[];
  /** App roles of a user, or app permissions of an app-only token (`roles`). */
  readonly roles: readonly string[];
  /**
   * Security group object ids from the `groups` claim. For a token with a groups overage, on a
   * `@Groups` route: the groups resolved for it (`groupsOverage`); elsewhere empty.
   */
  readonly groups: readonly string[];
  /** Directory role template ids from the `wids` claim. */
  readonly wids: readonly string[];
  /** True when an application calls as itself (no signed-in user). */
  readonly appOnly: boolean;
  /** True for a delegated token of a guest user (`acct` 1, or `idp` not the issuer). */
  readonly guest: boolean;
  readonly tokenVersion: AzureTokenVersion;
  /** The calling client application (`azp` in v2, `appid` in v1). */
  readonly clientId: string;
  /** Display name of the user, when the token carries one. */
  readonly name?: string;
  /** Sign-in name (`preferred_username`, `upn` or `unique_name`), when present. Not an identifier: use `oid`. */
  readonly username?: string;
  /** Expiry, seconds since the epoch. */
  readonly expiresAt: number;
  /** All claims of the verified token, frozen to the last nested value (one caller object serves every request with its token). */
  readonly claims: Readonly<AzureAccessTokenClaims>;
}

/** Claims only a user's token carries: a token with any of them was not issued to an application alone. */
const USER_CLAIMS = ['auth_time', 'name', 'preferred_username', 'upn', 'unique_name', 'emails', 'given_name', 'family_name', 'amr'] as const;

/**
 * App-only (client credentials, no signed-in user), from what the token proves. `idtyp` (an
 * optional claim) says so outright. Workforce tenants: no `scp` and `oid` equal to `sub`. B2C and
 * External ID: there `sub` is the user's object id by default, so `oid == sub` proves nothing; a
 * token is app-only only when the client authenticated with a secret or certificate
 * (`azpacr`/`appidacr` 1 or 2), there is no `scp`, and no user claim.
 */
export function isAppOnly(claims: AzureAccessTokenClaims, customAuthority = false): boolean {
  if (claims.idtyp === 'app') return true;
  if (claims.idtyp !== undefined || claims.scp !== undefined) return false;
  if (!customAuthority) return claims.oid !== undefined && claims.oid === claims.sub;
  const clientAuthentication = claims.azpacr ?? claims.appidacr;
  if (clientAuthentication !== '1' && clientAuthentication !== '2') return false;
  for (const claim of USER_CLAIMS) if (claims[claim] !== undefined) return false;
  return true;
}

/**
 * A guest: `acct` 1, or (workforce) an `idp` other than the issuer. In B2C and External ID `idp`
 * names a social or federated identity provider, not a home tenant, so only `acct` counts there.
 */
export function isGuest(claims: AzureAccessTokenClaims, customAuthority = false): boolean {
  if (claims.acct === 1) return true;
  return !customAuthority && typeof claims.idp === 'string' && claims.idp !== claims.iss;
}

/** Freezes claims to the last nested value (JSON holds objects, arrays and primitives only). */
function deepFreeze(value: object): void {
  Object.freeze(value);
  // An array by index (Object.values would copy it first); an object by Object.values rather than
  // for...in: one native call, and no prototype chain walked.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeMember(value[i]);
  } else {
    for (const member of Object.values(value)) freezeMember(member);
  }
}

function freezeMember(member: unknown): void {
  if (typeof member === 'object' && member !== null) deepFreeze(member);
}

/** One frozen empty list for every caller without scopes, roles, groups or directory roles. */
const NONE: readonly string[] = Object.freeze([]);

/** A list claim of object ids (`groups`, `wids`): its string members in lower case, frozen. */
function objectIds(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) return NONE;
  const ids: string[] = [];
  for (const member of value) if (typeof member === 'string') ids.push(member.toLowerCase());
  return ids.length === 0 ? NONE : Object.freeze(ids);
}

/** `scp` as a list: space separated, empty names dropped. */
function scopesOf(scp: string | undefined): readonly string[] {
  if (!scp) return NONE;
  const scopes = scp.split(' ');
  return Object.freeze(scopes.includes('') ? scopes.filter(Boolean) : scopes);
}

/**
 * The principal this module creates: the fields of {@link AzurePrincipal}, and who issued its token
 * in a private field (invisible to handlers, not copied by a spread: a lookalike never passes).
 */
class VerifiedPrincipal implements AzurePrincipal {
  declare readonly oid: string;
  declare readonly tid: string;
  declare readonly sub: string;
  declare readonly scopes: readonly string[];
  declare readonly roles: readonly string[];
  declare readonly groups: readonly string[];
  declare readonly wids: readonly string[];
  declare readonly appOnly: boolean;
  declare readonly guest: boolean;
  declare readonly tokenVersion: AzureTokenVersion;
  declare readonly clientId: string;
  declare readonly name?: string;
  declare readonly username?: string;
  declare readonly expiresAt: number;
  declare readonly claims: Readonly<AzureAccessTokenClaims>;
  readonly #authority: ResolvedAuthority;

  constructor(fields: AzurePrincipal, authority: ResolvedAuthority) {
    // Field by field, in one order: every principal gets one shape, and the literal passed in is
    // never allocated once this is inlined (Object.assign would copy it through a generic path).
    this.oid = fields.oid;
    this.tid = fields.tid;
    this.sub = fields.sub;
    this.scopes = fields.scopes;
    this.roles = fields.roles;
    this.groups = fields.groups;
    this.wids = fields.wids;
    this.appOnly = fields.appOnly;
    this.guest = fields.guest;
    this.tokenVersion = fields.tokenVersion;
    this.clientId = fields.clientId;
    this.name = fields.name;
    this.username = fields.username;
    this.expiresAt = fields.expiresAt;
    this.claims = fields.claims;
    this.#authority = authority;
    Object.freeze(this);
  }

  static authorityOf(value: unknown): ResolvedAuthority | undefined {
    return typeof value === 'object' && value !== null && #authority in value ? (value as VerifiedPrincipal).#authority : undefined;
  }
}

/**
 * Builds the principal from claims whose shapes were already checked, for the authority whose
 * rules admitted the token. Frozen, claims included, to the last nested value; `roles` is the
 * claim's own (frozen) array.
 * @internal
 */
export function createPrincipal(claims: AzureAccessTokenClaims, tenantId: string, version: AzureTokenVersion, authority: ResolvedAuthority): AzurePrincipal {
  const custom = authority.customAuthority;
  const appOnly = isAppOnly(claims, custom);
  deepFreeze(claims);
  return new VerifiedPrincipal(
    {
      oid: claims.oid ?? '',
      tid: tenantId,
      sub: claims.sub ?? '',
      scopes: scopesOf(claims.scp),
      roles: claims.roles ?? NONE,
      groups: objectIds(claims.groups),
      wids: objectIds(claims.wids),
      appOnly,
      guest: !appOnly && isGuest(claims, custom),
      tokenVersion: version,
      clientId: (version === '2.0' ? claims.azp : claims.appid) ?? claims.azp ?? claims.appid ?? '',
      name: claims.name,
      username: claims.preferred_username ?? claims.upn ?? claims.unique_name,
      expiresAt: claims.exp,
      claims,
    },
    authority,
  );
}

/**
 * The same caller with the groups an overage token could not carry, resolved elsewhere (Microsoft
 * Graph, or the app's own lookup).
 * @internal
 */
export function withResolvedGroups(principal: AzurePrincipal, groups: readonly string[]): AzurePrincipal {
  const authority = VerifiedPrincipal.authorityOf(principal);
  if (authority === undefined) throw new TypeError('withResolvedGroups: not a principal of this module');
  return new VerifiedPrincipal({ ...principal, groups: objectIds(groups) }, authority);
}

/**
 * The settings of the authority that admitted a principal: what authorization judges it by.
 * `undefined` for anything this module did not create (another guard's `request.user`).
 * @internal
 */
export function authorityOf(principal: unknown): ResolvedAuthority | undefined {
  return VerifiedPrincipal.authorityOf(principal);
}
