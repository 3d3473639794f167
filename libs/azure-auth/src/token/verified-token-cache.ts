import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** An entry names the key that verified its token, so that a key's removal can drop it. */
export interface CacheEntry {
  readonly kid: string;
}

/**
 * Tokens that verified once, by a digest of the whole token, until they expire. Only successes are
 * stored; the caller still checks the lifetime on every hit. Per process: tokens are
 * self-contained, so instances behind a load balancer need nothing shared.
 */
export class VerifiedTokenCache<Entry extends CacheEntry> {
  private readonly cache: LRUCache<string, Entry> | undefined;
  // A miss and the set after it digest the same token: remember the last one.
  private lastToken = '';
  private lastDigest = '';

  constructor(maxEntries: number) {
    this.cache = maxEntries > 0 ? new LRUCache<string, Entry>({ max: maxEntries }) : undefined;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  get(token: string): Entry | undefined {
    return this.cache?.get(this.digest(token));
  }

  set(token: string, entry: Entry, ttlMs: number): void {
    if (ttlMs > 0) this.cache?.set(this.digest(token), entry, { ttl: ttlMs });
  }

  /** Replaces the entry of a cached token, keeping its expiry. */
  replace(token: string, entry: Entry): void {
    this.cache?.set(this.digest(token), entry, { noUpdateTTL: true });
  }

  private digest(token: string): string {
    if (token !== this.lastToken) {
      this.lastDigest = digest(token);
      this.lastToken = token;
    }
    return this.lastDigest;
  }

  /** Forgets every token verified by a key the authority no longer publishes. */
  dropKeys(kids: readonly string[]): void {
    if (!this.cache) return;
    const removed = new Set(kids);
    for (const [key, entry] of this.cache.entries()) {
      if (removed.has(entry.kid)) this.cache.delete(key);
    }
  }
}

/**
 * One-shot SHA-256 (`crypto.hash`, Node 20.12+): half the cost of a createHash chain on a hit. Its
 * 32 bytes as a one-byte string ('binary' is latin1): the shortest key to store and for the map to hash.
 */
function digest(token: string): string {
  return hash('sha256', token, 'binary');
}
