import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority } from '../azure-auth.options.resolve.js';
import { isGuid } from '../shared/guid.js';
import { CONSUMERS_TENANT_ID, GRAPH_AUDIENCES } from '../azure-auth.constants.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import { fillIssuer, tenantOfIssuer } from '../metadata/issuer.js';
import type { DiscoveredAuthority, IssuerRoute } from '../metadata/authority-metadata.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';

/** Where an unverified token says it comes from, once that was found acceptable. */
export interface TokenRoute {
  readonly version: AzureTokenVersion;
  readonly route: IssuerRoute;
  readonly issuer: string;
  readonly tenantId: string;
  readonly kid: string;
}

/** kids in Entra's key sets are short; a longer one cannot match and is not looked up. */
const MAX_KID_LENGTH = 256;

/** A token for Microsoft Graph: its header carries a `nonce`, or its audience is Graph. */
export function isGraphToken(header: JwtHeader, payload: AzureAccessTokenClaims): boolean {
  if (header.nonce !== undefined) return true;
  const { aud } = payload;
  if (typeof aud === 'string') return GRAPH_AUDIENCES.has(aud.toLowerCase());
  return Array.isArray(aud) && aud.some((entry) => typeof entry === 'string' && GRAPH_AUDIENCES.has(entry.toLowerCase()));
}

/**
 * Checks what must hold before any key is looked up, and finds the metadata route (issuer and
 * keys) the token belongs to. Nothing from the header but `kid` is used, and only as a map key.
 */
export function routeToken(
  header: JwtHeader,
  payload: AzureAccessTokenClaims,
  authority: DiscoveredAuthority,
  options: ResolvedAuthority,
): TokenRoute {
  if (isGraphToken(header, payload)) throw AzureAuthErrors.graphToken(options.clientId);
  if (header.alg !== 'RS256') throw AzureAuthErrors.unsupportedAlgorithm(header.alg);
  if (header.crit !== undefined) throw AzureAuthErrors.malformed('critical header parameters are not supported');
  const { kid } = header;
  if (typeof kid !== 'string' || kid.length === 0) throw AzureAuthErrors.malformed('kid is missing or not a string');
  if (kid.length > MAX_KID_LENGTH) throw AzureAuthErrors.signingKeyNotFound(options.appSpecificSigningKeys);

  const { ver, iss } = payload;
  if (ver !== '1.0' && ver !== '2.0') throw AzureAuthErrors.invalidClaims('ver');
  if (!options.acceptedTokenVersions.has(ver)) {
    throw AzureAuthErrors.versionNotAccepted(ver, [...options.acceptedTokenVersions]);
  }
  if (typeof iss !== 'string') throw AzureAuthErrors.invalidClaims('iss');
  // Workforce tokens carry tid; B2C tokens may not, and their issuer names the tenant instead.
  const tid = payload.tid ?? (options.customAuthority ? tenantOfIssuer(iss) : undefined);
  if (!isGuid(tid)) throw AzureAuthErrors.invalidClaims('tid');

  // Plain loops: this runs for every new token, and closures here would be built each time.
  let firstMatch: IssuerRoute | undefined;
  let route: IssuerRoute | undefined;
  let policies = false;
  for (const candidate of authority.routes) {
    if (fillIssuer(candidate.issuerTemplate, tid) !== iss) continue;
    firstMatch ??= candidate;
    if (candidate.policy !== undefined) policies = true;
    if (route === undefined && (candidate.version === undefined || candidate.version === ver)) route = candidate;
  }
  if (!firstMatch) throw AzureAuthErrors.invalidIssuer(issuerHint(iss, authority));
  if (!route) {
    throw AzureAuthErrors.invalidIssuer(`The issuer is that of a v${firstMatch.version} token but the token says ver ${ver}.`);
  }
  if (policies) route = policyRoute(payload, authority, tid, iss);
  // A concrete issuer names the tenant; the token's tid must be that tenant.
  if (tenantOfIssuer(iss) !== tid.toLowerCase()) throw AzureAuthErrors.invalidIssuer('The token\'s iss and tid name different tenants.');
  return { version: ver, route, issuer: iss, tenantId: tid.toLowerCase(), kid };
}

/** B2C: of the routes with the token's issuer, the one of its policy (`tfp`, else `acr`). */
function policyRoute(payload: AzureAccessTokenClaims, authority: DiscoveredAuthority, tid: string, iss: string): IssuerRoute {
  const policy = typeof payload.tfp === 'string' ? payload.tfp : typeof payload.acr === 'string' ? payload.acr : undefined;
  const wanted = policy?.toLowerCase();
  for (const candidate of authority.routes) {
    if (candidate.policy !== undefined && candidate.policy.toLowerCase() === wanted && fillIssuer(candidate.issuerTemplate, tid) === iss) return candidate;
  }
  throw AzureAuthErrors.invalidIssuer('The token\'s policy (tfp/acr) is not one of the policies this API accepts.');
}

function issuerHint(iss: string, authority: DiscoveredAuthority): string | undefined {
  const tokenTenant = tenantOfIssuer(iss);
  for (const route of authority.routes) {
    const ours = tenantOfIssuer(route.issuerTemplate);
    if (ours && tokenTenant && ours !== tokenTenant) return 'The token was issued by another tenant than the one this API trusts (tenantId).';
  }
  return undefined;
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
export function checkClaimShapes(payload: AzureAccessTokenClaims): void {
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
 * The key that verified the token must belong to the token's tenant and cloud: its `issuer`
 * (v2 keys) filled with `tid` must be the v2 issuer of that tenant.
 */
export function checkKeyIssuer(key: SigningKey, route: TokenRoute, authority: DiscoveredAuthority): void {
  if (key.issuer === undefined) return;
  // Entra publishes the same keys for v1 and v2; a v1 token's key names the v2 issuer of its tenant.
  const v2Issuer =
    route.version === '2.0' || route.route.version === undefined
      ? route.issuer
      : authority.v2IssuerTemplate && fillIssuer(authority.v2IssuerTemplate, route.tenantId);
  if (!v2Issuer) return;
  if (fillIssuer(key.issuer, route.tenantId) !== v2Issuer) throw AzureAuthErrors.signingKeyIssuerMismatch();
}

/**
 * Entra access tokens live 60 to 90 minutes (at most a day with token lifetime policies); an
 * expiry further away than this is not a token Entra issued.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 2 * 86_400;

/** `exp` and `nbf` against the clock, with the configured skew; absurd times are refused. */
export function checkLifetime(payload: AzureAccessTokenClaims, nowSeconds: number, toleranceSeconds: number): void {
  // A far-future nbf is simply not valid yet; a far-future exp or iat is not a time Entra writes.
  const latest = nowSeconds + MAX_TOKEN_LIFETIME_SECONDS;
  if (payload.exp > latest) throw AzureAuthErrors.invalidClaims('exp');
  if (payload.iat !== undefined && payload.iat > latest) throw AzureAuthErrors.invalidClaims('iat');
  if (nowSeconds >= payload.exp + toleranceSeconds) throw AzureAuthErrors.expired(Math.floor(nowSeconds - payload.exp));
  if (payload.nbf !== undefined && nowSeconds + toleranceSeconds < payload.nbf) {
    throw AzureAuthErrors.notYetValid(Math.ceil(payload.nbf - nowSeconds));
  }
}

/**
 * Multi-tenant APIs decide which tenants they trust; a single-tenant route already did. Answers at
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
