import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
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
  routeToken,
  type TokenRoute,
} from './token-rules.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * A token between key selection and signature check: what was decided about it before the key
 * was chosen, carried to the checks that run after the signature verified.
 * @internal
 */
export interface PendingToken {
  readonly token: string;
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
export class AzureTokenVerifier implements OnModuleInit {
  private readonly logger = new Logger('AzureAuth');
  readonly metadata: AuthorityMetadata;
  readonly cache: VerifiedTokenCache;

  constructor(@Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions) {
    this.cache = new VerifiedTokenCache(options.tokenCacheMaxEntries);
    this.metadata = new AuthorityMetadata(options, this.logger, (kids) => this.cache.dropKeys(kids));
  }

  onModuleInit(): void {
    if (this.options.multiTenant && this.options.allowAnyTenant) {
      this.logger.warn(`tenantId is "${this.options.tenantId}" with allowAnyTenant: tokens of every Entra tenant are trusted`);
    }
    if (this.options.warmUp) this.metadata.warmUp();
  }

  /** A principal for a token that verified before and is still within its lifetime. */
  fromCache(token: string): AzurePrincipal | undefined {
    const principal = this.cache.get(token);
    if (!principal) return undefined;
    checkLifetime(principal.claims, Date.now() / 1000, this.options.clockToleranceSeconds);
    return principal;
  }

  /** Decides the key for a token (or refuses it before any signature check). */
  async selectKey(token: string): Promise<PendingToken> {
    if (token.length > this.options.maxTokenBytes) throw AzureAuthErrors.tokenTooLarge(this.options.maxTokenBytes);
    const { header, payload } = decodeJwt(token);
    const authority = this.metadata.peek() ?? (await this.metadata.get());
    const route = routeToken(header, payload, authority, this.options);
    const key = route.route.keys.peek(route.kid) ?? (await route.route.keys.get(route.kid));
    checkKeyIssuer(key, route, authority);
    return { token, route, key, authority };
  }

  /** The key object passport-jwt verifies with. */
  static publicKeyOf(pending: PendingToken): KeyObject {
    return pending.key.publicKey;
  }

  /** The checks after the signature verified; the result is the caller. */
  async complete(pending: PendingToken, payload: AzureAccessTokenClaims): Promise<AzurePrincipal> {
    checkClaimShapes(payload);
    checkAudience(payload.aud, this.options);
    const nowSeconds = Date.now() / 1000;
    checkLifetime(payload, nowSeconds, this.options.clockToleranceSeconds);
    await checkTenant(pending.route.tenantId, payload, this.options);
    const principal = createPrincipal(payload, pending.route.tenantId, pending.route.version);
    this.cache.set(pending.token, principal, pending.key.kid, (payload.exp + this.options.clockToleranceSeconds - nowSeconds) * 1000);
    return principal;
  }
}
