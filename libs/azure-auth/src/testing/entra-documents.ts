import { isGuid } from '../shared/guid.js';
import {
  CONSUMERS_TENANT_ID,
  TENANT_ID_TEMPLATE,
  fillTenantTemplate,
  formatB2cIssuer,
  formatV1Issuer,
} from './emulator-defaults.js';
import { toEntraJwk, type EmulatorSigningKey, type EntraJsonWebKey } from './signing-keys.js';

/** The two kinds of Entra endpoints the emulator serves (everything else is `other`). */
export type EntraEndpointKind = 'metadata' | 'keys';

/** The tenant part of a request path, as Entra interprets it. */
export interface ResolvedTenant {
  /** What endpoint URLs repeat: the path's tenant, except that a domain becomes its tenant GUID. */
  pathSegment: string;
  /** What issuers carry: a GUID, or the `{tenantid}` template for `common` and `organizations`. */
  issuerTenantId: string;
  /** `common`, `organizations` and `consumers` are not tenants: real metadata has no region for them. */
  isMultiTenantAuthority: boolean;
}

/** A request the emulator knows how to answer. */
export interface EntraRoute {
  kind: EntraEndpointKind;
  version: 1 | 2;
  tenant: ResolvedTenant;
  /** B2C routes only: the policy (user flow) named in the path, lower-cased as B2C compares them. */
  policy?: string;
}

/** What the documents need to know about the emulator that serves them. */
export interface DocumentContext {
  authorityHost: string;
  v1IssuerHost: string;
  /** v2 issuer with `{tenantid}` where the tenant goes (External ID has it twice). */
  v2IssuerTemplate: string;
  /** `msgraph_host`: where Microsoft Graph is, host and port (the emulator's own when it serves HTTPS). */
  graphHost: string;
}

/** One key of a B2C keys document: B2C writes `nbf` and neither `x5t` nor `issuer`. */
export interface B2cJsonWebKey {
  kid: string;
  nbf: number;
  use: 'sig';
  kty: 'RSA';
  e: string;
  n: string;
}

// A verified domain ends in an alphabetic top-level label; this also keeps `v2.0` from being read
// as a tenant.
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/i;
// B2C user flows are `B2C_1_…`, custom policies `B2C_1A_…`; the emulator serves any such name.
const POLICY = /^[a-z0-9_-][a-z0-9_.-]*$/i;

/**
 * A name B2C could give a policy (user flow or custom policy): one path segment.
 *
 * @internal
 */
export function isB2cPolicyName(name: unknown): name is string {
  return typeof name === 'string' && POLICY.test(name);
}

/**
 * The policy an `EntraEmulator` method was given, refused with that method's name when it is none.
 *
 * @internal
 */
export function requireB2cPolicyName(method: string, policy: unknown): string {
  if (!isB2cPolicyName(policy)) {
    throw new Error(`EntraEmulator.${method}: a policy name such as 'B2C_1_signupsignin' is required, got ${JSON.stringify(policy)}`);
  }
  return policy;
}

/**
 * Interprets a path's tenant. A verified domain is taken to be a name of the emulator's own tenant,
 * because there is no directory to look it up in; real Entra would answer with that tenant's GUID.
 */
export function resolveTenant(segment: string, homeTenantId: string): ResolvedTenant | undefined {
  const lower = segment.toLowerCase();
  if (lower === 'common' || lower === 'organizations') {
    return { pathSegment: lower, issuerTenantId: TENANT_ID_TEMPLATE, isMultiTenantAuthority: true };
  }
  if (lower === 'consumers') {
    return { pathSegment: lower, issuerTenantId: CONSUMERS_TENANT_ID, isMultiTenantAuthority: true };
  }
  if (isGuid(segment)) {
    return { pathSegment: lower, issuerTenantId: lower, isMultiTenantAuthority: false };
  }
  if (DOMAIN.test(segment)) {
    return { pathSegment: homeTenantId, issuerTenantId: homeTenantId, isMultiTenantAuthority: false };
  }
  return undefined;
}

/**
 * Matches B2C's two routes, `/{domain}/{policy}/v2.0/.well-known/openid-configuration` and
 * `/{domain}/{policy}/discovery/v2.0/keys`. They are one segment longer than the workforce routes
 * of a domain tenant, so neither kind can be mistaken for the other.
 */
function matchB2cRoute(segments: string[], homeTenantId: string, b2cDomain: string): EntraRoute | undefined {
  const [domain, policy, ...rest] = segments;
  if (domain?.toLowerCase() !== b2cDomain || !isB2cPolicyName(policy)) {
    return undefined;
  }
  const tenant: ResolvedTenant = { pathSegment: b2cDomain, issuerTenantId: homeTenantId, isMultiTenantAuthority: false };
  switch (rest.join('/')) {
    case 'v2.0/.well-known/openid-configuration':
      return { kind: 'metadata', version: 2, tenant, policy: policy.toLowerCase() };
    case 'discovery/v2.0/keys':
      return { kind: 'keys', version: 2, tenant, policy: policy.toLowerCase() };
    default:
      return undefined;
  }
}

/**
 * Matches the four Entra routes, and B2C's two when `b2cDomain` (lower case) is given;
 * `undefined` means the request is answered with 404.
 */
