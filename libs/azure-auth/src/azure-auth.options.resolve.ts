import type { Agent } from 'node:http';
import { AZURE_AD_STRATEGY } from './azure-auth.constants.js';
import { AzureAuthConfigurationError } from './errors/azure-auth-configuration.error.js';
import { isGuid } from './shared/guid.js';
import { normalizeAuthorityHost, parseSecureUrl } from './shared/urls.js';
import { metadataUrl } from './metadata/metadata-urls.js';
import { resolveClientCredential, type ResolvedClientCredential } from './downstream/client-credential.js';
import {
  MODULE_WIDE_OPTIONS,
  type AzureAuthFailureEvent,
  type AzureAuthModuleOptions,
  type AzureGroupsResolver,
  type AzureTenantValidator,
  type AzureTokenVersion,
} from './azure-auth.options.js';

/**
 * One OpenID metadata document to discover: workforce tenants have one per token version, B2C one
 * per policy, other authorities one.
 * @internal
 */
export interface DiscoveryEntry {
  readonly metadataUrl: string;
  /** Tokens routed here must carry this `ver` (workforce tenants publish v1 and v2 separately). */
  readonly version?: AzureTokenVersion;
  /** B2C: the policy (user flow) whose tokens this document is for. */
  readonly policy?: string;
}

/** Tenants that stand for "any tenant of a kind" in Entra's URLs. */
export type MultiTenantKind = 'common' | 'organizations' | 'consumers';

/**
 * Options after validation, with every default applied and lookup structures built once.
 * @internal
 */
export interface ResolvedAzureAuthOptions extends ResolvedAuthority {
  /** Every authority this API trusts; one unless `authorities` was given. The first is this object's own settings. */
  readonly authorities: readonly ResolvedAuthority[];
}

/**
 * The validated settings of one authority.
 * @internal
 */
export interface ResolvedAuthority {
  /** The metadata documents of this authority. */
  readonly discovery: readonly DiscoveryEntry[];
  /** Where this authority lives, for log lines. */
  readonly label: string;
  /** True for `authority`-based configurations (B2C, External ID, custom domains). */
  readonly customAuthority: boolean;
  readonly tenantId: string;
  readonly multiTenant: MultiTenantKind | undefined;
  readonly clientId: string;
  readonly audiences: ReadonlySet<string>;
  readonly authorityHost: string;
  readonly clockToleranceSeconds: number;
  readonly acceptedTokenVersions: ReadonlySet<AzureTokenVersion>;
  readonly allowedTenants: ReadonlySet<string> | undefined;
  readonly tenantValidator: AzureTenantValidator | undefined;
  readonly allowAnyTenant: boolean;
  readonly allowedClientApps: ReadonlySet<string> | undefined;
  readonly allowTokensWithoutPermissions: boolean;
  readonly allowGuestUsers: boolean;
  readonly appSpecificSigningKeys: boolean;
  readonly allowMultipleAudiences: boolean;
  readonly maxTokenBytes: number;
  readonly realm: string;
  readonly httpTimeoutMs: number;
  readonly keysMaxAgeSeconds: number;
  readonly metadataRefreshSeconds: number;
  readonly unknownKeyRefreshIntervalSeconds: number;
  readonly httpAgent: Agent | undefined;
  readonly warmUp: boolean;
  readonly tokenCacheMaxEntries: number;
  readonly onAuthFailure: ((event: AzureAuthFailureEvent) => void) | undefined;
  readonly strategyName: string;
  /** The API's own credential, for downstream calls; `undefined` when none is made. */
  readonly clientCredential: ResolvedClientCredential | undefined;
  /** Partitions of the downstream token cache (one per incoming token). */
  readonly downstreamCacheMaxPartitions: number;
  /** How overage tokens' groups are resolved; `undefined` when they are refused (`groupsOverage: false`). */
  readonly groupsOverage: ResolvedGroupsOverage | undefined;
}

