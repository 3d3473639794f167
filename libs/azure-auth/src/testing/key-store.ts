import type { KeyObject } from 'node:crypto';
import type { PublishedKey } from './entra-documents.js';
import { generateSigningKey, generateSigningKeyAsync, type EmulatorSigningKey } from './signing-keys.js';

/** A key pair the emulator made (see {@link EntraEmulator.createUnpublishedKey} and {@link EntraEmulator.addKey}). */
export interface EmulatorKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A key pair made by {@link EntraEmulator.createUnpublishedKey}. */
export type UnpublishedSigningKey = EmulatorKeyPair;

/** How {@link EntraEmulator.addKey} publishes a key. */
export interface AddKeyOptions {
  /**
   * The `issuer` this key shows on the v2 keys endpoints, in place of the v2 issuer template: for
   * tests of a key that belongs to another tenant or cloud. It may hold `{tenantid}`.
   */
  issuer?: string;
  /**
   * Publishes the key with this `use` instead of `sig` (e.g. `enc`): a key a validator must not
   * use to verify signatures.
   */
  use?: string;
  /** Publishes the key with this `alg` (Entra publishes none), e.g. `RS512` for a key that disagrees with RS256 tokens. */
  alg?: string;
}

/**
 * Where a key is published. Entra has three key sets: the tenant's, an application's own (claims
 * mapping), and, in B2C, one per policy. A key published nowhere still signs on request.
 */
type KeyPublication =
  | { readonly on: 'tenant'; readonly issuer?: string; readonly use?: string; readonly alg?: string }
  | { readonly on: 'app'; readonly appId: string }
  | { readonly on: 'policy'; readonly policy: string; readonly notBefore: number }
  | { readonly on: 'nowhere' };

interface KeyRecord {
  readonly key: EmulatorSigningKey;
  readonly publication: KeyPublication;
}

function pairOf(key: EmulatorSigningKey): EmulatorKeyPair {
  return { kid: key.kid, privateKey: key.privateKey, publicKey: key.publicKey };
}

/**
 * Every key the emulator ever made, by `kid`, each with where it is published: so that any of
 * them can sign on request (`sign({ kid })`), rotated out or never shown. Kept in creation order,
 * which is the tenant's publication order, since a key is published when it is made or never.
 *
 * @internal
 */
export class KeyStore {
  private readonly records = new Map<string, KeyRecord>();
  private current: EmulatorSigningKey;

  private constructor(first: EmulatorSigningKey) {
    this.current = first;
    this.add(first, { on: 'tenant' });
  }

  /** The first key is made without blocking the event loop; later ones are made on demand. */
  static async create(): Promise<KeyStore> {
    return new KeyStore(await generateSigningKeyAsync());
  }

  /** The key that signs minted tokens by default. */
  get signingKey(): EmulatorSigningKey {
    return this.current;
  }

  /** The tenant-wide key set, as the keys endpoints publish it. */
  tenantKeys(): PublishedKey[] {
    const published: PublishedKey[] = [];
    for (const { key, publication } of this.records.values()) {
      if (publication.on === 'tenant') {
        published.push({ key, issuer: publication.issuer, use: publication.use, alg: publication.alg });
      }
    }
    return published;
  }

  rotate(keepPrevious: boolean): string {
    const previous = this.current;
    this.current = this.add(generateSigningKey(), { on: 'tenant' });
    if (!keepPrevious) {
      this.add(previous, { on: 'nowhere' });
    }
    return this.current.kid;
  }

  /** Unpublishes a tenant-wide or app-specific key; policy keys stay, as B2C never drops one. */
  withdraw(kid: string): void {
    const record = this.records.get(kid);
    const on = record?.publication.on;
    if (record === undefined || (on !== 'tenant' && on !== 'app')) {
      throw new Error(`EntraEmulator.removeKey: no published key has kid "${kid}"`);
    }
    this.add(record.key, { on: 'nowhere' });
  }

  createUnpublished(): EmulatorKeyPair {
    return pairOf(this.add(generateSigningKey(), { on: 'nowhere' }));
  }

  publish(options: AddKeyOptions): EmulatorKeyPair {
    const { issuer, use, alg } = options;
    if (issuer !== undefined && (typeof issuer !== 'string' || issuer.trim() === '')) {
      throw new Error(`EntraEmulator.addKey: issuer must be a non-empty string, got ${JSON.stringify(issuer)}`);
    }
    return pairOf(this.add(generateSigningKey(), { on: 'tenant', issuer, use, alg }));
  }

  /** A B2C policy's key, made on first use. B2C compares policy names without case. */
  policyKey(policy: string): { key: EmulatorSigningKey; notBefore: number } {
    const name = policy.toLowerCase();
    for (const { key, publication } of this.records.values()) {
      if (publication.on === 'policy' && publication.policy === name) {
        return { key, notBefore: publication.notBefore };
      }
    }
    const notBefore = Math.floor(Date.now() / 1000);
    return { key: this.add(generateSigningKey(), { on: 'policy', policy: name, notBefore }), notBefore };
  }

  /** An application's own key, made on first use. */
  appKey(appId: string): EmulatorSigningKey {
    return this.publishedAppKey(appId) ?? this.add(generateSigningKey(), { on: 'app', appId: appId.toLowerCase() });
  }

  /** An application's own key if it has one: until then `?appid=` serves the tenant's keys. */
  publishedAppKey(appId: string): EmulatorSigningKey | undefined {
    const id = appId.toLowerCase();
    for (const { key, publication } of this.records.values()) {
      if (publication.on === 'app' && publication.appId === id) {
        return key;
      }
    }
    return undefined;
  }

  /** The public half of a tenant-wide key the keys endpoints publish: what the emulator verifies its own tokens with, as Entra does. */
  publishedTenantKey(kid: string): KeyObject | undefined {
    const record = this.records.get(kid);
    return record?.publication.on === 'tenant' ? record.key.publicKey : undefined;
  }

  /** Any key the emulator made, published or not. */
  privateKeyOf(kid: string): KeyObject | undefined {
    return this.records.get(kid)?.key.privateKey;
  }

  /** Also moves a known key: `Map#set` keeps its place, and so the publication order. */
  private add(key: EmulatorSigningKey, publication: KeyPublication): EmulatorSigningKey {
    this.records.set(key.kid, { key, publication });
    return key;
  }
}
