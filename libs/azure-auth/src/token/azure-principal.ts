import type { AzureTokenVersion } from '../azure-auth.options.js';
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
  /** All claims of the verified token. */
  readonly claims: Readonly<AzureAccessTokenClaims>;
}

/** App-only: `idtyp` says so, or, without `idtyp`, there is no `scp` and `oid` equals `sub`. */
export function isAppOnly(claims: AzureAccessTokenClaims): boolean {
  if (claims.idtyp === 'app') return true;
  if (claims.idtyp === 'user') return false;
  return claims.scp === undefined && claims.oid !== undefined && claims.oid === claims.sub;
}

export function isGuest(claims: AzureAccessTokenClaims): boolean {
  return claims.acct === 1 || (typeof claims.idp === 'string' && claims.idp !== claims.iss);
}

/**
 * Builds the principal from claims whose shapes were already checked. In B2C and External ID
 * (`customAuthority`) `idp` names a social or federated identity provider, not a home tenant, so
 * only `acct` marks a guest there.
 */
export function createPrincipal(claims: AzureAccessTokenClaims, tenantId: string, version: AzureTokenVersion, customAuthority = false): AzurePrincipal {
  const appOnly = isAppOnly(claims);
  return Object.freeze({
    oid: claims.oid ?? '',
    tid: tenantId,
    sub: claims.sub ?? '',
    scopes: Object.freeze(claims.scp ? claims.scp.split(' ').filter(Boolean) : []),
    roles: Object.freeze(claims.roles ? [...claims.roles] : []),
    appOnly,
    guest: !appOnly && (customAuthority ? claims.acct === 1 : isGuest(claims)),
    tokenVersion: version,
    clientId: (version === '2.0' ? claims.azp : claims.appid) ?? claims.azp ?? claims.appid ?? '',
    name: claims.name,
    username: claims.preferred_username ?? claims.upn ?? claims.unique_name,
    expiresAt: claims.exp,
    claims: Object.freeze(claims),
  });
}
