import type { AzureTokenVersion } from '../azure-auth.options.js';
import type { DiscoveryEntry, ResolvedAuthority } from '../azure-auth.options.resolve.js';
import type { JwksKeySet } from '../keys/jwks-key-set.js';
import { parseSecureUrl } from '../shared/urls.js';
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
  /** The keys that sign this issuer's tokens. */
  readonly keys: JwksKeySet;
}

/** A metadata document that could not be read while the others of its authority could (a B2C policy). */
export interface UnavailableMetadata {
  readonly policy: string;
  readonly metadataUrl: string;
  /** What went wrong, e.g. `HTTP 404 from https://…`. */
  readonly problem: string;
}

/** The authority as discovered: one route per metadata document (token version, or B2C policy). */
export interface DiscoveredAuthority {
  readonly options: ResolvedAuthority;
  readonly routes: readonly IssuerRoute[];
  /** B2C policies whose metadata could not be read: their tokens cannot be decided until it can. */
  readonly unavailable: readonly UnavailableMetadata[];
  /** Issuer template of the v2 metadata, used to check the `issuer` of v2 keys. */
  readonly v2IssuerTemplate: string | undefined;
  readonly fetchedAt: number;
}

/**
 * Reads every metadata document of an authority: its issuer, and the key set behind its
 * `jwks_uri` (`keySetFor` gives the one set per URL). Entra publishes a workforce tenant's keys on
 * its v1 and v2 endpoints alike; v1 tokens are checked against the v2 set, whose keys name their
 * issuer (so the key issuer rule holds for both versions).
 */
export async function discoverAuthority(options: ResolvedAuthority, keySetFor: (jwksUri: string) => JwksKeySet, now: number): Promise<DiscoveredAuthority> {
  const settled = await Promise.allSettled(
    options.discovery.map(async (entry) => ({ entry, ...readMetadata(await fetchMetadata(entry, options), entry.metadataUrl) })),
  );
  const documents = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const unavailable: UnavailableMetadata[] = [];
  for (const [index, result] of settled.entries()) {
    if (result.status === 'fulfilled') continue;
    const { policy, metadataUrl } = options.discovery[index];
    // One B2C policy's metadata says nothing about another's; a workforce tenant's documents stand or fall together.
    if (policy === undefined || documents.length === 0) throw result.reason;
    unavailable.push({ policy, metadataUrl, problem: result.reason instanceof Error ? result.reason.message : String(result.reason) });
  }
  const v2 = documents.find(({ entry }) => entry.version === '2.0');
  const v2Keys = v2 && keySetFor(v2.jwksUri);
  const routes = documents.map(({ entry, issuer, jwksUri }): IssuerRoute => ({
    version: entry.version,
    policy: entry.policy,
    issuerTemplate: issuer,
    keys: entry.version === '1.0' && v2Keys ? v2Keys : keySetFor(jwksUri),
  }));
  return { options, routes, unavailable, v2IssuerTemplate: v2?.issuer, fetchedAt: now };
}

function fetchMetadata(entry: DiscoveryEntry, options: ResolvedAuthority): Promise<unknown> {
  return fetchJson(entry.metadataUrl, { timeoutMs: options.httpTimeoutMs, agent: agentFor(entry.metadataUrl, options.httpAgent) });
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
