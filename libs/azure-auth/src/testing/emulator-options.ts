import { isGuid } from '../shared/guid.js';
import { hostnameOf, parseOrigin, parseRedirectUri } from './access-policy.js';
import { ENTRA_EMULATOR_DEFAULTS, TENANT_ID_TEMPLATE } from './emulator-defaults.js';
import { isB2cPolicyName } from './entra-documents.js';
import { randomBytes } from 'node:crypto';
import type { EmulatedDirectoryUser } from './graph.js';
import type { EmulatedSignInUser } from './sign-in.js';

/** How to start an {@link EntraEmulator}. Every option has a documented default. */
export interface EntraEmulatorOptions {
  /** The emulator's tenant (a GUID): `tid` of minted tokens and the tenant of its issuers. Default `ENTRA_EMULATOR_DEFAULTS.tenantId`. */
  tenantId?: string;
  /** The protected API's application (client) id: the default audience of minted tokens. Default `ENTRA_EMULATOR_DEFAULTS.clientId`. */
  clientId?: string;
  /** The calling application's id (`azp` in v2 tokens, `appid` in v1). Default `ENTRA_EMULATOR_DEFAULTS.clientAppId`. */
  clientAppId?: string;
  /** Interface to listen on. Default `'127.0.0.1'`: the emulator signs anything for anyone and must stay on loopback. */
  host?: string;
  /** Port to listen on; `0` picks a free one. Default `0`. */
  port?: number;
  /** Scheme and host of v1 issuers: v1 tokens say `{v1IssuerHost}/{tid}/`. Default `'https://sts.windows.net'`. */
  v1IssuerHost?: string;
  /**
   * The v2 issuer, with `{tenantid}` wherever the tenant id goes: the issuer of v2 metadata, the
   * `issuer` of v2 keys and the `iss` of minted v2 tokens all follow it. Default
   * `{authorityHost}/{tenantid}/v2.0` (a workforce tenant). For Microsoft Entra External ID (CIAM):
   * `'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0'`.
   */
  v2IssuerTemplate?: string;
  /**
   * Name of the emulated Azure AD B2C tenant: B2C routes live under `/{b2cTenantName}.onmicrosoft.com/{policy}/`.
   * Default `ENTRA_EMULATOR_DEFAULTS.b2cTenantName` (`'contoso'`).
   */
  b2cTenantName?: string;
  /**
   * The B2C policies (user flows) the emulated tenant publishes: their metadata and keys are
   * served, and any other policy's are answered 404, as B2C answers a policy that does not exist
   * (a typo in an API's `policies`, a policy not yet published). Default: every policy name.
   *
   * @example
   * EntraEmulator.start({ b2cPolicies: ['B2C_1_signupsignin'] }); // B2C_1_profile then answers 404
   */
  b2cPolicies?: string[];
  /**
   * The user the sign-in endpoints (`/{tenant}/oauth2/v2.0/authorize` and `/token`) sign in: there
   * is no sign-in page, every authorization request is granted at once to this user, whose tokens
   * carry these `roles` and this `oid`. Default: the default user (`ENTRA_EMULATOR_DEFAULTS.userObjectId`), no roles.
   */
  signInUser?: EmulatedSignInUser;
  /**
   * Application permissions granted to any client of the client credentials grant
   * (`grant_type=client_credentials`, scope `api://{clientId}/.default`): the `roles` of its
   * app-only tokens. Default `[]` (no `roles` claim, as Entra sends none when nothing is granted).
   */
  daemonRoles?: string[];
  /**
   * Application (client) ids, besides {@link clientAppId}, that the sign-in endpoints serve: the
   * authorization code flow and the client credentials grant refuse any other client, as Entra
   * refuses an application it has no registration of. Add the client id Swagger UI or a SPA
   * signs in with when it is not `clientAppId`. Default `[]`.
   *
   * @example
   * EntraEmulator.start({ signInClientIds: ['5d1e3f7a-9b2c-4d8e-a6f0-1c3b5d7e9f21'] });
   */
  signInClientIds?: string[];
  /**
   * Redirect URIs, besides loopback ones, that the authorize endpoint sends codes back to. A
   * loopback `http(s)://localhost`, `127.x.x.x` or `[::1]` URI is always accepted (any port, any
   * path); these are compared exactly, as Entra compares a registration's redirect URIs. A
   * request for any other URI gets a 400, never a redirect. Default `[]`.
   */
  redirectUris?: string[];
  /**
   * Browser origins (`scheme://host[:port]`), besides loopback ones, whose pages may read the
   * emulator's answers (CORS) and call its sign-in endpoints, for example Swagger UI served under
   * a host name of its own. The allowed `Origin` is reflected, never `*`. Default `[]`.
   */
  allowedOrigins?: string[];
  /**
   * Host names (no scheme or port; IPv6 in brackets), besides loopback ones and {@link host},
   * that requests may name in `Host`. Anything else is answered 421: a DNS name that points at
   * loopback is how a web page would reach the emulator by DNS rebinding. Default `[]`.
   */
  allowedHosts?: string[];
  /**
   * Serve HTTPS instead of HTTP, with a certificate authority made at start that nobody trusts
   * until told to: hand {@link EntraEmulator.certificateAuthority} to the process that calls
   * (`new https.Agent({ ca })` as the module's `httpAgent`, or a file named by
   * `NODE_EXTRA_CA_CERTS` for a child process). MSAL Node refuses `http://` authorities, so
   * downstream calls (on-behalf-of, client credentials of the API) need it. The metadata then
   * names the emulator as Microsoft Graph (`msgraph_host`). Default `false`.
   */
  https?: boolean;
  /**
   * The client secret of the API's own app registration ({@link clientId}): what the token
   * endpoint accepts from the API for on-behalf-of and client credentials. Default: a random
   * value per start, read from {@link EntraEmulator.clientSecret}.
   */
  clientSecret?: string;
  /** Lifetime, in seconds, of every token the token endpoint issues (all grants). Default `3600`, as Entra. */
  tokenLifetimeSeconds?: number;
  /**
   * Application permissions granted to the API itself on the downstream APIs it calls (Microsoft
   * Graph or another API): the `roles` of the tokens it gets with client credentials. Default `[]`.
   *
   * @example
   * EntraEmulator.start({ https: true, apiAppPermissions: ['User.Read.All'] });
   */
  apiAppPermissions?: string[];
  /**
   * Users of the emulated directory, as its Microsoft Graph (`/v1.0/me`, `getMemberObjects`,
   * `transitiveMemberOf`) shows them, by object id. A user not listed is shown from the claims of
   * the token Graph receives, with no groups. Default `[]`.
   */
  directoryUsers?: EmulatedDirectoryUser[];
}

