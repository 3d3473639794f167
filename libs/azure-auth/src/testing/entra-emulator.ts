import { isGuid } from '../shared/guid.js';
import type { KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildAccessToken, type MintOptions } from './access-token.js';
import {
  ENTRA_EMULATOR_DEFAULTS,
  TENANT_ID_TEMPLATE,
  fillTenantTemplate,
  formatB2cIssuer,
  formatV1Issuer,
  formatV2Issuer,
} from './emulator-defaults.js';
import {
  b2cKeysDocument,
  b2cMetadataDocument,
  keysDocument,
  matchEntraRoute,
  v1MetadataDocument,
  v2MetadataDocument,
  type DocumentContext,
  type EntraEndpointKind,
  type EntraRoute,
} from './entra-documents.js';
import { signRs256, type JwtSegment } from './jwt.js';
import { SignInService, matchSignInRoute, type EmulatedSignInUser, type SignInAnswer, type SignInRoute } from './sign-in.js';
import {
  generateSigningKey,
  generateSigningKeyAsync,
  keyIdOf,
  toEntraJwk,
  type EmulatorSigningKey,
} from './signing-keys.js';

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
}

/** A failure to inject into the emulator's answers, to test how an API survives Entra being unwell. */
export interface EmulatorFault {
  /** Answer with this HTTP status (for example `500` or `503`) and a JSON error body instead of the document. */
  status?: number;
  /** Wait this many milliseconds before answering (or failing), to exercise the caller's timeouts. */
  delayMs?: number;
  /** Destroy the connection without answering, as a reset would: `fetch` rejects. */
  destroy?: boolean;
}

/** Which routes a fault applies to: `all` means both metadata and keys. */
export type EmulatorFaultTarget = EntraEndpointKind | 'all';

/**
 * What a request was for: Entra metadata, a keys document, the sign-in endpoints (`signin`:
 * `oauth2/v2.0/authorize` and `oauth2/v2.0/token`, preflights included), or anything else (answered 404).
 */
export type EmulatorRequestKind = EntraEndpointKind | 'signin' | 'other';

/** One request the emulator received, recorded before any fault applied to it. */
export interface EmulatorRequest {
  /** HTTP method. */
  readonly method: string;
  /** The request target as sent: path and query (so `?appid=` is visible). */
  readonly path: string;
  /** What the request was for. */
  readonly kind: EmulatorRequestKind;
  /** When it arrived (`Date.now()`). */
  readonly at: number;
}

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

/** A B2C policy's signing key and the moment it appeared (B2C publishes it as `nbf`). */
interface PolicyKey {
  readonly key: EmulatorSigningKey;
  readonly notBefore: number;
}

// A DNS label: the B2C tenant name becomes `{name}.onmicrosoft.com` and `{name}.b2clogin.com`.
const B2C_TENANT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const POLICY_NAME = /^[a-z0-9_-][a-z0-9_.-]*$/i;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
// Entra's own caching instruction for metadata and keys; validators that honour it must still
// refresh on an unknown `kid`, which is what the rotation helpers let tests check.
const DOCUMENT_CACHE_CONTROL = 'max-age=86400, private';
// Token requests are small forms; a larger body is a test gone wrong, not something to buffer.
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

function requireNonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`EntraEmulatorOptions.${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function requireStringArray(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string' || entry.trim() === '')) {
    throw new Error(`EntraEmulatorOptions.${name} must be an array of non-empty strings, got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])];
}

