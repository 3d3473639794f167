import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority, ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { SigningKey } from '../keys/jwks-key-set.js';
import { KeySource, type Discovery } from '../keys/key-source.js';
import type { DiscoveredAuthority } from '../metadata/authority-metadata.js';
import { createPrincipal, type AzurePrincipal } from './azure-principal.js';
import type { AzureAccessTokenClaims } from './claims.js';
import { decodeJwt, decodeVerifiedPayload, type DecodedJwt } from './decode-jwt.js';
import { checkRs256Signature } from './rs256-signature.js';
import {
  checkAlgorithm,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkKeyIssuer,
  checkLifetime,
  checkNotForGraph,
  checkPolicy,
  checkTenant,
  checkVersion,
  selectAuthority,
  type IssuedBy,
} from './token-rules.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * What the cache keeps of a verified token: what the checks decided about it, not its claims. A
 * new token gets the verdict its key, tenant and version share with other tokens (one object for
 * all of them); when the token comes again its caller is built from the token itself and kept in
 * an entry of its own. Many distinct callers thus cost the cache a digest each, no parsed claims
 * and no object of their own for the garbage collector to copy and mark.
 */
interface Verdict {
  readonly kid: string;
  readonly tenantId: string;
  readonly version: AzureTokenVersion;
  readonly authority: ResolvedAuthority;
  readonly principal?: AzurePrincipal;
}

/** Shared verdicts per authority; more than this many (tenants x keys x versions) start over. */
const MAX_SHARED_VERDICTS = 1024;