/** {@link AzureGroupsOverageOptions}, checked, with its defaults. @internal */
export interface ResolvedGroupsOverage {
  readonly resolve: 'on-behalf-of' | 'app' | AzureGroupsResolver;
  /** Whether `resolve` was written (a Graph source then needs a credential) or is the default. */
  readonly explicit: boolean;
  readonly cacheMs: number;
  readonly maxCachedUsers: number;
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const MULTI_TENANT: ReadonlySet<string> = new Set(['common', 'organizations', 'consumers']);
function positiveNumber(options: AzureAuthModuleOptions, name: keyof AzureAuthModuleOptions, fallback: number, allowZero = false): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new AzureAuthConfigurationError(name, `must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function stringList(options: AzureAuthModuleOptions, name: 'allowedTenants' | 'allowedClientApps', guids: boolean): ReadonlySet<string> | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string' || (guids && !isGuid(entry)))) {
    throw new AzureAuthConfigurationError(name, `must be an array of ${guids ? 'GUIDs' : 'strings'}`);
  }
  return new Set(value.map((entry) => entry.toLowerCase()));
}

/**
 * Validates the user's options once, at module start, and applies the defaults.
 * @internal
 */
export function resolveAzureAuthOptions(options: AzureAuthModuleOptions): ResolvedAzureAuthOptions {
  if (options === null || typeof options !== 'object') {
    throw new AzureAuthConfigurationError('options', 'must be an object');
  }
  if (options.authorities === undefined) {
    const single = resolveAuthority(options);
    checkGroupsOverageSource([single]);
    return { ...single, authorities: [single] };
  }
  const { authorities, ...shared } = options;
  if (!Array.isArray(authorities) || authorities.length === 0) {
    throw new AzureAuthConfigurationError('authorities', 'must be a non-empty array of authority configurations');
  }
  const resolved = authorities.map((entry, index) => {
    for (const option of MODULE_WIDE_OPTIONS) {
      if (entry !== null && typeof entry === 'object' && (entry as Record<string, unknown>)[option] !== undefined) {
        throw new AzureAuthConfigurationError(`authorities[${index}].${option}`, 'applies to the whole module: set it next to authorities, not in an entry');
      }
    }
    try {
      return resolveAuthority({ ...shared, ...entry });
    } catch (error) {
      if (error instanceof AzureAuthConfigurationError) {
        throw new AzureAuthConfigurationError(`authorities[${index}].${error.option}`, error.problem);
      }
      throw error;
    }
  });
  checkGroupsOverageSource(resolved);
  return { ...resolved[0], authorities: resolved };
}

/** The discovery documents of an `authority` URL, one per B2C policy when there are policies. */
function authorityDiscovery(authority: string, policies: readonly string[] | undefined): DiscoveryEntry[] {
  const base = authority.replace(/\/+$/, '');
  if (!policies) {
    if (base.includes('{policy}')) throw new AzureAuthConfigurationError('policies', 'must list the policies that fill {policy} in authority');
    return [{ metadataUrl: `${base}/.well-known/openid-configuration` }];
  }
  return policies.map((policy) => {
    const url = base.includes('{policy}') ? base.replace('{policy}', encodeURIComponent(policy)) : `${base}/${encodeURIComponent(policy)}/v2.0`;
    return { metadataUrl: `${url}/.well-known/openid-configuration`, policy };
  });
}

function resolveAuthority(options: Omit<AzureAuthModuleOptions, 'authorities'>): ResolvedAuthority {
  const { clientId, authority } = options;
  if (authority !== undefined && typeof authority !== 'string') {
    throw new AzureAuthConfigurationError('authority', 'must be a URL string');
  }
  // With an authority URL the tenant is named by the URL; tenantId then only labels it.
  const tenantId = options.tenantId ?? (authority !== undefined ? 'custom' : undefined);
  const validTenant = typeof tenantId === 'string' && (authority !== undefined || DOMAIN.test(tenantId) || MULTI_TENANT.has(tenantId.toLowerCase()) || isGuid(tenantId));
  if (!validTenant) {
    throw new AzureAuthConfigurationError('tenantId', `must be a tenant GUID, a verified domain, or common/organizations/consumers, got ${JSON.stringify(tenantId)}`);
  }
  if (!isGuid(clientId)) {
    throw new AzureAuthConfigurationError('clientId', `must be the application (client) id GUID of the API, got ${JSON.stringify(clientId)}`);
  }
  const normalizedClientId = clientId.toLowerCase();
  const multiTenant = authority === undefined && MULTI_TENANT.has(tenantId.toLowerCase()) ? (tenantId.toLowerCase() as MultiTenantKind) : undefined;

  // v2 tokens name the client id; v1 tokens the App ID URI that was requested, or `spn:` and the
  // client id when the resource was requested by its service principal name.
  const audienceList =
    options.audience === undefined ? [normalizedClientId, `api://${normalizedClientId}`, `spn:${normalizedClientId}`] : ([] as string[]).concat(options.audience);
  if (audienceList.length === 0 || audienceList.some((entry) => typeof entry !== 'string' || entry.length === 0)) {
    throw new AzureAuthConfigurationError('audience', 'must be a non-empty string or array of non-empty strings');
  }

  const versions = options.acceptedTokenVersions ?? ['1.0', '2.0'];
  if (!Array.isArray(versions) || versions.length === 0 || versions.some((v) => v !== '1.0' && v !== '2.0')) {
    throw new AzureAuthConfigurationError('acceptedTokenVersions', `must be a non-empty array of '1.0' and/or '2.0', got ${JSON.stringify(versions)}`);
  }

  const allowedTenants = stringList(options, 'allowedTenants', true);
  if (allowedTenants !== undefined && (multiTenant === undefined || multiTenant === 'consumers')) {
    throw new AzureAuthConfigurationError('allowedTenants', `applies only to a multi-tenant API (tenantId common or organizations); tenantId "${tenantId}" already names the one tenant trusted`);
  }
  if (allowedTenants?.size === 0) {
    throw new AzureAuthConfigurationError('allowedTenants', 'must list at least one tenant GUID (an empty list would trust no tenant: give a tenantValidator or allowAnyTenant instead)');
  }
  if (options.tenantValidator !== undefined && typeof options.tenantValidator !== 'function') {
    throw new AzureAuthConfigurationError('tenantValidator', 'must be a function (tenantId, claims) => boolean | Promise<boolean>');
  }
  const allowAnyTenant = options.allowAnyTenant === true;
  if (multiTenant && multiTenant !== 'consumers' && !allowedTenants && !options.tenantValidator && !allowAnyTenant) {
    throw new AzureAuthConfigurationError(
      'allowedTenants',
      `is required when tenantId is "${tenantId}": list the trusted tenants, give a tenantValidator, or set allowAnyTenant: true to trust every tenant explicitly`,
    );
  }
  if (options.onAuthFailure !== undefined && typeof options.onAuthFailure !== 'function') {
    throw new AzureAuthConfigurationError('onAuthFailure', 'must be a function');
  }
  if (options.strategyName !== undefined && (typeof options.strategyName !== 'string' || options.strategyName.length === 0)) {
    throw new AzureAuthConfigurationError('strategyName', 'must be a non-empty string');
  }
  const tokenCache = options.tokenCache;
  if (tokenCache !== undefined && tokenCache !== false && (typeof tokenCache !== 'object' || tokenCache === null)) {
    throw new AzureAuthConfigurationError('tokenCache', 'must be false or { maxEntries }');
  }
  const maxEntries = tokenCache === false ? 0 : (tokenCache?.maxEntries ?? 10_000);
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new AzureAuthConfigurationError('tokenCache.maxEntries', 'must be a non-negative integer');
  }