function validateSignInUser(user: unknown): EmulatedSignInUser {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw new Error(`EntraEmulatorOptions.signInUser must be an object such as { roles: ['TaskAdmin'] }, got ${JSON.stringify(user)}`);
  }
  const { oid, roles } = user as EmulatedSignInUser;
  return Object.freeze({
    oid: oid === undefined ? undefined : requireNonEmptyString('signInUser.oid', oid),
    roles: roles === undefined ? undefined : requireStringArray('signInUser.roles', roles),
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function appIdQuery(appId: string | undefined): string {
  return appId === undefined ? '' : `?appid=${encodeURIComponent(appId)}`;
}

function requirePolicyName(method: string, policy: unknown): string {
  if (typeof policy !== 'string' || !POLICY_NAME.test(policy)) {
    throw new Error(`EntraEmulator.${method}: a policy name such as 'B2C_1_signupsignin' is required, got ${JSON.stringify(policy)}`);
  }
  return policy;
}

function validateFault(fault: EmulatorFault): EmulatorFault {
  const { status, delayMs, destroy } = fault;
  if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new Error(`EmulatorFault.status must be an HTTP status code, got ${String(status)}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new Error(`EmulatorFault.delayMs must be a number of milliseconds >= 0, got ${String(delayMs)}`);
  }
  return Object.freeze({ status, delayMs, destroy });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A local stand-in for Microsoft Entra ID: a loopback HTTP server with Entra's metadata and keys
 * endpoints (v1 and v2, `?appid=` included), the v2 sign-in endpoints (authorization code flow
 * with PKCE, signing a fixed user in without any page, and client credentials), and an in-process
 * minter of RS256 access tokens that those keys verify. It lets an API be tested, or run in dev
 * mode with a working Swagger UI, without an Azure tenant, and it can rotate keys, mint hostile
 * tokens, count fetches and inject failures.
 *
 * It signs whatever it is asked to: never expose it beyond loopback, never trust it in production.
 *
 * @example
 * import { EntraEmulator } from 'nestjs-azure-auth/testing';
 *
 * const entra = await EntraEmulator.start();
 * // configure the API with:
 * //   authorityHost: entra.authorityHost, tenantId: entra.tenantId, clientId: entra.clientId
 * const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
 * await request(app.getHttpServer()).get('/todolist').auth(token, { type: 'bearer' }).expect(200);
 *
 * // Azure AD B2C: configure authority: entra.b2cAuthority(), policies: ['B2C_1_signupsignin']
 * const b2cToken = entra.mintAccessToken({ b2cPolicy: 'B2C_1_signupsignin', scopes: ['demo.read'] });
 *
 * entra.rotateKeys();                            // Entra rotates without notice
 * entra.setFault('keys', { status: 503 });       // ...or is unwell
 * expect(entra.requestCount('keys')).toBe(2);
 * await entra.stop();
 */
export class EntraEmulator {
  /** Base URL of the emulator, in place of `https://login.microsoftonline.com` (no trailing slash). */
  readonly authorityHost: string;
  /** The emulator's tenant id (lower-case GUID). */
  readonly tenantId: string;
  /** The protected API's application (client) id. */
  readonly clientId: string;
  /** The default calling application (SPA or daemon): `azp` / `appid` of minted tokens. */
  readonly clientAppId: string;
  /** The v2 issuer template (`{tenantid}` where the tenant goes), resolved against {@link authorityHost}. */
  readonly v2IssuerTemplate: string;
  /** Domain of the emulated B2C tenant, `{b2cTenantName}.onmicrosoft.com` (lower case). */
  readonly b2cDomain: string;

  private readonly v1IssuerHost: string;
  private readonly server: Server;
  private signingKey: EmulatorSigningKey;
  /** The tenant-wide key set, in publication order. */
  private readonly publishedKeys = new Map<string, EmulatorSigningKey>();
  /** Every key ever made, published or not, so that `sign({ kid })` can reach any of them. */
  private readonly knownKeys = new Map<string, EmulatorSigningKey>();
  /** App-specific keys by lower-case application id. */
  private readonly appKeys = new Map<string, EmulatorSigningKey>();
  /** B2C policy keys by lower-case policy name: B2C compares policy names without case. */
  private readonly policyKeys = new Map<string, PolicyKey>();
  /** `issuer` overrides for tenant-wide keys published by {@link addKey}. */
  private readonly keyIssuers = new Map<string, string>();
  /** `use` / `alg` overrides for tenant-wide keys published by {@link addKey}. */
  private readonly keyFields = new Map<string, Pick<AddKeyOptions, 'use' | 'alg'>>();
  private readonly log: EmulatorRequest[] = [];
  private readonly faults: Record<EntraEndpointKind, EmulatorFault | null> = { metadata: null, keys: null };
  private readonly delayedAnswers = new Set<NodeJS.Timeout>();
  private readonly signIn: SignInService;
  private stopped: Promise<void> | undefined;

  private constructor(server: Server, options: ResolvedEmulatorOptions, signingKey: EmulatorSigningKey) {
    const { port } = server.address() as AddressInfo;
    this.server = server;
    this.authorityHost = `http://${urlHost(options.host)}:${port}`;
    this.tenantId = options.tenantId;
    this.clientId = options.clientId;
    this.clientAppId = options.clientAppId;
    this.v1IssuerHost = options.v1IssuerHost;
    this.v2IssuerTemplate = options.v2IssuerTemplate ?? formatV2Issuer(this.authorityHost, TENANT_ID_TEMPLATE);
    this.b2cDomain = `${options.b2cTenantName}.onmicrosoft.com`;
    this.signingKey = signingKey;
    this.remember(signingKey);
    this.publishedKeys.set(signingKey.kid, signingKey);
    this.signIn = new SignInService({
      clientId: this.clientId,
      homeTenantId: this.tenantId,
      user: options.signInUser,
      daemonRoles: options.daemonRoles,
      mint: (mintOptions) => this.mintAccessToken(mintOptions),
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.handle(request, response));
  }

  /** Generates the first signing key and starts listening; resolves once the port is bound. */
  static async start(options: EntraEmulatorOptions = {}): Promise<EntraEmulator> {
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
    const resolved: ResolvedEmulatorOptions = {
      tenantId: tenantId.toLowerCase(),
      clientId: requireNonEmptyString('clientId', options.clientId ?? ENTRA_EMULATOR_DEFAULTS.clientId),
      clientAppId: requireNonEmptyString('clientAppId', options.clientAppId ?? ENTRA_EMULATOR_DEFAULTS.clientAppId),
      host: requireNonEmptyString('host', options.host ?? ENTRA_EMULATOR_DEFAULTS.host),
      port,
      v1IssuerHost: requireNonEmptyString('v1IssuerHost', options.v1IssuerHost ?? ENTRA_EMULATOR_DEFAULTS.v1IssuerHost).replace(
        /\/+$/,
        '',
      ),
      v2IssuerTemplate,
      b2cTenantName: b2cTenantName.toLowerCase(),
      signInUser: options.signInUser === undefined ? {} : validateSignInUser(options.signInUser),
      daemonRoles: options.daemonRoles === undefined ? [] : requireStringArray('daemonRoles', options.daemonRoles),
    };
    const signingKey = await generateSigningKeyAsync();
    const server = createServer();
    await listen(server, resolved.port, resolved.host);
    return new EntraEmulator(server, resolved, signingKey);
  }

  /**
   * Stops listening and destroys every open connection, keep-alive ones included, so that a test
   * run can exit. Safe to call more than once; minting keeps working afterwards.
   */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.delayedAnswers) {
        clearTimeout(timer);
      }
      this.delayedAnswers.clear();
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.stopped;
  }

  /** The v2 issuer of a tenant: {@link v2IssuerTemplate} filled with it (by default `{authorityHost}/{tenantId}/v2.0`). */
  v2Issuer(tenantId: string = this.tenantId): string {
    return fillTenantTemplate(this.v2IssuerTemplate, tenantId);
  }

  /**
   * The B2C authority of a policy, `{authorityHost}/{b2cDomain}/{policy}/v2.0`, as an API
   * configures it. Without a policy the literal `{policy}` stays in, for an API that accepts
   * several policies (`authority` + `policies`).
   */
  b2cAuthority(policy?: string): string {
    const segment = policy === undefined ? '{policy}' : requirePolicyName('b2cAuthority', policy);
    return `${this.authorityHost}/${this.b2cDomain}/${segment}/v2.0`;
  }

  /** The issuer of B2C tokens and metadata: `{authorityHost}/{tenantId}/v2.0/`, with B2C's trailing slash. */
  b2cIssuer(tenantId: string = this.tenantId): string {
    return formatB2cIssuer(this.authorityHost, tenantId);
  }

  /** The v1 issuer of a tenant: `{v1IssuerHost}/{tenantId}/`. */
  v1Issuer(tenantId: string = this.tenantId): string {
    return formatV1Issuer(this.v1IssuerHost, tenantId);
  }

  /** URL of the v2 metadata of `tenant` (a GUID, domain, `common`, `organizations` or `consumers`), with `?appid=` when `appId` is given. */
  v2MetadataUrl(tenant: string = this.tenantId, appId?: string): string {
    return `${this.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration${appIdQuery(appId)}`;
  }

  /** URL of the v1 metadata of `tenant`, with `?appid=` when `appId` is given. */
  v1MetadataUrl(tenant: string = this.tenantId, appId?: string): string {
    return `${this.authorityHost}/${tenant}/.well-known/openid-configuration${appIdQuery(appId)}`;
  }

  /**
   * `{authorityHost}/{tenant}/oauth2/v2.0/authorize`, as the v2 metadata names it. The emulator
   * answers the authorization code flow there without any page: it signs in
   * {@link EntraEmulatorOptions.signInUser} at once and redirects back with a code. It requires
   * what a careful client sends anyway: `response_type=code`, a client id GUID, an http(s)
   * `redirect_uri`, scopes of its API (`api://{clientId}/{scope}`), PKCE with S256, and `state`.
   *
   * @example
   * // Swagger UI, a SPA or a Playwright test signs in through it like through Entra:
   * setupAzureAuthSwagger(app, { swaggerClientId: entra.clientAppId }); // authorityHost from the module
   */
  authorizationEndpoint(tenant: string = this.tenantId): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/authorize`;
  }

  /**
   * `{authorityHost}/{tenant}/oauth2/v2.0/token`: redeems the authorization codes of
   * {@link authorizationEndpoint} (single use, ten minutes, PKCE verifier checked) for a v2 user
   * token of this emulator's API, and answers the client credentials grant (scope
   * `api://{clientId}/.default`, any client secret) with an app-only token carrying
   * {@link EntraEmulatorOptions.daemonRoles}. Browsers may call it cross-origin, as Entra allows SPAs to.
   *
   * @example
   * const answer = await fetch(entra.tokenEndpoint(), {
   *   method: 'POST',
   *   body: new URLSearchParams({ grant_type: 'client_credentials', client_id: entra.clientAppId, client_secret: 'any', scope: `api://${entra.clientId}/.default` }),
   * });
   * const { access_token } = await answer.json();
   */
  tokenEndpoint(tenant: string = this.tenantId): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/token`;
  }

  // ----- keys -----

  /** `kid` of the key that signs minted tokens by default. */
  get signingKid(): string {
    return this.signingKey.kid;
  }

  /** `kid`s of the tenant-wide key set, as the keys endpoints publish them (app-specific keys excluded). */
  publishedKids(): string[] {
    return [...this.publishedKeys.keys()];
  }

  /**
   * Makes a new key, publishes it and signs with it from now on, as Entra does without notice.
   *
   * @param options.keepPrevious keep publishing the previous signing key, so tokens it signed stay
   *   verifiable (default `true`); `false` unpublishes it at once.
   * @returns the new `kid`.
   */
  rotateKeys(options: { keepPrevious?: boolean } = {}): string {
    const previous = this.signingKey;
    const next = generateSigningKey();
    this.remember(next);
    this.publishedKeys.set(next.kid, next);
    if (options.keepPrevious === false) {
      this.publishedKeys.delete(previous.kid);
    }
    this.signingKey = next;
    return next.kid;
  }

  /**
   * Stops publishing a key (tenant-wide or app-specific). Removing the current signing key does
   * not stop it signing: that is how a test gets a token whose `kid` the JWKS no longer lists.
   */
  removeKey(kid: string): void {
    if (this.publishedKeys.delete(kid)) {
      this.keyIssuers.delete(kid);
      this.keyFields.delete(kid);
      return;
    }
    for (const [appId, key] of this.appKeys) {
      if (key.kid === kid) {
        this.appKeys.delete(appId);
        return;
      }
    }
    throw new Error(`EntraEmulator.removeKey: no published key has kid "${kid}"`);
  }

  /** A key the keys endpoints never show, for tests of tokens with an unknown `kid`. */
  createUnpublishedKey(): UnpublishedSigningKey {
    const key = generateSigningKey();
    this.remember(key);
    return { kid: key.kid, privateKey: key.privateKey, publicKey: key.publicKey };
  }

  /**
   * Publishes one more tenant-wide key without signing with it by default. With `issuer`, the v2
   * keys endpoints show that issuer for it instead of the emulator's: a key of another tenant or
   * cloud, which an API must not accept for this tenant's tokens (v1 endpoints show no issuer).
   *
   * @example
   * const foreign = entra.addKey({ issuer: 'https://login.microsoftonline.us/{tenantid}/v2.0' });
   * entra.mintAccessToken({ privateKey: foreign.privateKey }); // 401 signing_key_issuer_mismatch
   */
  addKey(options: AddKeyOptions = {}): EmulatorKeyPair {
    if (options.issuer !== undefined && (typeof options.issuer !== 'string' || options.issuer.trim() === '')) {
      throw new Error(`EntraEmulator.addKey: issuer must be a non-empty string, got ${JSON.stringify(options.issuer)}`);
    }
    const key = generateSigningKey();
    this.remember(key);
    this.publishedKeys.set(key.kid, key);
    if (options.issuer !== undefined) {
      this.keyIssuers.set(key.kid, options.issuer);
    }
    if (options.use !== undefined || options.alg !== undefined) {
      this.keyFields.set(key.kid, { ...(options.use === undefined ? {} : { use: options.use }), ...(options.alg === undefined ? {} : { alg: options.alg }) });
    }
    return { kid: key.kid, privateKey: key.privateKey, publicKey: key.publicKey };
  }

  /**
   * The `kid` of a B2C policy's own signing key, created on first use (by this call, a mint, or a
   * fetch of that policy's keys). Policy names are compared without case, as B2C does.
   */
  b2cPolicyKid(policy: string): string {
    return this.policyKey(requirePolicyName('b2cPolicyKid', policy)).key.kid;
  }

  /**
   * The `kid` of an application's own signing key (what Entra uses for apps with claims mapping),
   * created on first use. It is served only under `?appid={appId}`, and from then on that query
   * serves only this key; before it exists the query serves the tenant-wide keys, as Entra does
   * for apps without their own key.
   */
  appSpecificKid(appId: string): string {
    return this.appKey(appId).kid;
  }

  // ----- tokens -----

  /**
   * Mints a signed access token. With no options: a v2 delegated token of the default user, for
   * this emulator's API, signed by the current signing key. Key precedence: `privateKey`, then
   * `appId`, then the `b2cPolicy` key, then the signing key.
   *
   * @example
   * entra.mintAccessToken({ scopes: ['Todolist.Read'] });
   * entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'], version: 1 });
   * entra.mintAccessToken({ expiresInSeconds: -600 }); // expired ten minutes ago
   * entra.mintAccessToken({ b2cPolicy: 'B2C_1_signupsignin', scopes: ['demo.read'] }); // B2C
   */
  mintAccessToken(options: MintOptions = {}): string {
    const key =
      options.privateKey !== undefined
        ? { kid: keyIdOf(options.privateKey), privateKey: options.privateKey }
        : options.appId !== undefined
          ? this.appKey(options.appId)
          : options.b2cPolicy !== undefined
            ? this.policyKey(requirePolicyName('mintAccessToken', options.b2cPolicy)).key
            : this.signingKey;
    const { header, payload } = buildAccessToken(options, {
      tenantId: this.tenantId,
      clientId: this.clientId,
      clientAppId: this.clientAppId,
      kid: key.kid,
      v1Issuer: (tenantId) => this.v1Issuer(tenantId),
      v2Issuer: (tenantId) => this.v2Issuer(tenantId),
      b2cIssuer: (tenantId) => this.b2cIssuer(tenantId),
    });
    return signRs256(header, payload, key.privateKey);
  }

  /**
   * Low level: signs the given header and payload exactly as given (objects are JSON-encoded,
   * strings are used verbatim) with RS256, whatever the header claims. For hostile-token tests.
   *
   * @param options.privateKey sign with this key.
   * @param options.kid sign with the emulator's key of this `kid` (published, rotated out,
   *   app-specific, B2C policy or unpublished); it does not touch the header.
   * Default: the current signing key.
   */
  sign(
    header: Record<string, unknown> | string,
    payload: Record<string, unknown> | string,
    options: { privateKey?: KeyObject; kid?: string } = {},
  ): string {
    let privateKey = options.privateKey;
    if (privateKey === undefined && options.kid !== undefined) {
      privateKey = this.knownKeys.get(options.kid)?.privateKey;
      if (privateKey === undefined) {
        throw new Error(`EntraEmulator.sign: the emulator has no key with kid "${options.kid}"`);
      }
    }
    return signRs256(header as JwtSegment, payload as JwtSegment, privateKey ?? this.signingKey.privateKey);
  }

  // ----- observability and faults -----

  /** Every request received since start or the last {@link resetRequests}, oldest first (a snapshot). */
  get requests(): ReadonlyArray<EmulatorRequest> {
    return [...this.log];
  }

  /** How many requests of a kind were received (all requests when `kind` is omitted), faulted ones included. */
  requestCount(kind?: EmulatorRequestKind): number {
    return kind === undefined ? this.log.length : this.log.filter((entry) => entry.kind === kind).length;
  }

  /** Forgets the recorded requests. */
  resetRequests(): void {
    this.log.length = 0;
  }

  /**
   * Makes the routes of a kind fail until cleared with `null`. A fault is taken when a request
   * arrives, so changing it does not affect answers already delayed.
   */
  setFault(kind: EmulatorFaultTarget, fault: EmulatorFault | null): void {
    if (kind !== 'metadata' && kind !== 'keys' && kind !== 'all') {
      throw new Error(`EntraEmulator.setFault: kind must be 'metadata', 'keys' or 'all', got ${String(kind)}`);
    }
    const validated = fault === null ? null : validateFault(fault);
    if (kind === 'metadata' || kind === 'all') {
      this.faults.metadata = validated;
    }
    if (kind === 'keys' || kind === 'all') {
      this.faults.keys = validated;
    }
  }

  // ----- internals -----

  private remember(key: EmulatorSigningKey): void {
    this.knownKeys.set(key.kid, key);
  }

  private policyKey(policy: string): PolicyKey {
    const name = policy.toLowerCase();
    let entry = this.policyKeys.get(name);
    if (entry === undefined) {
      const key = generateSigningKey();
      this.remember(key);
      entry = { key, notBefore: Math.floor(Date.now() / 1000) };
      this.policyKeys.set(name, entry);
    }
    return entry;
  }

  private appKey(appId: string): EmulatorSigningKey {
    const id = appId.toLowerCase();
    let key = this.appKeys.get(id);
    if (key === undefined) {
      key = generateSigningKey();
      this.remember(key);
      this.appKeys.set(id, key);
    }
    return key;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    let url: URL | undefined;
    try {
      url = new URL(path, 'http://emulator.invalid');
    } catch {
      url = undefined;
    }
    const route = url === undefined ? undefined : matchEntraRoute(method, url.pathname, this.tenantId, this.b2cDomain);
    const signIn = url === undefined || route !== undefined ? undefined : matchSignInRoute(url.pathname, this.tenantId);
    // Recorded before any fault so that resilience tests can count the fetches that failed.
    this.log.push(Object.freeze({ method, path, kind: route?.kind ?? (signIn === undefined ? 'other' : 'signin'), at: Date.now() }));
    if (signIn !== undefined && url !== undefined) {
      this.answerSignIn(request, response, url, signIn);
      return;
    }

    const fault = route === undefined ? null : this.faults[route.kind];
    const answer = (): void => {
      if (fault?.destroy) {
        request.socket.destroy();
      } else if (fault?.status !== undefined) {
        sendJson(response, fault.status, {
          error: 'emulated_fault',
          error_description: `EntraEmulator.setFault answered ${fault.status}`,
        });
      } else if (route === undefined || url === undefined) {
        sendJson(response, 404, { error: 'not_found' });
      } else {
        sendJson(response, 200, this.document(route, url), DOCUMENT_CACHE_CONTROL);
      }
    };

    if (fault?.delayMs) {
      const timer = setTimeout(() => {
        this.delayedAnswers.delete(timer);
        answer();
      }, fault.delayMs);
      // A pending fault must never be what keeps a test process alive.
      timer.unref();
      this.delayedAnswers.add(timer);
    } else {
      answer();
    }
  }

  /** Faults do not apply here: they model the discovery an API depends on, not a user signing in. */
  private answerSignIn(request: IncomingMessage, response: ServerResponse, url: URL, route: SignInRoute): void {
    const method = request.method ?? 'GET';
    if (route.endpoint === 'authorize') {
      if (method !== 'GET') {
        sendJson(response, 405, { error: 'invalid_request', error_description: `The emulator's authorize endpoint takes GET requests, not ${method}.` });
        return;
      }
      sendSignInAnswer(response, this.signIn.authorize(url.searchParams, route.tenant));
      return;
    }
    if (method === 'OPTIONS') {
      // Swagger UI and SPAs redeem codes with fetch from their own origin; their custom headers
      // (X-Requested-With) make the browser ask first.
      response.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] ?? 'Content-Type',
        'Access-Control-Max-Age': '86400',
      });
      response.end();
      return;
    }
    if (method !== 'POST') {
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: `AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`,
        error_codes: [900561],
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_TOKEN_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_TOKEN_REQUEST_BYTES) {
        sendJson(response, 413, { error: 'invalid_request', error_description: `A token request body is at most ${MAX_TOKEN_REQUEST_BYTES} bytes.` });
        return;
      }
      // Entra reads form bodies only; a JSON body reads as one without grant_type, as it does there.
      const isForm = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
      const form = new URLSearchParams(isForm ? Buffer.concat(chunks).toString('utf8') : '');
      sendSignInAnswer(response, this.signIn.token(form, request.headers.authorization, route.tenant));
    });
  }

  private document(route: EntraRoute, url: URL): unknown {
    const context: DocumentContext = {
      authorityHost: this.authorityHost,
      v1IssuerHost: this.v1IssuerHost,
      v2IssuerTemplate: this.v2IssuerTemplate,
    };
    if (route.policy !== undefined) {
      if (route.kind === 'metadata') {
        return b2cMetadataDocument(context, route);
      }
      const { key, notBefore } = this.policyKey(route.policy);
      return b2cKeysDocument(key, notBefore);
    }
    const appId = url.searchParams.get('appid') || undefined;
    if (route.kind === 'metadata') {
      return route.version === 2
        ? v2MetadataDocument(context, route.tenant, appId)
        : v1MetadataDocument(context, route.tenant, appId);
    }
    const appKey = appId === undefined ? undefined : this.appKeys.get(appId.toLowerCase());
    if (appKey !== undefined) {
      return keysDocument([appKey], route.version === 2 ? this.v2Issuer(route.tenant.issuerTenantId) : undefined);
    }
    // Tenant-wide v2 keys carry the template, as Entra's do even under a tenant's own path.
    return {
      keys: [...this.publishedKeys.values()].map((key) => ({
        ...toEntraJwk(key, route.version === 1 ? undefined : (this.keyIssuers.get(key.kid) ?? this.v2IssuerTemplate)),
        ...this.keyFields.get(key.kid),
      })),
    };
  }
}

/** The options once validated; `v2IssuerTemplate` stays undefined until the port is known. */
type ResolvedEmulatorOptions = Required<Omit<EntraEmulatorOptions, 'v2IssuerTemplate'>> & { v2IssuerTemplate: string | undefined };

function sendSignInAnswer(response: ServerResponse, answer: SignInAnswer): void {
  if (answer.type === 'redirect') {
    response.writeHead(302, { Location: answer.location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    response.end();
  } else {
    sendJson(response, answer.status, answer.body);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, cacheControl = 'no-store'): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': cacheControl,
    // Entra allows cross-origin reads of discovery documents (SPAs fetch them from the browser).
    'Access-Control-Allow-Origin': '*',
  });
  response.end(text);
}
