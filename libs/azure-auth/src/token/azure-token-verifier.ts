import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAuthority, ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { JwksKeySet } from '../keys/jwks-key-set.js';
import { fillIssuer, tenantOfIssuer } from '../metadata/issuer.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import { AuthorityMetadata, type DiscoveredAuthority } from '../metadata/authority-metadata.js';
import { createPrincipal, type AzurePrincipal } from './azure-principal.js';
import type { AzureAccessTokenClaims } from './claims.js';
import { decodeJwt } from './decode-jwt.js';
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
}

/**
 * A token between key selection and signature check: what was decided about it before the key
 * was chosen, carried to the checks that run after the signature verified.
 * @internal
 */
export interface PendingToken {
  readonly token: string;
  readonly context: AuthorityContext;
  readonly route: TokenRoute;
  readonly key: SigningKey;
  readonly authority: DiscoveredAuthority;
}

/**
 * The Entra rules around passport-jwt's signature check: before it, which key (and whether the
 * token can be from the trusted authority at all); after it, audience, claim types, tenant; and a
 * cache of tokens that passed.
 */
@Injectable()
export class AzureTokenVerifier implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AzureAuth');
  private readonly contexts: readonly AuthorityContext[];
  private readonly authorityOf = new WeakMap<AzurePrincipal, ResolvedAuthority>();
  readonly cache: VerifiedTokenCache;

  constructor(@Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions) {
    this.cache = new VerifiedTokenCache(options.tokenCacheMaxEntries);
    this.contexts = options.authorities.map((authority) => ({
      options: authority,
      metadata: new AuthorityMetadata(authority, this.logger, (kids) => this.cache.dropKeys(kids)),
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
    return this.authorityOf.get(principal) ?? this.options;
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
    const principal = this.cache.get(token);
    if (!principal) return undefined;
    checkLifetime(principal.claims, Date.now() / 1000, this.optionsFor(principal).clockToleranceSeconds);
    return principal;
  }

  /** Decides the key for a token (or refuses it before any signature check). */
  async selectKey(token: string): Promise<PendingToken> {
    if (token.length > this.options.maxTokenBytes) throw AzureAuthErrors.tokenTooLarge(this.options.maxTokenBytes);
    const { header, payload } = decodeJwt(token);
    if (isGraphToken(header, payload)) throw AzureAuthErrors.graphToken(this.options.clientId);
    // Claims are checked before any key is looked up: the bytes passport-jwt verifies are these.
    checkClaimShapes(payload);
    const context = this.contexts.length === 1 ? this.contexts[0] : await this.contextFor(payload);
    checkLifetime(payload, Date.now() / 1000, context.options.clockToleranceSeconds);
    const authority = context.metadata.peek() ?? (await context.metadata.get());
    const route = routeToken(header, payload, authority, context.options);
    const key = route.route.keys.peek(route.kid) ?? (await route.route.keys.get(route.kid));
    checkKeyIssuer(key, route, authority);
    return { token, context, route, key, authority };
  }

  /**
   * Several authorities: the one whose metadata names the token's (unverified) issuer. Only that
   * one's keys and rules are used from here on, so one authority's key never verifies another's token.
   */
  private async contextFor(payload: AzureAccessTokenClaims): Promise<AuthorityContext> {
    const { iss } = payload;
    if (typeof iss !== 'string') throw AzureAuthErrors.invalidClaims('iss');
    const tid = payload.tid ?? tenantOfIssuer(iss);
    const discovered = await Promise.allSettled(this.contexts.map((context) => context.metadata.peek() ?? context.metadata.get()));
    let unavailable: unknown;
    for (const [index, result] of discovered.entries()) {
      if (result.status === 'rejected') {
        unavailable = result.reason;
      } else if (result.value.routes.some((route) => fillIssuer(route.issuerTemplate, tid) === iss)) {
        return this.contexts[index];
      }
    }
    if (unavailable !== undefined) throw unavailable;
    throw AzureAuthErrors.invalidIssuer('The token comes from none of the authorities this API trusts.');
  }

  /** The key object passport-jwt verifies with. */
  static publicKeyOf(pending: PendingToken): KeyObject {
    return pending.key.publicKey;
  }

  /** The checks after the signature verified; the result is the caller. */
  async complete(pending: PendingToken, payload: AzureAccessTokenClaims): Promise<AzurePrincipal> {
    const options = pending.context.options;
    checkAudience(payload.aud, options);
    const nowSeconds = Date.now() / 1000;
    await checkTenant(pending.route.tenantId, payload, options);
    const principal = createPrincipal(payload, pending.route.tenantId, pending.route.version, options.customAuthority);
    this.authorityOf.set(principal, options);
    this.cache.set(pending.token, principal, pending.key.kid, (payload.exp + options.clockToleranceSeconds - nowSeconds) * 1000);
    return principal;
  }
}
