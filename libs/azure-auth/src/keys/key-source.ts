import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAuthority, ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { discoverAuthority, type DiscoveredAuthority, type IssuerRoute, type UnavailableMetadata } from '../metadata/authority-metadata.js';
import { agentFor } from '../metadata/proxy-agent.js';
import { JwksKeySet, type SigningKey } from './jwks-key-set.js';
import { SingleFlight } from './single-flight.js';

/** Seconds a 503 tells the client to wait before retrying. */
const RETRY_AFTER_SECONDS = 10;

/** A discovery that left a B2C policy out is tried again after this, not after `metadataRefreshSeconds`. */
const PARTIAL_DISCOVERY_RETRY_MS = 60_000;

/**
 * One trusted authority's metadata and key sets: discovered lazily through a single flight, the
 * last good answer kept when a refresh fails, refreshed in the background when older than
 * `metadataRefreshSeconds`.
 */
class AuthorityKeys {
  private current: DiscoveredAuthority | undefined;
  private readonly discovery: SingleFlight<DiscoveredAuthority>;
  private readonly keySets = new Map<string, JwksKeySet>();

  constructor(
    readonly options: ResolvedAuthority,
    private readonly logger: Logger,
    private readonly onKeysRemoved: (kids: readonly string[]) => void,
  ) {
    this.discovery = new SingleFlight(() => this.discover(), Date.now);
  }

  /** The discovered authority if known, without waiting; refreshes a stale one in the background. */
  peek(): DiscoveredAuthority | undefined {
    const current = this.current;
    const maxAgeMs = current?.unavailable.length ? PARTIAL_DISCOVERY_RETRY_MS : this.options.metadataRefreshSeconds * 1000;
    if (current && Date.now() - current.fetchedAt > maxAgeMs) {
      this.discovery.run().catch(() => undefined);
    }
    return current;
  }

  /** The discovered authority, fetched first when unknown. Rejects with `keys_unavailable`. */
  async get(): Promise<DiscoveredAuthority> {
    try {
      return this.peek() ?? (await this.discovery.run());
    } catch {
      throw AzureAuthErrors.keysUnavailable(RETRY_AFTER_SECONDS);
    }
  }

  /** The discovered authority if known, starting nothing (health reads it). */
  peekQuietly(): DiscoveredAuthority | undefined {
    return this.current;
  }

  /** Fetches metadata and then keys, without blocking the caller; failures are logged. */
  warmUp(): void {
    this.get()
      .then((authority) => Promise.all([...new Set(authority.routes.map((route) => route.keys))].map((keys) => keys.refresh('warm-up'))))
      .catch(() => undefined);
  }

  close(): void {
    this.discovery.close();
    for (const keys of this.keySets.values()) keys.close();
  }

  keySetsInUse(): JwksKeySet[] {
    return [...this.keySets.values()];
  }

  private async discover(): Promise<DiscoveredAuthority> {
    const started = Date.now();
    try {
      const discovered = await discoverAuthority(this.options, (jwksUri) => this.keySetFor(jwksUri), started);
      this.current = { ...discovered, fetchedAt: Date.now() };
      this.logger.log(`Discovered ${this.options.label} (${discovered.routes.length} metadata documents) in ${Date.now() - started} ms`);
      for (const { policy, metadataUrl, problem } of discovered.unavailable) {
        this.logger.error(
          `Metadata of B2C policy ${policy} unavailable at ${metadataUrl} (${problem}): its tokens get 503 until it can be read ` +
            `(tried again every ${PARTIAL_DISCOVERY_RETRY_MS / 1000} s); the other policies are served. Check the policy name in "policies".`,
        );
      }
      return this.current;
    } catch (error) {
      if (this.discovery.isClosed) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `OpenID metadata of ${this.options.label} unavailable after ${Date.now() - started} ms: ${message}` +
          (this.current ? '; keeping the last good metadata' : ''),
      );
      throw error;
    }
  }

  private keySetFor(jwksUri: string): JwksKeySet {
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      const { options } = this;
      keys = new JwksKeySet(
        jwksUri,
        {
          timeoutMs: options.httpTimeoutMs,
          agent: agentFor(jwksUri, options.httpAgent),
          maxAgeMs: options.keysMaxAgeSeconds * 1000,
          unknownKeyRefreshIntervalMs: options.unknownKeyRefreshIntervalSeconds * 1000,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
          onKeysRemoved: this.onKeysRemoved,
        },
        this.logger,
      );
      this.keySets.set(jwksUri, keys);
    }
    return keys;
  }
}