  const policies = options.policies;
  if (policies !== undefined && (!Array.isArray(policies) || policies.length === 0 || policies.some((p) => typeof p !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p)))) {
    throw new AzureAuthConfigurationError('policies', 'must be a non-empty array of policy names (letters, digits, _ . -)');
  }
  if (policies !== undefined && authority === undefined) {
    throw new AzureAuthConfigurationError('policies', 'needs authority (the B2C authority URL)');
  }
  const authorityHost = normalizeAuthorityHost(options.authorityHost);
  const clientCredential = resolveClientCredential(options.clientCredential);
  if (clientCredential && authority !== undefined) {
    throw new AzureAuthConfigurationError('clientCredential', 'is for downstream calls of a workforce tenant (tenantId and authorityHost); B2C has no on-behalf-of flow, and custom authorities are not supported for them');
  }
  if (clientCredential && authorityHost.startsWith('http:')) {
    throw new AzureAuthConfigurationError(
      'clientCredential',
      'needs an https:// authorityHost: MSAL Node refuses http:// authorities (start the emulator with EntraEmulator.start({ https: true }) and trust its certificateAuthority in httpAgent)',
    );
  }
  const maxPartitions = options.downstreamTokenCache?.maxPartitions ?? 1000;
  if (!Number.isInteger(maxPartitions) || maxPartitions < 1) {
    throw new AzureAuthConfigurationError('downstreamTokenCache.maxPartitions', `must be a positive integer, got ${JSON.stringify(maxPartitions)}`);
  }
  const groupsOverage = resolveGroupsOverage(options.groupsOverage);
  const appId = options.appSpecificSigningKeys === true ? normalizedClientId : undefined;
  let discovery: DiscoveryEntry[];
  let label: string;
  if (authority !== undefined) {
    const url = parseSecureUrl(authority, 'authority');
    if (url.search || url.hash) throw new AzureAuthConfigurationError('authority', 'must not carry a query or fragment');
    // Shown as written: `{policy}`, not `%7Bpolicy%7D`.
    label = decodeAuthority(url.href.replace(/\/+$/, ''));
    discovery = authorityDiscovery(label, policies).map((entry) =>
      appId ? { ...entry, metadataUrl: `${entry.metadataUrl}?appid=${encodeURIComponent(appId)}` } : entry,
    );
  } else {
    label = `${authorityHost}/${multiTenant ?? tenantId}`;
    // The v2 document is always read: its key set (whose keys name their issuer) checks tokens of both versions.
    const discovered = versions.includes('1.0') ? (['1.0', '2.0'] as const) : (['2.0'] as const);
    discovery = discovered.map((version) => ({ metadataUrl: metadataUrl(authorityHost, multiTenant ?? tenantId, version, appId), version }));
  }

  return {
    discovery,
    label,
    customAuthority: authority !== undefined,
    tenantId: multiTenant ?? tenantId,
    multiTenant,
    clientId: normalizedClientId,
    audiences: new Set(audienceList),
    authorityHost,
    clockToleranceSeconds: positiveNumber(options, 'clockToleranceSeconds', 300, true),
    acceptedTokenVersions: new Set(versions),
    allowedTenants,
    tenantValidator: options.tenantValidator,
    allowAnyTenant,
    allowedClientApps: stringList(options, 'allowedClientApps', false),
    allowTokensWithoutPermissions: options.allowTokensWithoutPermissions === true,
    allowGuestUsers: options.allowGuestUsers !== false,
    appSpecificSigningKeys: options.appSpecificSigningKeys === true,
    allowMultipleAudiences: options.allowMultipleAudiences === true,
    maxTokenBytes: positiveNumber(options, 'maxTokenBytes', 16_384),
    realm: options.realm ?? `api://${normalizedClientId}`,
    httpTimeoutMs: positiveNumber(options, 'httpTimeoutMs', 5_000),
    keysMaxAgeSeconds: positiveNumber(options, 'keysMaxAgeSeconds', 86_400),
    metadataRefreshSeconds: positiveNumber(options, 'metadataRefreshSeconds', 43_200),
    unknownKeyRefreshIntervalSeconds: positiveNumber(options, 'unknownKeyRefreshIntervalSeconds', 30, true),
    httpAgent: options.httpAgent,
    warmUp: options.warmUp !== false,
    tokenCacheMaxEntries: maxEntries,
    onAuthFailure: options.onAuthFailure,
    strategyName: options.strategyName ?? AZURE_AD_STRATEGY,
    clientCredential,
    downstreamCacheMaxPartitions: maxPartitions,
    groupsOverage,
  };
}