export function matchEntraRoute(
  method: string,
  pathname: string,
  homeTenantId: string,
  b2cDomain?: string,
): EntraRoute | undefined {
  if (method !== 'GET') {
    return undefined;
  }
  const segments = pathname.replace(/^\//, '').split('/');
  const b2c = b2cDomain === undefined ? undefined : matchB2cRoute(segments, homeTenantId, b2cDomain);
  if (b2c !== undefined) {
    return b2c;
  }
  const [tenantSegment, ...rest] = segments;
  const tenant = tenantSegment === undefined ? undefined : resolveTenant(tenantSegment, homeTenantId);
  if (tenant === undefined) {
    return undefined;
  }
  switch (rest.join('/')) {
    case 'v2.0/.well-known/openid-configuration':
      return { kind: 'metadata', version: 2, tenant };
    case '.well-known/openid-configuration':
      return { kind: 'metadata', version: 1, tenant };
    case 'discovery/v2.0/keys':
      return { kind: 'keys', version: 2, tenant };
    case 'discovery/keys':
      return { kind: 'keys', version: 1, tenant };
    default:
      return undefined;
  }
}

function withAppId(url: string, appId: string | undefined): string {
  return appId === undefined ? url : `${url}?appid=${encodeURIComponent(appId)}`;
}

// Shared by both metadata versions: these describe the cloud, not the protocol version.
function cloudFields(context: DocumentContext, tenant: ResolvedTenant): Record<string, unknown> {
  return {
    kerberos_endpoint: `${context.authorityHost}/${tenant.pathSegment}/kerberos`,
    tenant_region_scope: tenant.isMultiTenantAuthority ? null : 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: context.graphHost,
    rbac_url: 'https://pas.windows.net',
  };
}

const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'cloud_instance_name',
  'cloud_instance_host_name',
  'cloud_graph_host_name',
  'msgraph_host',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'acr',
  'nonce',
  'preferred_username',
  'name',
  'tid',
  'ver',
  'at_hash',
  'c_hash',
  'email',
];

const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_post', 'private_key_jwt', 'client_secret_basic'];

/** The v2 OpenID Provider metadata, field for field in the order Entra writes them. */
export function v2MetadataDocument(
  context: DocumentContext,
  tenant: ResolvedTenant,
  appId: string | undefined,
): Record<string, unknown> {
  const base = `${context.authorityHost}/${tenant.pathSegment}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    jwks_uri: withAppId(`${base}/discovery/v2.0/keys`, appId),
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: fillTenantTemplate(context.v2IssuerTemplate, tenant.issuerTenantId),
    request_uri_parameter_supported: false,
    // Entra points v2 clients at Microsoft Graph for userinfo; the emulator does not serve it.
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: CLAIMS_SUPPORTED,
    ...cloudFields(context, tenant),
  };
}

/** The v1 metadata: v1 issuer on `sts.windows.net`, `oauth2/authorize` and `oauth2/token` endpoints. */
export function v1MetadataDocument(
  context: DocumentContext,
  tenant: ResolvedTenant,
  appId: string | undefined,
): Record<string, unknown> {
  const base = `${context.authorityHost}/${tenant.pathSegment}`;
  return {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    jwks_uri: withAppId(`${base}/discovery/keys`, appId),
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: formatV1Issuer(context.v1IssuerHost, tenant.issuerTenantId),
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${base}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/logout`,
    claims_supported: CLAIMS_SUPPORTED,
    check_session_iframe: `${base}/oauth2/checksession`,
    userinfo_endpoint: `${base}/openid/userinfo`,
    ...cloudFields(context, tenant),
  };
}

/**
 * A key as a keys endpoint shows it: the fields a test gave it replace Entra's.
 *
 * @internal
 */
export interface PublishedKey {
  readonly key: EmulatorSigningKey;
  /** Shown in place of the endpoint's issuer, on v2 endpoints only. */
  readonly issuer?: string;
  readonly use?: string;
  readonly alg?: string;
}

/**
 * A `{ keys: [...] }` document. `issuer` is the endpoint's: given on v2 endpoints (where a key's
 * own issuer wins), undefined on v1 endpoints, which show no issuer at all.
 *
 * @internal
 */
export function keysDocument(keys: Iterable<PublishedKey>, issuer: string | undefined): { keys: EntraJsonWebKey[] } {
  return {
    keys: [...keys].map((published) => ({
      ...toEntraJwk(published.key, issuer === undefined ? undefined : (published.issuer ?? issuer)),
      ...(published.use === undefined ? {} : { use: published.use }),
      ...(published.alg === undefined ? {} : { alg: published.alg }),
    })),
  };
}

/**
 * The metadata of one B2C policy, in the order and shape B2C writes it: the issuer names the
 * tenant GUID and ends with a slash, every endpoint sits under the (lower-cased) policy.
 */
export function b2cMetadataDocument(context: DocumentContext, route: EntraRoute): Record<string, unknown> {
  const base = `${context.authorityHost}/${route.tenant.pathSegment}/${route.policy ?? ''}`;
  return {
    issuer: formatB2cIssuer(context.authorityHost, route.tenant.issuerTenantId),
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: ['code', 'code id_token', 'code token', 'code id_token token', 'id_token', 'id_token token', 'token', 'token id_token'],
    scopes_supported: ['openid'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['name', 'emails', 'oid', 'sub', 'idp', 'tfp', 'iss', 'iat', 'exp', 'aud', 'acr', 'nonce', 'auth_time'],
  };
}

/** A B2C `{ keys: [...] }` document: one policy's key, with the `nbf` B2C publishes. */
export function b2cKeysDocument(key: EmulatorSigningKey, notBefore: number): { keys: B2cJsonWebKey[] } {
  const { n, e } = toEntraJwk(key);
  return { keys: [{ kid: key.kid, nbf: notBefore, use: 'sig', kty: 'RSA', e, n }] };
}
