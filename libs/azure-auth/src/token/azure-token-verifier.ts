import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority, ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { JwksKeySet } from '../keys/jwks-key-set.js';
import { fillIssuer, tenantOfIssuer } from '../metadata/issuer.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import { AuthorityMetadata, type DiscoveredAuthority } from '../metadata/authority-metadata.js';
import { createPrincipal, type AzurePrincipal } from './azure-principal.js';
import type { AzureAccessTokenClaims } from './claims.js';
import { decodeJwt, decodeVerifiedPayload, type DecodedJwt } from './decode-jwt.js';
import { checkRs256Signature } from './rs256-signature.js';
import {
  checkAudience,
  checkClaimShapes,
  checkKeyIssuer,
  checkLifetime,
  checkTenant,
  isGraphToken,
  routeToken,
  type TokenRoute,
} from './token-rules.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * One trusted authority: its settings and its discovered metadata and keys.
 * @internal
 */
export interface AuthorityContext {
  readonly options: ResolvedAuthority;
  readonly metadata: AuthorityMetadata;
  /** Cache verdicts shared by the tokens of one key, tenant and version. */
  readonly verdicts: Map<string, VerifiedToken>;
  /** The verdict given last. */
  lastVerdict?: VerifiedToken;
}

/**
 * A token between key selection and signature check: what was decided about it before the key
 * was chosen, carried to the checks that run after the signature verified.
 * @internal
 */
export interface PendingToken {
  readonly token: string;
  readonly decoded: DecodedJwt;
  readonly context: AuthorityContext;
  readonly route: TokenRoute;
  readonly key: SigningKey;
}

/**
 * What the cache keeps of a verified token: what the checks decided about it, not its claims. A
 * new token gets the verdict its key, tenant and version share with other tokens (one object for
 * all of them); when the token comes again its caller is built from the token itself and kept in
 * an entry of its own. Many distinct callers thus cost the cache a digest each, no parsed claims
 * and no object of their own for the garbage collector to copy and mark.
 */
interface VerifiedToken {
  readonly kid: string;
  readonly tenantId: string;
  readonly version: AzureTokenVersion;
  readonly options: ResolvedAuthority;
  readonly principal?: AzurePrincipal;
}

/** Shared verdicts per authority; more than this many (tenants x keys x versions) start over. */
const MAX_SHARED_VERDICTS = 1024;

/**
 * Entra's rules for a bearer token: before the signature check, which key (and whether the token
 * can be from the trusted authority at all); after it, audience, claim types, tenant; and a cache
 * of tokens that passed. `verify` runs them all with node:crypto's RS256 check; the passport-jwt
 * strategy runs the same rules around jsonwebtoken's check (`selectKey`, then `complete`).
 */