function resolveGroupsOverage(option: AzureAuthModuleOptions['groupsOverage']): ResolvedGroupsOverage | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (option === null || typeof option !== 'object')) {
    throw new AzureAuthConfigurationError('groupsOverage', `must be false or { resolve?, cacheSeconds?, maxCachedUsers? }, got ${JSON.stringify(option)}`);
  }
  const { resolve = 'on-behalf-of', cacheSeconds = 3600, maxCachedUsers = 10_000 } = option ?? {};
  if (resolve !== 'on-behalf-of' && resolve !== 'app' && typeof resolve !== 'function') {
    throw new AzureAuthConfigurationError('groupsOverage.resolve', `must be 'on-behalf-of', 'app' or a function returning the caller's group ids, got ${JSON.stringify(resolve)}`);
  }
  if (typeof cacheSeconds !== 'number' || !Number.isFinite(cacheSeconds) || cacheSeconds < 0) {
    throw new AzureAuthConfigurationError('groupsOverage.cacheSeconds', `must be a non-negative number, got ${JSON.stringify(cacheSeconds)}`);
  }
  if (!Number.isInteger(maxCachedUsers) || maxCachedUsers < 1) {
    throw new AzureAuthConfigurationError('groupsOverage.maxCachedUsers', `must be a positive integer, got ${JSON.stringify(maxCachedUsers)}`);
  }
  return { resolve, explicit: option?.resolve !== undefined, cacheMs: cacheSeconds * 1000, maxCachedUsers };
}

/** Microsoft Graph asked in so many words needs the API's credential somewhere. */
function checkGroupsOverageSource(authorities: readonly ResolvedAuthority[]): void {
  const overage = authorities[0]?.groupsOverage;
  if (overage?.explicit && typeof overage.resolve === 'string' && !authorities.some((authority) => authority.clientCredential)) {
    throw new AzureAuthConfigurationError('groupsOverage.resolve', `'${overage.resolve}' asks Microsoft Graph, which needs clientCredential (the API's own credential)`);
  }
}

/** An authority URL shown and fetched as written (`{policy}`, not `%7Bpolicy%7D`); a broken percent escape is a configuration error. */
function decodeAuthority(href: string): string {
  try {
    return decodeURI(href);
  } catch {
    throw new AzureAuthConfigurationError('authority', `has a malformed percent escape (a "%" not followed by two hex digits): ${JSON.stringify(href)}`);
  }
}