/** A value now, or once fetched: the next step runs at once when nothing had to be fetched. */
function andThen<T, R>(value: T | Promise<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * Decides whether a bearer token is a valid Entra access token for this API, and who is calling.
 * A token that verified before comes from the cache (its lifetime checked again); a new one is
 * decoded once, its key found by the {@link KeySource}, its RS256 signature checked over the bytes
 * that were decoded, and Entra's rules applied in the order `token-rules.ts` lists them. Refusals
 * are thrown (or rejected) as `AzureAuthError`s.
 */
@Injectable()
export class AzureTokenVerifier implements OnModuleInit {
  private readonly logger = new Logger('AzureAuth');
  /** @internal Tokens that verified, by digest (tests and diagnostics read its size). */
  readonly cache: VerifiedTokenCache<Verdict>;
  private readonly verdicts = new Map<ResolvedAuthority, { last?: Verdict; readonly byId: Map<string, Verdict> }>();
  constructor(
    @Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions,
    private readonly keys: KeySource,
  ) {
    this.cache = new VerifiedTokenCache(options.tokenCacheMaxEntries);
    keys.onKeysRemoved((kids) => this.cache.dropKeys(kids));
  }

  onModuleInit(): void {
    for (const authority of this.options.authorities) {
      if (authority.multiTenant && authority.allowAnyTenant) {
        this.logger.warn(`tenantId is "${authority.tenantId}" with allowAnyTenant: tokens of every Entra tenant are trusted`);
      }
    }
  }

  /**
   * Verifies a bearer token and returns the caller. Answers at once when the token verified before,
   * or when the metadata and key it needs are in memory; a promise only when something must be
   * fetched or a tenant validator awaited.
   */
  verify(token: string): AzurePrincipal | Promise<AzurePrincipal> {
    return this.fromCache(token) ?? this.verifyNew(token);
  }

  /**
   * A caller for a token that verified before and is still within its lifetime.
   * @internal
   */
  fromCache(token: string): AzurePrincipal | undefined {
    const entry = this.cache.get(token);
    if (!entry) return undefined;
    let principal = entry.principal;
    if (!principal) {
      principal = createPrincipal(decodeVerifiedPayload(token), entry.tenantId, entry.version, entry.authority);
      // The shared verdict stays as it is: this token now gets an entry of its own, with its caller.
      this.cache.replace(token, { ...entry, principal });
    }
    lifetimeLeftSeconds(principal.claims, entry.authority);
    return principal;
  }

  /** A new token, through every rule in order; the only waits are for metadata, keys, or a tenant validator. */
  private verifyNew(token: string): AzurePrincipal | Promise<AzurePrincipal> {
    const decoded = decodeToken(token, this.options.maxTokenBytes);
    return andThen(this.keyFor(decoded), (keyed) => this.afterKey(token, decoded, keyed));
  }

  /** The rules before the key, then the key (from memory, or fetched). */
  private keyFor(decoded: DecodedJwt): Keyed | Promise<Keyed> {
    const { header, payload } = decoded;
    checkNotForGraph(header, payload, this.options.clientId);
    checkClaimTypes(payload);
    return andThen(this.keys.discovered(), (discovery: Discovery) => {
      const authority = selectAuthority(discovery.authorities, payload, discovery.unavailable);
      const { options } = authority;
      const lifetimeSeconds = lifetimeLeftSeconds(payload, options);
      const kid = checkAlgorithm(header, options);
      const version = checkVersion(payload, options);
      const issued = checkIssuer(payload, version, authority);
      const routes = checkPolicy(payload, issued, authority);
      return andThen(this.keys.signingKey(routes, kid), (key): Keyed => {
        checkKeyIssuer(key, issued, authority);
        return { authority, issued, key, lifetimeSeconds };
      });
    });
  }

  /** The signature, then the rules after it; the caller is cached and returned. */
  private afterKey(token: string, decoded: DecodedJwt, keyed: Keyed): AzurePrincipal | Promise<AzurePrincipal> {
    const { payload } = decoded;
    const { authority, issued, key } = keyed;
    checkRs256Signature(token, decoded, key.publicKey);
    checkAudience(payload.aud, authority.options);
    return andThen(checkTenant(issued.tenantId, payload, authority.options), () => this.admit(token, payload, keyed));
  }

  /** Caches a token that passed every check and returns its caller. */
  private admit(token: string, payload: AzureAccessTokenClaims, { authority, issued, key, lifetimeSeconds }: Keyed): AzurePrincipal {
    const { options } = authority;
    this.cache.set(token, this.sharedVerdict(options, key.kid, issued.tenantId, issued.version), lifetimeSeconds * 1000);
    return createPrincipal(payload, issued.tenantId, issued.version, options);
  }

  private sharedVerdict(authority: ResolvedAuthority, kid: string, tenantId: string, version: AzureTokenVersion): Verdict {
    let verdicts = this.verdicts.get(authority);
    if (!verdicts) {
      verdicts = { byId: new Map() };
      this.verdicts.set(authority, verdicts);
    }
    // Consecutive tokens mostly share their key, tenant and version: the last verdict answers without a look-up.
    const { last } = verdicts;
    if (last !== undefined && last.kid === kid && last.tenantId === tenantId && last.version === version) return last;
    const id = `${version} ${tenantId} ${kid}`;
    let verdict = verdicts.byId.get(id);
    if (!verdict) {
      if (verdicts.byId.size >= MAX_SHARED_VERDICTS) verdicts.byId.clear();
      verdict = Object.freeze({ kid, tenantId, version, authority });
      verdicts.byId.set(id, verdict);
    }
    verdicts.last = verdict;
    return verdict;
  }
}

/** A token whose key was found: the authority whose rules apply, where its issuer placed it, and the key. */
interface Keyed {
  readonly authority: DiscoveredAuthority;
  readonly issued: IssuedBy;
  readonly key: SigningKey;
  /** Seconds the token stays acceptable, as of its lifetime check: how long the cache keeps it. */
  readonly lifetimeSeconds: number;
}

/** The lifetime rule, with the authority's clock skew: the one place the skew is read. */
function lifetimeLeftSeconds(payload: AzureAccessTokenClaims, authority: ResolvedAuthority): number {
  return checkLifetime(payload, Date.now() / 1000, authority.clockToleranceSeconds);
}

/** Too large a token is refused before it is parsed; anything else that is not a compact JWS, by `decodeJwt`. */
function decodeToken(token: string, maxTokenBytes: number): DecodedJwt {
  if (token.length > maxTokenBytes) throw AzureAuthErrors.tokenTooLarge(maxTokenBytes);
  return decodeJwt(token);
}
