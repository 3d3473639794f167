import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Agent } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import jwksRsa from 'jwks-rsa';
import { AzureAuthErrors } from '../errors/messages.js';
import { SingleFlight } from './single-flight.js';

export { FAILURE_BACKOFF_MS } from './single-flight.js';

/** A verification key from the authority's JWKS, parsed once when the set is loaded. */
export interface SigningKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** v2 keys name their issuer (possibly a `{tenantid}` template); v1 keys do not. */
  readonly issuer?: string;
}

export interface JwksKeySetConfig {
  readonly timeoutMs: number;
  readonly agent?: Agent;
  readonly maxAgeMs: number;
  readonly unknownKeyRefreshIntervalMs: number;
  readonly retryAfterSeconds: number;
  /** Told which kids a refresh removed, so that anything they verified can be forgotten. */
  readonly onKeysRemoved?: (kids: readonly string[]) => void;
  readonly now?: () => number;
}

interface Jwk {
  kty?: unknown;
  use?: unknown;
  alg?: unknown;
  kid?: unknown;
  n?: unknown;
  e?: unknown;
  issuer?: unknown;
}

/** Entra's keys are 2048-bit RSA; anything weaker in a key set is not used. */
const MIN_MODULUS_BITS = 2048;

function toSigningKey(jwk: Jwk): SigningKey | undefined {
  if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.alg !== undefined && jwk.alg !== 'RS256') return undefined;
  try {
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) return undefined;
    return { kid: jwk.kid, publicKey, issuer: typeof jwk.issuer === 'string' ? jwk.issuer : undefined };
  } catch {
    return undefined;
  }
}

/**
 * The signing keys behind one `jwks_uri`. jwks-rsa fetches the document; keys are parsed into
 * `KeyObject`s once per load and looked up by `kid` from memory. An unknown `kid` refreshes the set
 * at most once per interval, shared by all concurrent callers; a failed refresh keeps the last
 * good set.
 */
export class JwksKeySet {
  private keys = new Map<string, SigningKey>();
  private loadedAt: number | undefined;
  private lastUnknownKeyRefresh = Number.NEGATIVE_INFINITY;
  private fetchCount = 0;
  private readonly client: jwksRsa.JwksClient;
  private readonly now: () => number;
  private readonly flight: SingleFlight<void>;
  private reason = '';

  constructor(
    readonly jwksUri: string,
    private readonly config: JwksKeySetConfig,
    private readonly logger: LoggerService,
  ) {
    this.client = jwksRsa({
      jwksUri,
      cache: false,
      rateLimit: false,
      timeout: config.timeoutMs,
      requestAgent: config.agent,
    });
    this.now = config.now ?? Date.now;
    this.flight = new SingleFlight(() => this.load(this.reason), this.now);
  }

  /** Stops background work: a fetch still under way finishes silently and nothing new starts. */
  close(): void {
    this.flight.close();
  }

  /** Whether a key set has been loaded at least once. */
  get loaded(): boolean {
    return this.loadedAt !== undefined;
  }

  /** Age of the loaded set in milliseconds, or undefined when none was loaded. */
  get ageMs(): number | undefined {
    return this.loadedAt === undefined ? undefined : this.now() - this.loadedAt;
  }

  get size(): number {
    return this.keys.size;
  }

  /** How many times the set was fetched, failed fetches included (health reports it). */
  get fetches(): number {
    return this.fetchCount;
  }

  /** The key for `kid` if it is in memory; starts a background refresh when the set is stale. */
  peek(kid: string): SigningKey | undefined {
    const key = this.keys.get(kid);
    if (key && this.loadedAt !== undefined && this.now() - this.loadedAt > this.config.maxAgeMs) {
      this.refresh('stale').catch(() => undefined);
    }
    return key;
  }

  /** The key for `kid`, loading or refreshing the set when needed and allowed. */
  async get(kid: string): Promise<SigningKey> {
    const known = this.peek(kid);
    if (known) return known;
    if (!this.loaded) {
      await this.refreshOrUnavailable('first use');
    } else if (this.flight.busy) {
      // A refresh is already on its way: share it rather than refuse.
      await this.refreshOrUnavailable('unknown kid');
    } else {
      const now = this.now();
      // A failed refresh does not use up the interval (the 503 said "retry"): the failure
      // back-off of the single flight spaces the retries instead.
      if (now - this.lastUnknownKeyRefresh < this.config.unknownKeyRefreshIntervalMs && !this.flight.lastFailed) {
        throw AzureAuthErrors.signingKeyNotFound(false);
      }
      this.lastUnknownKeyRefresh = now;
      await this.refreshOrUnavailable('unknown kid');
    }
    const key = this.keys.get(kid);
    if (!key) throw AzureAuthErrors.signingKeyNotFound(false);
    return key;
  }

  /** Loads the set now (single flight). Rejects when the fetch fails; the last good set stays. */
  refresh(reason: string): Promise<void> {
    if (!this.flight.busy) this.reason = reason;
    return this.flight.run();
  }

  private async refreshOrUnavailable(reason: string): Promise<void> {
    try {
      await this.refresh(reason);
    } catch {
      throw AzureAuthErrors.keysUnavailable(this.config.retryAfterSeconds);
    }
  }

  private async load(reason: string): Promise<void> {
    const started = this.now();
    this.fetchCount++;
    try {
      const jwks = (await this.withDeadline(this.client.getKeys())) as unknown;
      const list = Array.isArray(jwks) ? (jwks as Jwk[]) : [];
      const next = new Map<string, SigningKey>();
      for (const jwk of list) {
        const key = toSigningKey(jwk);
        if (key) next.set(key.kid, key);
      }
      if (next.size === 0) throw new Error('the key set holds no usable RS256 signing key');
      const removed = [...this.keys.keys()].filter((kid) => !next.has(kid));
      this.keys = next;
      this.loadedAt = this.now();
      this.logger.log(`Loaded ${next.size} signing keys from ${this.jwksUri} (${reason}) in ${this.now() - started} ms`);
      if (removed.length > 0) {
        this.logger.log(`Signing keys removed by the authority: ${removed.join(', ')}`);
        this.config.onKeysRemoved?.(removed);
      }
    } catch (error) {
      if (this.flight.isClosed) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `Fetching signing keys from ${this.jwksUri} (${reason}) failed after ${this.now() - started} ms: ${message}` +
          (this.loaded ? '; keeping the last good key set' : ''),
      );
      throw error;
    }
  }

  private withDeadline<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
      timer.unref();
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