@Injectable()
export class AzureTokenVerifier implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AzureAuth');
  private readonly contexts: readonly AuthorityContext[];
  private readonly authorityOf = new WeakMap<AzurePrincipal, ResolvedAuthority>();
  readonly cache: VerifiedTokenCache<VerifiedToken>;

  constructor(@Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions) {
    this.cache = new VerifiedTokenCache(options.tokenCacheMaxEntries);
    this.contexts = options.authorities.map((authority) => ({
      options: authority,
      metadata: new AuthorityMetadata(authority, this.logger, (kids) => this.cache.dropKeys(kids)),
      verdicts: new Map(),
      lastVerdict: undefined,
    }));
  }

  /** Metadata and keys of the first (or only) authority. */
  get metadata(): AuthorityMetadata {
    return this.contexts[0].metadata;
  }

  /** Every key set in use, across authorities (for health reporting). */
  keySetsInUse(): JwksKeySet[] {
    return this.contexts.flatMap((context) => context.metadata.keySetsInUse());
  }

  /** The settings of the authority that issued a principal's token. */
  optionsFor(principal: AzurePrincipal): ResolvedAuthority {
    return this.contexts.length === 1 ? this.options : (this.authorityOf.get(principal) ?? this.options);
  }

  onModuleInit(): void {
    for (const { options, metadata } of this.contexts) {
      if (options.multiTenant && options.allowAnyTenant) {
        this.logger.warn(`tenantId is "${options.tenantId}" with allowAnyTenant: tokens of every Entra tenant are trusted`);
      }
      if (options.warmUp) metadata.warmUp();
    }
  }

  /** A fetch started by warm-up must not outlive the app, nor log after it closed. */
  onModuleDestroy(): void {
    for (const { metadata } of this.contexts) metadata.close();
  }

  /** A principal for a token that verified before and is still within its lifetime. */
  fromCache(token: string): AzurePrincipal | undefined {
    const entry = this.cache.get(token);
    if (!entry) return undefined;
    let principal = entry.principal;
    if (!principal) {
      principal = this.principalFor(decodeVerifiedPayload(token), entry.tenantId, entry.version, entry.options);
      // The shared verdict stays as it is: this token now gets an entry of its own, with its caller.
      this.cache.replace(token, { ...entry, principal });
    }
    checkLifetime(principal.claims, Date.now() / 1000, entry.options.clockToleranceSeconds);
    return principal;
  }

  /**
   * Verifies a bearer token in one pass and returns the caller: from the cache when the token
   * verified before; otherwise decoded once, its key chosen, its RS256 signature checked over the
   * bytes that were decoded, then Entra's checks. A promise only when metadata or keys must be
   * fetched or a tenant validator awaited; refusals are thrown (or rejected) as `AzureAuthError`s.
   */
  verify(token: string): AzurePrincipal | Promise<AzurePrincipal> {
    const cached = this.fromCache(token);
    if (cached) return cached;
    const pending = this.selectKey(token);
    return pending instanceof Promise ? pending.then((ready) => this.checkSignatureAndComplete(ready)) : this.checkSignatureAndComplete(pending);
  }

  private checkSignatureAndComplete(pending: PendingToken): AzurePrincipal | Promise<AzurePrincipal> {
    checkRs256Signature(pending.token, pending.decoded, pending.key.publicKey);
    return this.complete(pending);
  }

  /**
   * Decides the key for a token (or refuses it before any signature check). A promise only when
   * metadata or the key must be fetched first.
   */
  selectKey(token: string): PendingToken | Promise<PendingToken> {
    if (token.length > this.options.maxTokenBytes) throw AzureAuthErrors.tokenTooLarge(this.options.maxTokenBytes);
    const decoded = decodeJwt(token);
    if (isGraphToken(decoded.header, decoded.payload)) throw AzureAuthErrors.graphToken(this.options.clientId);
    // Claims are checked before any key is looked up: the bytes the signature covers are these.
    checkClaimShapes(decoded.payload);
    if (this.contexts.length === 1) return this.selectKeyIn(this.contexts[0], token, decoded);
    const context = this.contextFor(decoded.payload);
    return context instanceof Promise ? context.then((chosen) => this.selectKeyIn(chosen, token, decoded)) : this.selectKeyIn(context, token, decoded);
  }

  private selectKeyIn(context: AuthorityContext, token: string, decoded: DecodedJwt): PendingToken | Promise<PendingToken> {
    checkLifetime(decoded.payload, Date.now() / 1000, context.options.clockToleranceSeconds);
    const authority = context.metadata.peek();
    return authority ? this.keyFor(context, token, decoded, authority) : this.keyOnceDiscovered(context, token, decoded);
  }

  private async keyOnceDiscovered(context: AuthorityContext, token: string, decoded: DecodedJwt): Promise<PendingToken> {
    return this.keyFor(context, token, decoded, await context.metadata.get());
  }

  private keyFor(context: AuthorityContext, token: string, decoded: DecodedJwt, authority: DiscoveredAuthority): PendingToken | Promise<PendingToken> {
    const route = routeToken(decoded.header, decoded.payload, authority, context.options);
    const key = route.route.keys.peek(route.kid);
    return key ? pendingToken(token, decoded, context, route, key, authority) : this.keyOnceFetched(context, token, decoded, authority, route);
  }

  private async keyOnceFetched(context: AuthorityContext, token: string, decoded: DecodedJwt, authority: DiscoveredAuthority, route: TokenRoute): Promise<PendingToken> {
    return pendingToken(token, decoded, context, route, await route.route.keys.get(route.kid), authority);
  }

  /**
   * Several authorities: the one whose metadata names the token's (unverified) issuer. Only that
   * one's keys and rules are used from here on, so one authority's key never verifies another's token.
   */
  private contextFor(payload: AzureAccessTokenClaims): AuthorityContext | Promise<AuthorityContext> {
    const { iss } = payload;
    if (typeof iss !== 'string') throw AzureAuthErrors.invalidClaims('iss');
    const tid = payload.tid ?? tenantOfIssuer(iss);
    // Once every authority's metadata is at hand (the steady state) the choice needs no promise.
    const known = this.contexts.map((context) => context.metadata.peek());
    return known.every((authority) => authority !== undefined) ? this.contextAmong(known, iss, tid) : this.contextOnceDiscovered(iss, tid);
  }

  private async contextOnceDiscovered(iss: string, tid: unknown): Promise<AuthorityContext> {
    const settled = await Promise.allSettled(this.contexts.map((context) => context.metadata.peek() ?? context.metadata.get()));
    const rejected = settled.find((result) => result.status === 'rejected');
    return this.contextAmong(
      settled.map((result) => (result.status === 'fulfilled' ? result.value : undefined)),
      iss,
      tid,
      rejected ? rejected.reason : undefined,
    );
  }

  /** The authority whose metadata names `iss`; else the failure to discover one, or invalid_issuer. */
  private contextAmong(discovered: ReadonlyArray<DiscoveredAuthority | undefined>, iss: string, tid: unknown, unavailable?: unknown): AuthorityContext {
    const index = discovered.findIndex((authority) => authority?.routes.some((route) => fillIssuer(route.issuerTemplate, tid) === iss));
    if (index >= 0) return this.contexts[index];
    if (unavailable !== undefined) throw unavailable;
    throw AzureAuthErrors.invalidIssuer('The token comes from none of the authorities this API trusts.');
  }

  /** The checks after the signature verified; the result is the caller, its token now in the cache. */
  complete(pending: PendingToken): AzurePrincipal | Promise<AzurePrincipal> {
    const { payload } = pending.decoded;
    const options = pending.context.options;
    checkAudience(payload.aud, options);
    const tenantChecked = checkTenant(pending.route.tenantId, payload, options);
    return tenantChecked ? tenantChecked.then(() => this.admit(pending)) : this.admit(pending);
  }

  /** Caches a token that passed every check and returns its caller. */
  private admit(pending: PendingToken): AzurePrincipal {
    const { payload } = pending.decoded;
    const { tenantId, version } = pending.route;
    const options = pending.context.options;
    const ttlMs = (payload.exp + options.clockToleranceSeconds - Date.now() / 1000) * 1000;
    this.cache.set(pending.token, sharedVerdict(pending.context, pending.key.kid, tenantId, version), ttlMs);
    return this.principalFor(payload, tenantId, version, options);
  }

  private principalFor(claims: AzureAccessTokenClaims, tenantId: string, version: AzureTokenVersion, options: ResolvedAuthority): AzurePrincipal {
    const principal = createPrincipal(claims, tenantId, version, options.customAuthority);
    // One authority: its settings are `this.options`; several: remember whose caller this is.
    if (this.contexts.length > 1) this.authorityOf.set(principal, options);
    return principal;
  }
}

function sharedVerdict(context: AuthorityContext, kid: string, tenantId: string, version: AzureTokenVersion): VerifiedToken {
  // Consecutive tokens mostly share their key, tenant and version: the last verdict answers without a look-up.
  const last = context.lastVerdict;
  if (last !== undefined && last.kid === kid && last.tenantId === tenantId && last.version === version) return last;
  const id = `${version} ${tenantId} ${kid}`;
  let verdict = context.verdicts.get(id);
  if (!verdict) {
    if (context.verdicts.size >= MAX_SHARED_VERDICTS) context.verdicts.clear();
    verdict = Object.freeze({ kid, tenantId, version, options: context.options });
    context.verdicts.set(id, verdict);
  }
  context.lastVerdict = verdict;
  return verdict;
}

/** The key is chosen: the last check before the signature, that the key may sign for this token. */
function pendingToken(
  token: string,
  decoded: DecodedJwt,
  context: AuthorityContext,
  route: TokenRoute,
  key: SigningKey,
  authority: DiscoveredAuthority,
): PendingToken {
  checkKeyIssuer(key, route, authority);
  return { token, decoded, context, route, key };
}