/**
 * The options once validated, lists normalized; `v2IssuerTemplate` stays undefined until the port is known.
 *
 * @internal
 */
export type ResolvedEmulatorOptions = Required<Omit<EntraEmulatorOptions, 'v2IssuerTemplate' | 'b2cPolicies' | 'directoryUsers'>> & {
  directoryUsers: ReadonlyMap<string, EmulatedDirectoryUser>;
  v2IssuerTemplate: string | undefined;
  /** Lower case; `undefined`: every policy. */
  b2cPolicies: ReadonlySet<string> | undefined;
};

// A DNS label: the B2C tenant name becomes `{name}.onmicrosoft.com` and `{name}.b2clogin.com`.
const B2C_TENANT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function requireNonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`EntraEmulatorOptions.${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A list option, each entry in its normalized spelling (`undefined` from `normalize` refuses the entry). */
function requireList(name: string, value: unknown, what: string, normalize: (entry: string) => string | undefined): string[] {
  const refusal = () => new Error(`EntraEmulatorOptions.${name} must be an array of ${what}, got ${JSON.stringify(value)}`);
  if (!Array.isArray(value)) {
    throw refusal();
  }
  return value.map((entry: unknown) => {
    const normalized = typeof entry === 'string' && entry.trim() !== '' ? normalize(entry) : undefined;
    if (normalized === undefined) {
      throw refusal();
    }
    return normalized;
  });
}

function optionalList(name: string, value: unknown, what: string, normalize: (entry: string) => string | undefined): string[] {
  return value === undefined ? [] : requireList(name, value, what, normalize);
}

const asIs = (entry: string): string => entry;

function validateSignInUser(user: unknown): EmulatedSignInUser {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw new Error(`EntraEmulatorOptions.signInUser must be an object such as { roles: ['TaskAdmin'] }, got ${JSON.stringify(user)}`);
  }
  const { oid, roles } = user as EmulatedSignInUser;
  return Object.freeze({
    oid: oid === undefined ? undefined : requireNonEmptyString('signInUser.oid', oid),
    roles: roles === undefined ? undefined : requireList('signInUser.roles', roles, 'non-empty strings', asIs),
  });
}

function validateDirectoryUsers(users: unknown): ReadonlyMap<string, EmulatedDirectoryUser> {
  const byId = new Map<string, EmulatedDirectoryUser>();
  if (users === undefined) return byId;
  if (!Array.isArray(users)) {
    throw new Error(`EntraEmulatorOptions.directoryUsers must be an array of { oid, displayName?, … }, got ${JSON.stringify(users)}`);
  }
  for (const [index, user] of users.entries()) {
    const entry = user as EmulatedDirectoryUser;
    if (entry === null || typeof entry !== 'object' || !isGuid(entry.oid)) {
      throw new Error(`EntraEmulatorOptions.directoryUsers[${index}].oid must be an object id GUID, got ${JSON.stringify(entry?.oid)}`);
    }
    for (const field of ['displayName', 'userPrincipalName', 'mail'] as const) {
      if (entry[field] !== undefined) requireNonEmptyString(`directoryUsers[${index}].${field}`, entry[field]);
    }
    const groups = entry.groups === undefined ? undefined : requireList(`directoryUsers[${index}].groups`, entry.groups, 'group object id GUIDs', (id) => (isGuid(id) ? id.toLowerCase() : undefined));
    byId.set(entry.oid.toLowerCase(), Object.freeze({ ...entry, oid: entry.oid.toLowerCase(), groups }));
  }
  return byId;
}

/**
 * Validates every option once, before anything listens, with a message naming the wrong one.
 *
 * @internal
 */
export function resolveEmulatorOptions(options: EntraEmulatorOptions): ResolvedEmulatorOptions {
  const tenantId = requireNonEmptyString('tenantId', options.tenantId ?? ENTRA_EMULATOR_DEFAULTS.tenantId);
  if (!isGuid(tenantId)) {
    throw new Error(`EntraEmulatorOptions.tenantId must be a tenant GUID (issuers carry it), got "${tenantId}"`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`EntraEmulatorOptions.port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const v2IssuerTemplate = options.v2IssuerTemplate;
  if (v2IssuerTemplate !== undefined) {
    requireNonEmptyString('v2IssuerTemplate', v2IssuerTemplate);
    // Without the placeholder every tenant would share one issuer, which no Entra cloud does.
    if (!v2IssuerTemplate.includes(TENANT_ID_TEMPLATE)) {
      throw new Error(`EntraEmulatorOptions.v2IssuerTemplate must contain ${TENANT_ID_TEMPLATE}, got "${v2IssuerTemplate}"`);
    }
  }
  const b2cTenantName = options.b2cTenantName ?? ENTRA_EMULATOR_DEFAULTS.b2cTenantName;
  if (typeof b2cTenantName !== 'string' || !B2C_TENANT_NAME.test(b2cTenantName)) {
    throw new Error(`EntraEmulatorOptions.b2cTenantName must be a DNS label such as 'contoso', got ${JSON.stringify(b2cTenantName)}`);
  }
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds <= 0) {
    throw new Error(`EntraEmulatorOptions.tokenLifetimeSeconds must be a positive integer, got ${String(tokenLifetimeSeconds)}`);
  }
  return {
    tenantId: tenantId.toLowerCase(),
    clientId: requireNonEmptyString('clientId', options.clientId ?? ENTRA_EMULATOR_DEFAULTS.clientId),
    clientAppId: requireNonEmptyString('clientAppId', options.clientAppId ?? ENTRA_EMULATOR_DEFAULTS.clientAppId),
    host: requireNonEmptyString('host', options.host ?? ENTRA_EMULATOR_DEFAULTS.host),
    port,
    v1IssuerHost: requireNonEmptyString('v1IssuerHost', options.v1IssuerHost ?? ENTRA_EMULATOR_DEFAULTS.v1IssuerHost).replace(/\/+$/, ''),
    v2IssuerTemplate,
    b2cTenantName: b2cTenantName.toLowerCase(),
    b2cPolicies:
      options.b2cPolicies === undefined
        ? undefined
        : new Set(requireList('b2cPolicies', options.b2cPolicies, 'B2C policy names', (entry) => (isB2cPolicyName(entry) ? entry.toLowerCase() : undefined))),
    signInUser: options.signInUser === undefined ? {} : validateSignInUser(options.signInUser),
    daemonRoles: optionalList('daemonRoles', options.daemonRoles, 'non-empty strings', asIs),
    signInClientIds: optionalList('signInClientIds', options.signInClientIds, 'application (client) id GUIDs', (entry) =>
      isGuid(entry) ? entry.toLowerCase() : undefined,
    ),
    redirectUris: optionalList('redirectUris', options.redirectUris, 'absolute http(s) URLs without fragment', (entry) => parseRedirectUri(entry)?.href),
    allowedOrigins: optionalList('allowedOrigins', options.allowedOrigins, "origins such as 'https://docs.contoso.example'", (entry) => parseOrigin(entry)?.origin),
    allowedHosts: optionalList('allowedHosts', options.allowedHosts, "host names such as 'emulator.test' (no scheme or port)", (entry) =>
      hostnameOf(entry) === entry.toLowerCase() ? entry.toLowerCase() : undefined,
    ),
    https: options.https === true,
    clientSecret: requireNonEmptyString('clientSecret', options.clientSecret ?? randomBytes(30).toString('base64url')),
    tokenLifetimeSeconds,
    apiAppPermissions: optionalList('apiAppPermissions', options.apiAppPermissions, 'non-empty strings', asIs),
    directoryUsers: validateDirectoryUsers(options.directoryUsers),
  };
}
