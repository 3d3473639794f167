import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority } from '../azure-auth.options.resolve.js';
import { CONSUMERS_TENANT_ID, GRAPH_AUDIENCES } from '../azure-auth.constants.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import type { DiscoveredAuthority, IssuerRoute } from '../metadata/authority-metadata.js';
import { fillIssuer, TENANT_PLACEHOLDER, tenantOfIssuer } from '../metadata/issuer.js';
import { isGuid } from '../shared/guid.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';

/**
 * Entra's rules for an access token, one function each. `AzureTokenVerifier` calls them in this
 * file's order: before the key is looked up (Graph, claim types, authority, lifetime, algorithm,
 * version, issuer, policy), then on the key (key issuer), and after the RS256 signature check
 * (audience, tenant). Each throws an `AzureAuthError` naming what failed.
 */

/** Where a token's issuer places it: the metadata route whose keys must have signed it, and its tenant. */
export interface IssuedBy {
  readonly route: IssuerRoute;
  readonly version: AzureTokenVersion;
  readonly issuer: string;
  /** The token's tenant, lower case. */
  readonly tenantId: string;
}

/** kids in Entra's key sets are short; a longer one cannot match and is not looked up. */
const MAX_KID_LENGTH = 256;

/**
 * A token for Microsoft Graph (a `nonce` in its header, or Graph as its audience) can be verified
 * by Graph alone: the client asked for the wrong scope, and saying so beats "invalid signature".
 */
export function checkNotForGraph(header: JwtHeader, payload: AzureAccessTokenClaims, clientId: string): void {
  if (isGraphToken(header, payload)) throw AzureAuthErrors.graphToken(clientId);
}

/** A token for Microsoft Graph: its header carries a `nonce`, or its audience is Graph. */
export function isGraphToken(header: JwtHeader, payload: AzureAccessTokenClaims): boolean {
  if (header.nonce !== undefined) return true;
  const { aud } = payload;
  if (typeof aud === 'string') return GRAPH_AUDIENCES.has(aud.toLowerCase());
  return Array.isArray(aud) && aud.some((entry) => typeof entry === 'string' && GRAPH_AUDIENCES.has(entry.toLowerCase()));
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

/** Optional claims that must be numbers, and strings, when present (module constants: read per token). */
const NUMBER_CLAIMS = ['nbf', 'iat'] as const;
const STRING_CLAIMS = ['sub', 'oid', 'azp', 'appid', 'scp', 'idtyp', 'idp'] as const;

/** Claims the module relies on must have Entra's types; anything else is refused, never coerced. */
export function checkClaimTypes(payload: AzureAccessTokenClaims): void {
  if (!isFiniteNumber(payload.exp)) throw AzureAuthErrors.invalidClaims('exp');
  for (const claim of NUMBER_CLAIMS) {
    if (payload[claim] !== undefined && !isFiniteNumber(payload[claim])) throw AzureAuthErrors.invalidClaims(claim);
  }
  for (const claim of STRING_CLAIMS) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'string') throw AzureAuthErrors.invalidClaims(claim);
  }
  if (typeof payload.sub !== 'string') throw AzureAuthErrors.invalidClaims('sub');
  if (payload.roles !== undefined && !isStringArray(payload.roles)) throw AzureAuthErrors.invalidClaims('roles');
}

/**
 * Several authorities: the one whose metadata names the token's (unverified) issuer; only its
 * keys and rules apply from here on, so one authority's key never verifies another's token. An
 * exact issuer wins over a `{tenantid}` template, so a tenant's own entry (with its own policies)
 * is never shadowed by a multi-tenant entry that also matches. `unavailable`: why an authority
 * could not be discovered, the answer for a token that matches none of the others.
 */
export function selectAuthority(authorities: readonly DiscoveredAuthority[], payload: AzureAccessTokenClaims, unavailable?: unknown): DiscoveredAuthority {
  if (authorities.length === 1 && unavailable === undefined) return authorities[0];
  const { iss } = payload;
  if (typeof iss !== 'string') throw AzureAuthErrors.invalidClaims('iss');
  const tid = payload.tid ?? tenantOfIssuer(iss);
  let templateMatch: DiscoveredAuthority | undefined;
  for (const authority of authorities) {
    for (const route of authority.routes) {
      if (fillIssuer(route.issuerTemplate, tid) !== iss) continue;
      if (!route.issuerTemplate.includes(TENANT_PLACEHOLDER)) return authority;
      templateMatch ??= authority;
    }
  }
  if (templateMatch) return templateMatch;
  if (unavailable !== undefined) throw unavailable;
  throw AzureAuthErrors.invalidIssuer('The token comes from none of the authorities this API trusts.');
}

