import type { Agent } from 'node:http';
import { SingleFlight } from '../keys/single-flight.js';
import { fetchJson } from '../metadata/fetch-json.js';
import { metadataUrl } from '../metadata/metadata-urls.js';
import { parseSecureUrl } from '../shared/urls.js';

/** Where a tenant's token endpoint and Microsoft Graph are, from its v2 metadata. @internal */
export interface TenantEndpoints {
  /** `{authorityHost}/{tenant}`: the authority MSAL is given. */
  readonly authority: string;
  readonly tokenEndpoint: string;
  /** The metadata document as MSAL's `authorityMetadata` takes it, so that MSAL fetches nothing itself. */
  readonly authorityMetadata: string;
  /** `https://{msgraph_host}`: Graph of the tenant's cloud (public, US Government, China, or the emulator). */
  readonly graphBaseUrl: string | undefined;
}

/** How endpoints are read. @internal */
export interface TenantEndpointSettings {
  readonly authorityHost: string;
  readonly agentFor: (url: string) => Agent | undefined;
  readonly timeoutMs: number;
  readonly refreshMs: number;
}

// A host name with an optional port: `graph.microsoft.com`, `microsoftgraph.chinacloudapi.cn`, `127.0.0.1:8443`.
const HOST = /^[a-z0-9.-]+(?::\d{1,5})?$/i;
/** Tenants a multi-tenant API's callers come from; beyond this many, the least recent start over. */
const MAX_TENANTS = 1000;

function readEndpoints(document: unknown, authority: string, url: string): TenantEndpoints {
  const record = (document ?? {}) as Record<string, unknown>;
  const { token_endpoint: tokenEndpoint, authorization_endpoint: authorizationEndpoint, issuer, jwks_uri: jwksUri, msgraph_host: graphHost } = record;
  for (const [name, value] of Object.entries({ token_endpoint: tokenEndpoint, authorization_endpoint: authorizationEndpoint, issuer, jwks_uri: jwksUri })) {
    if (typeof value !== 'string' || value.length === 0) throw new Error(`metadata ${url} has no ${name}`);
  }
  // Tokens are posted there: https, or http on loopback only, as keys.
  parseSecureUrl(tokenEndpoint, 'token_endpoint');
  const graphBaseUrl = typeof graphHost === 'string' && HOST.test(graphHost) ? `https://${graphHost.toLowerCase()}` : undefined;
  return {
    authority,
    tokenEndpoint: tokenEndpoint as string,
    authorityMetadata: JSON.stringify({ token_endpoint: tokenEndpoint, authorization_endpoint: authorizationEndpoint, issuer, jwks_uri: jwksUri, end_session_endpoint: record.end_session_endpoint }),
    graphBaseUrl,
  };
}

/**
 * The endpoints of each tenant downstream calls go to (the caller's tenant), read once from its
 * v2 metadata through a single flight, and again after `refreshMs`; a failed read is retried on
 * the next call, after the single flight's back-off.
 *
 * @internal
 */
export class TenantEndpointsCache {
  private readonly tenants = new Map<string, { readonly flight: SingleFlight<TenantEndpoints>; current?: TenantEndpoints; fetchedAt: number }>();

  constructor(private readonly settings: TenantEndpointSettings) {}

  get(tenant: string): Promise<TenantEndpoints> {
    const key = tenant.toLowerCase();
    let entry = this.tenants.get(key);
    if (entry === undefined) {
      if (this.tenants.size >= MAX_TENANTS) this.tenants.clear();
      const url = metadataUrl(this.settings.authorityHost, key, '2.0');
      const authority = `${this.settings.authorityHost}/${encodeURIComponent(key)}`;
      const created: { flight: SingleFlight<TenantEndpoints>; current?: TenantEndpoints; fetchedAt: number } = {
        fetchedAt: 0,
        flight: new SingleFlight(async () => {
          const endpoints = readEndpoints(await fetchJson(url, { timeoutMs: this.settings.timeoutMs, agent: this.settings.agentFor(url) }), authority, url);
          created.current = endpoints;
          created.fetchedAt = Date.now();
          return endpoints;
        }, Date.now),
      };
      entry = created;
      this.tenants.set(key, entry);
    }
    const { current } = entry;
    if (current !== undefined) {
      if (Date.now() - entry.fetchedAt > this.settings.refreshMs) entry.flight.run().catch(() => undefined);
      return Promise.resolve(current);
    }
    return entry.flight.run();
  }
}