/**
 * Where keys come from, and nothing else: Entra's OpenID metadata of each trusted authority and
 * the key sets it names, each fetched by a single flight with back-off, kept when Entra is
 * unreachable, refreshed when stale and (rate-limited) on an unknown `kid`. Answers from memory
 * when it can; a promise only when something must be fetched. Nothing in a token chooses a URL.
 * @internal
 */
@Injectable()
export class KeySource implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AzureAuth');
  private readonly authorities: readonly AuthorityKeys[];
  private lastDiscovery: Discovery | undefined;
  private readonly removalListeners: Array<(kids: readonly string[]) => void> = [];

  constructor(@Inject(AZURE_AUTH_OPTIONS) options: ResolvedAzureAuthOptions) {
    const onKeysRemoved = (kids: readonly string[]) => {
      for (const listener of this.removalListeners) listener(kids);
    };
    this.authorities = options.authorities.map((authority) => new AuthorityKeys(authority, this.logger, onKeysRemoved));
  }

  /** Told which kids a key set refresh removed, so that whatever they verified can be forgotten. */
  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.removalListeners.push(listener);
  }

  onModuleInit(): void {
    for (const authority of this.authorities) if (authority.options.warmUp) authority.warmUp();
  }

  /** A fetch started by warm-up must not outlive the app, nor log after it closed. */
  onModuleDestroy(): void {
    for (const authority of this.authorities) authority.close();
  }

  /**
   * Every trusted authority as discovered: from memory in the steady state, otherwise fetched
   * first. An authority whose metadata cannot be had is left out and its failure kept in
   * `unavailable`; when none can be had the promise rejects with `keys_unavailable`.
   */
  discovered(): Discovery | Promise<Discovery> {
    const last = this.lastDiscovery;
    for (let i = 0; i < this.authorities.length; i++) {
      const current = this.authorities[i].peek();
      if (!current) return this.discoverAll();
      if (last && last.authorities[i] !== current) this.lastDiscovery = undefined;
    }
    // The same objects as last time mostly: the answer is kept, not rebuilt per token.
    this.lastDiscovery ??= { authorities: this.authorities.map((authority) => authority.peek()!) };
    return this.lastDiscovery;
  }

  /**
   * The key for `kid` among the keys of the routes that may have signed the token (one, but for a
   * B2C token that names no policy). From memory when known; otherwise each set is loaded, or
   * refreshed once per interval, first (`keys_unavailable` when that fails, `signing_key_not_found`
   * or `policy_key_not_found` when the kid stays unknown).
   */
  signingKey(routes: readonly IssuerRoute[], kid: string): SigningKey | Promise<SigningKey> {
    for (const route of routes) {
      const key = route.keys.peek(kid);
      if (key) return key;
    }
    return routes.length === 1 ? routes[0].keys.get(kid) : signingKeyAmong(routes, kid);
  }

  /** B2C policies whose metadata could not be read, across authorities (for health reporting). */
  unavailableMetadata(): UnavailableMetadata[] {
    return this.authorities.flatMap((authority) => authority.peekQuietly()?.unavailable ?? []);
  }

  /** Every key set in use, across authorities (for health reporting). */
  keySetsInUse(): JwksKeySet[] {
    return this.authorities.flatMap((authority) => authority.keySetsInUse());
  }

  private async discoverAll(): Promise<Discovery> {
    const settled = await Promise.allSettled(this.authorities.map((authority) => authority.get()));
    const authorities = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (authorities.length === 0) throw failed?.reason;
    return { authorities, unavailable: failed?.reason };
  }
}

/**
 * The key of a B2C token that names no policy: whichever accepted policy's key set holds its kid
 * (each set loaded, or refreshed once per interval, as for any token). When none does, the reason
 * says so; when a set could not be fetched, the answer is 503, since that policy may be the one.
 */
async function signingKeyAmong(routes: readonly IssuerRoute[], kid: string): Promise<SigningKey> {
  const settled = await Promise.allSettled([...new Set(routes.map((route) => route.keys))].map((keys) => keys.get(kid)));
  let unavailable: unknown;
  for (const result of settled) {
    if (result.status === 'fulfilled') return result.value;
    if (!(result.reason instanceof AzureAuthError) || result.reason.reason !== 'signing_key_not_found') unavailable ??= result.reason;
  }
  throw unavailable ?? AzureAuthErrors.policyKeyNotFound();
}

/** The trusted authorities as discovered. */
export interface Discovery {
  readonly authorities: readonly DiscoveredAuthority[];
  /** Why an authority is missing from `authorities` (a token of none of them may be one of its). */
  readonly unavailable?: unknown;
}
