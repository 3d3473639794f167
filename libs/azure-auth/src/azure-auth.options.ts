import type { Agent } from 'node:http';
import type { AzureAuthError } from './errors/azure-auth.error.js';
import type { AzureCaller } from './downstream/azure-caller.decorator.js';
import type { AzureAccessTokenClaims } from './token/claims.js';

/** Token versions Entra issues. The API's app registration (`requestedAccessTokenVersion`) decides which. */
export type AzureTokenVersion = '1.0' | '2.0';

/** Decides whether a tenant may call a multi-tenant API. Runs after the signature was verified. */
export type AzureTenantValidator = (tenantId: string, claims: Readonly<AzureAccessTokenClaims>) => boolean | Promise<boolean>;

/**
 * What {@link AzureAuthModuleOptions.onAuthFailure} receives: the reason, and some claims for an
 * audit log. Unless `claims.verified` is true, the claims come from a token that was refused and
 * may be forged: anyone can write anything there. They are cut to 256 characters and stripped of
 * control characters, but treat them as the caller's words, not as facts.
 */
export interface AzureAuthFailureEvent {
  readonly error: AzureAuthError;
  /** Present only when the token could be decoded; never the token or its signature. */
  readonly claims?: {
    /** True when the token verified and a permission or caller policy refused it (403); false for claims of a refused token. */
    readonly verified: boolean;
    readonly tid?: string;
    readonly oid?: string;
    readonly clientId?: string;
    readonly aud?: unknown;
    readonly iss?: string;
    readonly ver?: string;
  };
}

/**
 * The credential of the API's own app registration, with which it asks Entra for tokens to call
 * other APIs (on behalf of its caller, or as itself): exactly one of a client secret, a
 * certificate, or a client assertion (workload identity). Checked at start; never logged.
 */
export type AzureClientCredential =
  | {
      /** The secret's Value (not its Secret ID), from "Certificates & secrets" of the API's registration. */
      readonly clientSecret: string;
    }
  | {
      /** A certificate uploaded to "Certificates & secrets" of the API's registration. */
      readonly certificate: AzureClientCertificate;
    }
  | {
      /** Returns a client assertion for each token request; for workload identity, the federated token (see {@link AzureClientAssertionCallback}). */
      readonly clientAssertion: AzureClientAssertionCallback;
    };

/** A certificate credential: its RSA private key, and the certificate or its SHA-256 thumbprint. */
export interface AzureClientCertificate {
  /**
   * The certificate's RSA private key, PEM (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`,
   * unencrypted). A PEM file holding the certificate as well (as `AZURE_CLIENT_CERTIFICATE_PATH`
   * names one) can be given whole, here and as `certificate`.
   */
  readonly privateKey: string;
  /**
   * The certificate, PEM. Its SHA-256 thumbprint is computed from it and it is sent along
   * (`x5c`, for subject name and issuer authentication); its key must be `privateKey`'s.
   * Give it or `thumbprintSha256`.
   */
  readonly certificate?: string;
  /** SHA-256 thumbprint of the certificate, 64 hex digits (`openssl x509 -noout -fingerprint -sha256`). Give it or `certificate`. */
  readonly thumbprintSha256?: string;
}

/**
 * Returns a client assertion (a JWT) for a token request of the API. For workload identity
 * (Azure Kubernetes Service, GitHub Actions…), return the content of the file
 * `AZURE_FEDERATED_TOKEN_FILE` names, read on every call: the platform replaces it before it expires.
 */
export type AzureClientAssertionCallback = (context: { readonly clientId: string; readonly tokenEndpoint: string }) => string | Promise<string>;