/**
 * Entra access tokens live 60 to 90 minutes (at most a day with token lifetime policies); an
 * expiry further away than this is not a token Entra issued.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 2 * 86_400;

/**
 * `exp` and `nbf` against the clock, with the configured skew; absurd times are refused. Returns
 * how many seconds the token stays acceptable (how long it may be cached).
 */
export function checkLifetime(payload: AzureAccessTokenClaims, nowSeconds: number, toleranceSeconds: number): number {
  // A far-future nbf is simply not valid yet; a far-future exp or iat is not a time Entra writes.
  const latest = nowSeconds + MAX_TOKEN_LIFETIME_SECONDS;
  if (payload.exp > latest) throw AzureAuthErrors.invalidClaims('exp');
  if (payload.iat !== undefined && payload.iat > latest) throw AzureAuthErrors.invalidClaims('iat');
  if (nowSeconds >= payload.exp + toleranceSeconds) throw AzureAuthErrors.expired(Math.floor(nowSeconds - payload.exp));
  if (payload.nbf !== undefined && nowSeconds + toleranceSeconds < payload.nbf) {
    throw AzureAuthErrors.notYetValid(Math.ceil(payload.nbf - nowSeconds));
  }
  return payload.exp + toleranceSeconds - nowSeconds;
}

/**
 * RS256 only, no critical extensions, and a `kid` to look the key up by. Nothing else in the
 * header is read: `jku`, `x5u`, `jwk` and `x5c` never choose a key.
 */
export function checkAlgorithm(header: JwtHeader, options: ResolvedAuthority): string {
  if (header.alg !== 'RS256') throw AzureAuthErrors.unsupportedAlgorithm(header.alg);
  if (header.crit !== undefined) throw AzureAuthErrors.malformed('critical header parameters are not supported');
  const { kid } = header;
  if (typeof kid !== 'string' || kid.length === 0) throw AzureAuthErrors.malformed('kid is missing or not a string');
  if (kid.length > MAX_KID_LENGTH) throw AzureAuthErrors.signingKeyNotFound(options.appSpecificSigningKeys);
  return kid;
}

/** `ver` is Entra's `1.0` or `2.0`, and one this API accepts (set by its app registration). */
export function checkVersion(payload: AzureAccessTokenClaims, options: ResolvedAuthority): AzureTokenVersion {
  const { ver } = payload;
  if (ver !== '1.0' && ver !== '2.0') throw AzureAuthErrors.invalidClaims('ver');
  if (!options.acceptedTokenVersions.has(ver)) throw AzureAuthErrors.versionNotAccepted(ver, [...options.acceptedTokenVersions]);
  return ver;
}

/**
 * `iss` is exactly the issuer the authority's metadata names for the token's version (a
 * `{tenantid}` template filled with the token's `tid`), and names the same tenant as `tid`.
 */
export function checkIssuer(payload: AzureAccessTokenClaims, version: AzureTokenVersion, authority: DiscoveredAuthority): IssuedBy {
  const { iss } = payload;
  if (typeof iss !== 'string') throw AzureAuthErrors.invalidClaims('iss');
  // Workforce tokens carry tid; B2C tokens may not, and their issuer names the tenant instead.
  const tid = payload.tid ?? (authority.options.customAuthority ? tenantOfIssuer(iss) : undefined);
  if (!isGuid(tid)) throw AzureAuthErrors.invalidClaims('tid');
  // Plain loops: this runs for every new token, and closures here would be built each time.
  let firstMatch: IssuerRoute | undefined;
  let route: IssuerRoute | undefined;
  for (const candidate of authority.routes) {
    if (fillIssuer(candidate.issuerTemplate, tid) !== iss) continue;
    firstMatch ??= candidate;
    if (route === undefined && (candidate.version === undefined || candidate.version === version)) route = candidate;
  }
  if (!firstMatch) throw AzureAuthErrors.invalidIssuer(issuerHint(iss, authority));
  if (!route) throw AzureAuthErrors.invalidIssuer(`The issuer is that of a v${firstMatch.version} token but the token says ver ${version}.`);
  // A concrete issuer names the tenant; the token's tid must be that tenant.
  if (tenantOfIssuer(iss) !== tid.toLowerCase()) throw AzureAuthErrors.invalidIssuer('The token\'s iss and tid name different tenants.');
  return { route, version, issuer: iss, tenantId: tid.toLowerCase() };
}

