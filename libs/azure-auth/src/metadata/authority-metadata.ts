import type { LoggerService } from '@nestjs/common';
import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { ResolvedAuthority } from '../azure-auth.options.resolve.js';
import { parseSecureUrl } from '../shared/urls.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { FAILURE_BACKOFF_MS, JwksKeySet } from '../keys/jwks-key-set.js';
import { fetchJson } from './fetch-json.js';
import { agentFor } from './proxy-agent.js';

/** What one metadata document tells us: who issues tokens of that version, and where its keys are. */
export interface IssuerRoute {
  /** Workforce tenants: the `ver` of the tokens this document's issuer signs. */
  readonly version?: AzureTokenVersion;
  /** B2C: the policy (user flow) of this document. */
  readonly policy?: string;
  /** Exact issuer, or a template with `{tenantid}` (multi-tenant metadata). */
  readonly issuerTemplate: string;
  readonly keys: JwksKeySet;
}

/** The authority as discovered: one route per metadata document (token version, or B2C policy). */
export interface DiscoveredAuthority {
  readonly routes: readonly IssuerRoute[];
  /** Issuer template of the v2 metadata, used to check the `issuer` of v2 keys. */
  readonly v2IssuerTemplate: string | undefined;
  readonly fetchedAt: number;
}

const RETRY_AFTER_SECONDS = 10;

/**
 * Discovers issuers and key locations from Entra's OpenID metadata, lazily and once (single
 * flight), keeps the last good answer when a later refresh fails, and refreshes it in the
 * background when it is older than `metadataRefreshSeconds`.
 */
export class AuthorityMetadata {
  private current: DiscoveredAuthority | undefined;
  private inflight: Promise<DiscoveredAuthority> | undefined;
  private readonly keySets = new Map<string, JwksKeySet>();
  private metadataFetches = 0;
  private lastFailureAt: number | undefined;
  private closed = false;

  constructor(
    private readonly options: ResolvedAuthority,
    private readonly logger: LoggerService,
    private readonly onKeysRemoved?: (kids: readonly string[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The discovered authority if known, without waiting; refreshes a stale one in the background. */
  peek(): DiscoveredAuthority | undefined {
    const current = this.current;
    if (current && this.now() - current.fetchedAt > this.options.metadataRefreshSeconds * 1000) {
      this.refresh().catch(() => undefined);
    }
    return current;
  }

  /** The discovered authority, fetching it when unknown. Rejects with `keys_unavailable`. */
  async get(): Promise<DiscoveredAuthority> {
    const current = this.peek();
    if (current) return current;
    try {
      return await this.refresh();
    } catch {
      throw AzureAuthErrors.keysUnavailable(RETRY_AFTER_SECONDS);
    }
  }

  /** Fetches metadata and then keys, without blocking the caller; failures are logged. */
  warmUp(): void {
    this.get()
      .then((authority) => Promise.all(authority.routes.map((route) => route.keys.refresh('warm-up'))))
      .catch(() => undefined);
  }

  /** Stops background work: a fetch still under way finishes silently and nothing new starts. */
  close(): void {
    this.closed = true;
    for (const keys of this.keySets.values()) keys.close();
  }

  /** Key sets in use, for health reporting. */
  keySetsInUse(): JwksKeySet[] {
    return [...this.keySets.values()];
  }

  get fetches(): number {
    return this.metadataFetches;
  }

  private refresh(): Promise<DiscoveredAuthority> {
    if (this.closed) return Promise.reject(new Error('closed'));
    if (!this.inflight && this.lastFailureAt !== undefined && this.now() - this.lastFailureAt < FAILURE_BACKOFF_MS) {
      return Promise.reject(new Error('the last fetch failed moments ago'));
    }
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<DiscoveredAuthority> {
    const { label, discovery } = this.options;
    const started = this.now();
    try {
      const documents = await Promise.all(
        discovery.map(async (entry) => {
          this.metadataFetches++;
          return { entry, document: await fetchJson(entry.metadataUrl, { timeoutMs: this.options.httpTimeoutMs, agent: agentFor(entry.metadataUrl, this.options.httpAgent) }) };
        }),
      );
      const routes: IssuerRoute[] = documents.map(({ entry, document }) => {
        const { issuer, jwksUri } = readMetadata(document, entry.metadataUrl);
        return { version: entry.version, policy: entry.policy, issuerTemplate: issuer, keys: this.keySetFor(jwksUri) };
      });
      const discovered: DiscoveredAuthority = {
        routes,
        v2IssuerTemplate: routes.find((route) => route.version === '2.0')?.issuerTemplate,
        fetchedAt: this.now(),
      };
      this.current = discovered;
      this.lastFailureAt = undefined;
      this.logger.log(`Discovered ${label} (${routes.length} metadata documents) in ${this.now() - started} ms`);
      return discovered;
    } catch (error) {
      this.lastFailureAt = this.now();
      if (this.closed) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `OpenID metadata of ${label} unavailable after ${this.now() - started} ms: ${message}` +
          (this.current ? '; keeping the last good metadata' : ''),
      );
      throw error;
    }
  }

  private keySetFor(jwksUri: string): JwksKeySet {
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      keys = new JwksKeySet(
        jwksUri,
        {
          timeoutMs: this.options.httpTimeoutMs,
          agent: agentFor(jwksUri, this.options.httpAgent),
          maxAgeMs: this.options.keysMaxAgeSeconds * 1000,
          unknownKeyRefreshIntervalMs: this.options.unknownKeyRefreshIntervalSeconds * 1000,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
          onKeysRemoved: this.onKeysRemoved,
          now: this.now,
        },
        this.logger,
      );
      this.keySets.set(jwksUri, keys);
    }
    return keys;
  }
}

/** Reads `issuer` and `jwks_uri` from a metadata document, refusing anything unusable. */
function readMetadata(document: unknown, url: string): { issuer: string; jwksUri: string } {
  const record = (document ?? {}) as Record<string, unknown>;
  const { issuer, jwks_uri: jwksUri } = record;
  if (typeof issuer !== 'string' || issuer.length === 0) throw new Error(`metadata ${url} has no issuer`);
  if (typeof jwksUri !== 'string') throw new Error(`metadata ${url} has no jwks_uri`);
  // The same rule as authorityHost: keys only over https, or http on loopback.
  parseSecureUrl(jwksUri, 'jwks_uri');
  return { issuer, jwksUri };
}
