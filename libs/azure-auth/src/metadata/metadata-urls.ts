import type { AzureTokenVersion } from '../azure-auth.options.js';

/** The OpenID metadata URL of a tenant for one token version (`?appid=` for app-specific keys). */
export function metadataUrl(authorityHost: string, tenant: string, version: AzureTokenVersion, appId?: string): string {
  const path = version === '2.0' ? 'v2.0/.well-known/openid-configuration' : '.well-known/openid-configuration';
  const query = appId ? `?appid=${encodeURIComponent(appId)}` : '';
  return `${authorityHost}/${encodeURIComponent(tenant)}/${path}${query}`;
}