function issuerHint(iss: string, authority: DiscoveredAuthority): string | undefined {
  const tokenTenant = tenantOfIssuer(iss);
  for (const route of authority.routes) {
    const ours = tenantOfIssuer(route.issuerTemplate);
    if (ours && tokenTenant && ours !== tokenTenant) return 'The token was issued by another tenant than the one this API trusts (tenantId).';
  }
  return undefined;
}

/**
 * The routes whose keys may have signed the token. B2C with `policies`: every policy of a tenant
 * shares one issuer. A token that names its policy (`tfp`, else `acr`) must name one of those
 * accepted, and only that policy's keys apply; a token that names none (B2C leaves the claim out in
 * some configurations) may come from any accepted policy, and the key that verifies it decides.
 * Other authorities: the issuer's own route.
 */
export function checkPolicy(payload: AzureAccessTokenClaims, issued: IssuedBy, authority: DiscoveredAuthority): readonly IssuerRoute[] {
  if (issued.route.policy === undefined) return [issued.route];
  const named = typeof payload.tfp === 'string' ? payload.tfp : typeof payload.acr === 'string' ? payload.acr : undefined;
  const wanted = named?.toLowerCase();
  const candidates: IssuerRoute[] = [];
  for (const candidate of authority.routes) {
    if (candidate.policy === undefined || fillIssuer(candidate.issuerTemplate, issued.tenantId) !== issued.issuer) continue;
    if (wanted === undefined) candidates.push(candidate);
    else if (candidate.policy.toLowerCase() === wanted) return [candidate];
  }
  // A listed policy whose metadata could not be read may be the token's: that is "cannot tell now".
  if (authority.unavailable.some(({ policy }) => wanted === undefined || policy.toLowerCase() === wanted)) {
    if (wanted !== undefined || candidates.length === 0) throw AzureAuthErrors.policyMetadataUnavailable();
  }
  if (candidates.length === 0) throw AzureAuthErrors.invalidIssuer('The token\'s policy (tfp/acr) is not one of the policies this API accepts.');
  return candidates;
}

/**
 * The key must belong to the token's tenant and cloud: its `issuer` (v2 keys) filled with the
 * token's tenant must be that tenant's v2 issuer. Entra publishes the same keys for v1 and v2, and
 * v1 tokens are checked against the v2 set: their key names the v2 issuer of their tenant.
 */
export function checkKeyIssuer(key: SigningKey, issued: IssuedBy, authority: DiscoveredAuthority): void {
  if (key.issuer === undefined) return;
  const v2Issuer =
    issued.version === '2.0' || issued.route.version === undefined
      ? issued.issuer
      : authority.v2IssuerTemplate && fillIssuer(authority.v2IssuerTemplate, issued.tenantId);
  if (!v2Issuer) return;
  if (fillIssuer(key.issuer, issued.tenantId) !== v2Issuer) throw AzureAuthErrors.signingKeyIssuerMismatch();
}

/** `aud` is one accepted audience (or, when allowed, an array of accepted audiences). */
export function checkAudience(aud: unknown, options: ResolvedAuthority): void {
  if (typeof aud === 'string') {
    if (!options.audiences.has(aud)) throw AzureAuthErrors.invalidAudience([...options.audiences]);
    return;
  }
  if (Array.isArray(aud)) {
    if (!options.allowMultipleAudiences) throw AzureAuthErrors.invalidClaims('aud');
    if (aud.length === 0 || !aud.every((entry) => typeof entry === 'string' && options.audiences.has(entry))) {
      throw AzureAuthErrors.invalidAudience([...options.audiences]);
    }
    return;
  }
  throw AzureAuthErrors.invalidClaims('aud');
}

/**
 * Multi-tenant APIs decide which tenants they trust; a single-tenant issuer already did. Answers at
 * once unless a tenant validator has to be asked (then a promise).
 */
export function checkTenant(tenantId: string, payload: AzureAccessTokenClaims, options: ResolvedAuthority): void | Promise<void> {
  // `organizations` means work and school accounts: never the personal-account (MSA) tenant.
  if (options.multiTenant === 'organizations' && tenantId === CONSUMERS_TENANT_ID) throw AzureAuthErrors.tenantNotAllowed();
  if (!options.multiTenant || options.multiTenant === 'consumers' || options.allowAnyTenant) return;
  if (options.allowedTenants?.has(tenantId)) return;
  const validator = options.tenantValidator;
  if (!validator) throw AzureAuthErrors.tenantNotAllowed();
  return new Promise<boolean>((resolve) => resolve(validator(tenantId, payload))).then((allowed) => {
    if (allowed !== true) throw AzureAuthErrors.tenantNotAllowed();
  });
}