/** Options of `AzureAuthModule.forRoot()` / `forRootAsync()`. */
export interface AzureAuthModuleOptions {
  /**
   * Directory (tenant) id: a GUID or a verified domain; or `common` / `organizations` / `consumers`
   * for a multi-tenant API (then `allowedTenants`, `tenantValidator` or `allowAnyTenant` is required).
   * Required unless `authority` (or `authorities`) is given.
   */
  tenantId?: string;
  /** Application (client) id of this API's app registration, a GUID. Required (per authority when `authorities` is used). */
  clientId?: string;
  /**
   * The whole authority URL, for tenants whose metadata does not live at
   * `{authorityHost}/{tenantId}`: Azure AD B2C
   * (`https://contoso.b2clogin.com/contoso.onmicrosoft.com/{policy}/v2.0`, with `policies`),
   * External ID (`https://contoso.ciamlogin.com/{tenantId}/v2.0`) or a custom domain. Metadata is
   * read from `{authority}/.well-known/openid-configuration`. Replaces `tenantId` + `authorityHost`.
   */
  authority?: string;
  /**
   * B2C user flows / custom policies accepted (e.g. `['B2C_1_signupsignin', 'B2C_1_profile']`).
   * Each has its own metadata and keys; a token's `tfp` (or `acr`) picks its policy. `authority`
   * then holds `{policy}` where the policy name goes, or ends before it.
   */
  policies?: string[];
  /**
   * Several authorities in one API (e.g. the workforce tenant and a B2C tenant). Each entry is a
   * complete configuration; the other options here are defaults for every entry. A token is routed
   * by its (unverified) `iss` to exactly one entry and verified only with that entry's keys and rules.
   * The module-wide options (`maxTokenBytes`, `realm`, `tokenCache`, `onAuthFailure`) are set here,
   * not in an entry: they apply before a token is routed (`realm` defaults to the first entry's).
   */
  authorities?: AzureAuthorityOptions[];
  /**
   * Audiences (`aud`) accepted. Default: the client id (v2 tokens), `api://{clientId}` and
   * `spn:{clientId}` (v1 tokens, for a resource requested by its App ID URI or by its service
   * principal name). Set it when the API exposes a custom App ID URI; it replaces the defaults, so
   * list every form the API's clients request.
   */
  audience?: string | string[];
  /**
   * Authority host. Default `https://login.microsoftonline.com`. US Government:
   * `https://login.microsoftonline.us`; China: `https://login.partner.microsoftonline.cn`.
   * `http://` is refused unless the host is loopback (the local emulator).
   */
  authorityHost?: string;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. Default 300 (as Microsoft's own validators). */
  clockToleranceSeconds?: number;
  /** Token versions accepted. Default both `['1.0', '2.0']`. */
  acceptedTokenVersions?: AzureTokenVersion[];
  /** Multi-tenant: tenant ids (GUIDs) trusted. */
  allowedTenants?: string[];
  /** Multi-tenant: decides per tenant, after the signature was verified. */
  tenantValidator?: AzureTenantValidator;
  /** Multi-tenant: trust every Entra tenant. Logged as a warning at start. Default false. */
  allowAnyTenant?: boolean;
  /** Client applications (`azp` / `appid`) allowed to call; others get 403 `client_not_allowed`. Default: any. */
  allowedClientApps?: string[];
  /**
   * Accept valid tokens that carry neither `scp` nor `roles` (for APIs that authorize by their own
   * ACLs). Default false: such tokens are refused with 403 `no_permissions`.
   */
  allowTokensWithoutPermissions?: boolean;
  /** Accept delegated tokens of guest users (`acct` 1, or `idp` not the issuer). Default true, as Entra itself. */
  allowGuestUsers?: boolean;
  /** Look for keys under `?appid={clientId}` (apps with claims mapping or SAML SSO sign with their own keys). Default false. */
  appSpecificSigningKeys?: boolean;
  /** Accept a token whose `aud` is an array (each entry must then be accepted). Default false. */
  allowMultipleAudiences?: boolean;
  /**
   * Largest token accepted, in bytes; larger ones are refused before parsing. Default 16384. Node
   * refuses request headers above 16 KiB on its own (431, before any guard runs): to accept larger
   * tokens, raise the server's limit too (`--max-http-header-size`, or `maxHeaderSize` of the HTTP
   * server; Fastify: `http: { maxHeaderSize }`).
   */
  maxTokenBytes?: number;
  /** `realm` of the `WWW-Authenticate` challenge. Default `api://{clientId}`. */
  realm?: string;
  /** Timeout of each metadata or key fetch, in milliseconds. Default 5000. */
  httpTimeoutMs?: number;
  /** Lifetime of the cached key set before a background refresh, in seconds. Default 86400 (24 h). */
  keysMaxAgeSeconds?: number;
  /** Interval of the background metadata refresh, in seconds. Default 43200 (12 h). */
  metadataRefreshSeconds?: number;
  /**
   * An unknown `kid` triggers at most one key refresh per this many seconds (per key set, shared
   * by concurrent requests; other unknown kids meanwhile are refused without a fetch). Default 30:
   * a key Entra rotated in is found within half a minute, and a flood of made-up kids costs at
   * most two fetches a minute.
   */
  unknownKeyRefreshIntervalSeconds?: number;
  /**
   * Agent for metadata and key fetches (e.g. a proxy agent). Default: none, or a proxy agent when
   * `HTTPS_PROXY` / `HTTP_PROXY` is set and `NO_PROXY` does not exclude the authority.
   */
  httpAgent?: Agent;
  /** Fetch metadata and keys at start, without delaying it. Default true. */
  warmUp?: boolean;
  /**
   * Cache of verified tokens: a token seen before skips the RSA check until it expires (lifetime
   * is still checked on every hit). `false` turns it off. Default `{ maxEntries: 10000 }`.
   */
  tokenCache?: false | { maxEntries?: number };
  /** Called on every refusal with the reason and some claims (see {@link AzureAuthFailureEvent}), for audit logs or metrics. */
  onAuthFailure?: (event: AzureAuthFailureEvent) => void;
  /**
   * Name under which the passport strategy is registered with passport (`AuthGuard(name)`).
   * Passport's names are global to the process: two apps (or two module instances) in one process
   * need names of their own. Default `'azure-ad'`.
   */
  strategyName?: string;
  /**
   * The credential of this API's own app registration, needed only to call other APIs through
   * `AzureDownstreamApi` (on behalf of the caller, or as the API itself). Setting it loads the
   * optional peer `@azure/msal-node` at start. Needs an `https://` authority (MSAL Node refuses
   * `http://`; the emulator serves HTTPS with `https: true`) of a workforce tenant (`tenantId`).
   *
   * @example
   * clientCredential: { clientSecret: process.env.AZURE_CLIENT_SECRET! }
   * clientCredential: { certificate: { privateKey: pem, certificate: pem } }
   * clientCredential: { clientAssertion: () => readFile(process.env.AZURE_FEDERATED_TOKEN_FILE!, 'utf8') }
   */
  clientCredential?: AzureClientCredential;
  /**
   * The cache of downstream tokens obtained on behalf of callers: one partition per incoming token
   * (by its SHA-256 digest, never the token itself), shared by the requests that carry that token
   * and by no one else, kept until that token expires. At most `maxPartitions` (the least
   * recently used go first). Default `{ maxPartitions: 1000 }`.
   */
  downstreamTokenCache?: { maxPartitions?: number };
  /**
   * How a `@Groups` route judges a user whose token has a groups overage (too many groups for
   * the token: `_claim_names.groups` or `hasgroups` instead of `groups`). The endpoint such a token
   * names is never called. Default: ask Microsoft Graph on behalf of the caller when the caller's
   * authority has a `clientCredential`, otherwise refuse (403 `groups_overage`). `false` always refuses.
   */
  groupsOverage?: false | AzureGroupsOverageOptions;
}

/**
 * Looks up the object ids of the groups a caller is a member of, for `groupsOverage.resolve`: the
 * app's own source instead of Microsoft Graph (a directory cache, a database). A user's answer is
 * cached as Graph's is. Throwing, or returning anything but an array of strings, answers 503
 * `groups_unavailable`.
 */
export type AzureGroupsResolver = (caller: AzureCaller) => readonly string[] | Promise<readonly string[]>;

/** {@link AzureAuthModuleOptions.groupsOverage}. */
export interface AzureGroupsOverageOptions {
  /**
   * Where the groups of an overage token's user come from:
   * - `'on-behalf-of'` (default): Microsoft Graph `POST /v1.0/me/getMemberObjects`, with a token
   *   obtained on behalf of the caller; needs the delegated permission `User.Read` (which every
   *   registration starts with) and `clientCredential`;
   * - `'app'`: Microsoft Graph `POST /v1.0/users/{oid}/getMemberObjects` as the API itself; needs
   *   the application permissions `User.ReadBasic.All` and `GroupMember.Read.All` (admin consent)
   *   and `clientCredential`;
   * - a function ({@link AzureGroupsResolver}): the app's own lookup.
   *
   * Graph is asked for the caller's security groups (`securityEnabledOnly: true`), direct and
   * transitive, as the `groups` claim lists them when it is set to "Security groups". An
   * application's token (app-only) is resolved only by a function.
   */
  resolve?: 'on-behalf-of' | 'app' | AzureGroupsResolver;
  /** Seconds a user's resolved groups are kept (per tenant and user). Default 3600. */
  cacheSeconds?: number;
  /** Users whose groups are kept at most; the least recently used go first. Default 10000. */
  maxCachedUsers?: number;
}

/** Options that apply to the whole module, before a token is routed to an authority. */
export const MODULE_WIDE_OPTIONS = ['maxTokenBytes', 'realm', 'tokenCache', 'onAuthFailure', 'strategyName', 'downstreamTokenCache', 'groupsOverage'] as const;

/** One entry of {@link AzureAuthModuleOptions.authorities}: an authority's own settings. */
export type AzureAuthorityOptions = Omit<AzureAuthModuleOptions, 'authorities' | (typeof MODULE_WIDE_OPTIONS)[number]>;
