import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { AccessPolicy } from './access-policy.js';
import type { MintOptions } from './access-token.js';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type IssuedCertificate } from './certificates.js';
import { ApiRegistration } from './confidential-client.js';
import { DownstreamGrants } from './downstream-grants.js';
import {
  ENTRA_EMULATOR_DEFAULTS,
  FEDERATED_TOKEN_AUDIENCE,
  TENANT_ID_TEMPLATE,
  fillTenantTemplate,
  formatB2cIssuer,
  formatV1Issuer,
  formatV2Issuer,
} from './emulator-defaults.js';
import { resolveEmulatorOptions, type EntraEmulatorOptions, type ResolvedEmulatorOptions } from './emulator-options.js';
import { EmulatorRouter } from './emulator-router.js';
import { requireB2cPolicyName } from './entra-documents.js';
import { FaultInjector, type EmulatorFault, type EmulatorFaultTarget } from './fault-injection.js';
import { GraphService } from './graph.js';
import { KeyStore, type AddKeyOptions, type EmulatorKeyPair, type UnpublishedSigningKey } from './key-store.js';
import { RequestLog, type EmulatorRequest, type EmulatorRequestKind } from './request-log.js';
import { SignInService } from './sign-in.js';
import { TokenMinter } from './token-minting.js';

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function appIdQuery(appId: string | undefined): string {
  return appId === undefined ? '' : `?appid=${encodeURIComponent(appId)}`;
}

/** The TLS server certificate's names: every loopback spelling a client may use. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

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
 * tokens, count fetches and inject failures. Over HTTPS (`https: true`) it also grants the API's
 * own token requests (on-behalf-of, client credentials) and serves a minimal Microsoft Graph,
 * so that downstream calls through MSAL Node can be tested offline.
 *
 * It signs whatever it is asked to: never expose it beyond loopback, never trust it in production.
 * So that a web page the developer visits cannot ask it either, it serves only requests that name
 * a loopback host, lets only loopback origins read its answers, and signs in only its known
 * clients, redirected back to loopback (each rule can be widened by an option).
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
 *
 * // Downstream calls (on-behalf-of through MSAL Node, which wants https): serve HTTPS with a
 * // certificate authority of its own, trusted by the module's agent only
 * const tls = await EntraEmulator.start({ https: true });
 * AzureAuthModule.forRoot({
 *   tenantId: tls.tenantId, clientId: tls.clientId, authorityHost: tls.authorityHost,
 *   httpAgent: new https.Agent({ ca: tls.certificateAuthority }),
 *   clientCredential: { clientSecret: tls.clientSecret },
 * });
 */
export class EntraEmulator {
  /** Base URL of the emulator, in place of `https://login.microsoftonline.com` (no trailing slash); `https://` with {@link EntraEmulatorOptions.https}. */
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
  /**
   * The client secret of the API's own registration ({@link clientId}), which the token endpoint
   * takes from the API for on-behalf-of and client credentials ({@link EntraEmulatorOptions.clientSecret}).
   */
  readonly clientSecret: string;
  /**
   * With {@link EntraEmulatorOptions.https}: the PEM certificate of the authority that signed the
   * emulator's TLS certificate, made at start and trusted by no one until given to a client
   * (`new https.Agent({ ca })`, or a file named by `NODE_EXTRA_CA_CERTS` for another process).
   * `undefined` over plain HTTP.
   */
  readonly certificateAuthority: string | undefined;
  /**
   * The issuer of the federated credential the API's registration trusts (workload identity):
   * `{authorityHost}/federation`. Tokens of {@link mintFederatedToken} carry it.
   */
  readonly federatedIssuer: string;
  /**
   * With {@link EntraEmulatorOptions.https}: a plain-HTTP door to the same emulator on a port of
   * its own (same tenant, keys and issuers: tokens signed in there say {@link authorityHost}),
   * for a browser that does not trust {@link certificateAuthority}, such as Swagger UI's sign-in
   * in dev mode (`setupAzureAuthSwagger(app, { authorityHost: entra.httpAuthorityHost })`).
   * `undefined` over plain HTTP, where {@link authorityHost} already is one.
   */
  readonly httpAuthorityHost: string | undefined;

  private readonly v1IssuerHost: string;
  private readonly servers: readonly Server[];
  private readonly keys: KeyStore;
  private readonly minter: TokenMinter;
  private readonly api: ApiRegistration;
  private readonly log = new RequestLog();
  private readonly faults = new FaultInjector();
  private authority: Promise<CertificateAuthority> | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(servers: readonly Server[], options: ResolvedEmulatorOptions, keys: KeyStore, authority: CertificateAuthority | undefined) {
    const [server, httpDoor] = servers as [Server, Server | undefined];
    const { port } = server.address() as AddressInfo;
    this.servers = servers;
    const hostAndPort = `${urlHost(options.host)}:${port}`;
    this.httpAuthorityHost = httpDoor && `http://${urlHost(options.host)}:${(httpDoor.address() as AddressInfo).port}`;
    this.authorityHost = `${authority ? 'https' : 'http'}://${hostAndPort}`;
    this.tenantId = options.tenantId;
    this.clientId = options.clientId;
    this.clientAppId = options.clientAppId;
    this.clientSecret = options.clientSecret;
    this.certificateAuthority = authority?.certificate;
    this.authority = authority && Promise.resolve(authority);
    this.federatedIssuer = `${this.authorityHost}/federation`;
    this.v1IssuerHost = options.v1IssuerHost;
    this.v2IssuerTemplate = options.v2IssuerTemplate ?? formatV2Issuer(this.authorityHost, TENANT_ID_TEMPLATE);
    this.b2cDomain = `${options.b2cTenantName}.onmicrosoft.com`;
    this.keys = keys;
    // Over HTTPS the emulator is Microsoft Graph too; plain HTTP keeps the public cloud's name
    // (MSAL, and so downstream calls, need HTTPS anyway).
    const graphHost = authority ? hostAndPort : 'graph.microsoft.com';
    this.minter = new TokenMinter(keys, {
      tenantId: this.tenantId,
      clientId: this.clientId,
      clientAppId: this.clientAppId,
      v1Issuer: (tenantId) => this.v1Issuer(tenantId),
      v2Issuer: (tenantId) => this.v2Issuer(tenantId),
      b2cIssuer: (tenantId) => this.b2cIssuer(tenantId),
    });
    const mint = (mintOptions: MintOptions) => this.minter.mint(mintOptions);
    const access = new AccessPolicy({
      // Both doors share the host name (loopback), only the ports differ.
      authorityHostname: new URL(this.authorityHost).hostname,
      allowedHosts: options.allowedHosts,
      allowedOrigins: options.allowedOrigins,
      redirectUris: options.redirectUris,
      clientIds: [this.clientAppId.toLowerCase(), ...options.signInClientIds],
    });
    this.api = new ApiRegistration({
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      federatedIssuer: this.federatedIssuer,
      federatedSubject: ENTRA_EMULATOR_DEFAULTS.federatedSubject,
      keys,
    });
    const signIn = new SignInService({
      clientId: this.clientId,
      homeTenantId: this.tenantId,
      user: options.signInUser,
      daemonRoles: options.daemonRoles,
      access,
      mint,
      tokenLifetimeSeconds: options.tokenLifetimeSeconds,
      downstream: new DownstreamGrants({
        api: this.api,
        keys,
        graphHost,
        tokenLifetimeSeconds: options.tokenLifetimeSeconds,
        apiAppPermissions: options.apiAppPermissions,
        mint,
      }),
    });
    const router = new EmulatorRouter({
      tenantId: this.tenantId,
      b2cDomain: this.b2cDomain,
      b2cPolicies: options.b2cPolicies,
      documents: { authorityHost: this.authorityHost, v1IssuerHost: this.v1IssuerHost, v2IssuerTemplate: this.v2IssuerTemplate, graphHost },
      keys,
      signIn,
      graph: new GraphService({ keys, graphHost, authorityHost: this.authorityHost, users: options.directoryUsers }),
      access,
      faults: this.faults,
      log: this.log,
    });
    for (const door of servers) door.on('request', (request: IncomingMessage, response: ServerResponse) => router.handle(request, response));
  }

  /**
   * Validates the options, generates the first signing key (and, with `https`, a certificate
   * authority and the server's certificate) and starts listening; resolves once the port is bound.
   */
  static async start(options: EntraEmulatorOptions = {}): Promise<EntraEmulator> {
    const resolved = resolveEmulatorOptions(options);
    const keys = await KeyStore.create();
    if (!resolved.https) {
      const server = createHttpServer();
      await listen(server, resolved.port, resolved.host);
      return new EntraEmulator([server], resolved, keys, undefined);
    }
    const authority = await createCertificateAuthority('nestjs-azure-auth Entra emulator CA');
    const tls = await issueCertificate(authority, 'localhost', { usage: 'server', hosts: [...new Set([...LOOPBACK_NAMES, resolved.host])] });
    const server = createHttpsServer({ key: tls.privateKey, cert: tls.certificate }) as unknown as Server;
    const httpDoor = createHttpServer();
    await listen(server, resolved.port, resolved.host);
    try {
      await listen(httpDoor, 0, resolved.host);
    } catch (error) {
      server.close();
      throw error;
    }
    return new EntraEmulator([server, httpDoor], resolved, keys, authority);
  }

  /**
   * Stops listening and destroys every open connection, keep-alive ones included, so that a test
   * run can exit. Safe to call more than once; minting keeps working afterwards.
   */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve, reject) => {
      this.faults.cancelDelayedAnswers();
      let open = this.servers.length;
      for (const server of this.servers) {
        server.close((error) => {
          if (error) reject(error);
          else if (--open === 0) resolve();
        });
        server.closeAllConnections();
      }
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
    const segment = policy === undefined ? '{policy}' : requireB2cPolicyName('b2cAuthority', policy);
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
   * what a careful client sends anyway: `response_type=code`, a client id it knows
   * ({@link clientAppId} or {@link EntraEmulatorOptions.signInClientIds}), a loopback `redirect_uri`
   * (or one of {@link EntraEmulatorOptions.redirectUris}), scopes of its API
   * (`api://{clientId}/{scope}`), PKCE with S256, and `state`. An unknown client or redirect URI
   * gets a 400, never a redirect.
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
   * {@link EntraEmulatorOptions.daemonRoles}.
   *
   * The API itself ({@link clientId}, proving itself with {@link clientSecret}, a certificate of
   * {@link createClientCertificate} or a token of {@link mintFederatedToken}) gets tokens for the
   * APIs it calls: on-behalf-of (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
   * `requested_token_use=on_behalf_of`: the caller's token must be a user token the emulator
   * signed, for this API, not expired) for Microsoft Graph (`User.Read`,
   * `https://graph.microsoft.com/User.Read`) or another API (`api://{appId}/{scope}`), with the
   * scopes asked; and client credentials (`{resource}/.default`) with
   * {@link EntraEmulatorOptions.apiAppPermissions}. `setFault('token', …)` makes it fail, delay,
   * or answer on-behalf-of with consent required or a claims challenge. Browsers may call it cross-origin from loopback
   * origins and {@link EntraEmulatorOptions.allowedOrigins}, as Entra allows a SPA's registered origins to.
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

  // ----- the API's own credentials (downstream calls) -----

  /**
   * Makes a certificate for the API's registration and registers it, as uploading it under
   * "Certificates & secrets" does: the token endpoint then takes client assertions signed by its
   * key (`x5t#S256` or `x5t` naming it), as MSAL Node signs them with `clientCertificate`.
   *
   * @example
   * const { privateKey, thumbprintSha256, certificate } = await entra.createClientCertificate();
   * AzureAuthModule.forRoot({ ..., clientCredential: { certificate: { privateKey, thumbprintSha256 } } });
   */
  async createClientCertificate(): Promise<IssuedCertificate> {
    this.authority ??= createCertificateAuthority('nestjs-azure-auth Entra emulator CA');
    const issued = await issueCertificate(await this.authority, `nestjs-azure-auth API ${this.clientId}`, { usage: 'client' });
    this.api.addCertificate(issued.certificate);
    return issued;
  }

  /**
   * Mints the token a workload identity federation issuer would put in the pod's
   * `AZURE_FEDERATED_TOKEN_FILE` (a Kubernetes service account token): issuer
   * {@link federatedIssuer}, audience `api://AzureADTokenExchange`, subject
   * `ENTRA_EMULATOR_DEFAULTS.federatedSubject`, the federated credential the API's registration
   * trusts. The token endpoint takes it as the API's client assertion; another subject or
   * audience is refused as Entra refuses a federated token no credential matches.
   */
  mintFederatedToken(options: { subject?: string; audience?: string; expiresInSeconds?: number } = {}): string {
    const issuedAt = Math.floor(Date.now() / 1000);
    return this.minter.sign(
      { alg: 'RS256', typ: 'JWT', kid: this.keys.signingKey.kid },
      {
        iss: this.federatedIssuer,
        sub: options.subject ?? ENTRA_EMULATOR_DEFAULTS.federatedSubject,
        aud: [options.audience ?? FEDERATED_TOKEN_AUDIENCE],
        iat: issuedAt,
        nbf: issuedAt,
        exp: issuedAt + (options.expiresInSeconds ?? 3600),
      },
      {},
    );
  }

  // ----- keys -----

  /** `kid` of the key that signs minted tokens by default. */
  get signingKid(): string {
    return this.keys.signingKey.kid;
  }

  /** `kid`s of the tenant-wide key set, as the keys endpoints publish them (app-specific keys excluded). */
  publishedKids(): string[] {
    return this.keys.tenantKeys().map(({ key }) => key.kid);
  }

  /**
   * Makes a new key, publishes it and signs with it from now on, as Entra does without notice.
   *
   * @param options.keepPrevious keep publishing the previous signing key, so tokens it signed stay
   *   verifiable (default `true`); `false` unpublishes it at once.
   * @returns the new `kid`.
   */
  rotateKeys(options: { keepPrevious?: boolean } = {}): string {
    return this.keys.rotate(options.keepPrevious !== false);
  }

  /**
   * Stops publishing a key (tenant-wide or app-specific). Removing the current signing key does
   * not stop it signing: that is how a test gets a token whose `kid` the JWKS no longer lists.
   */
  removeKey(kid: string): void {
    this.keys.withdraw(kid);
  }

  /** A key the keys endpoints never show, for tests of tokens with an unknown `kid`. */
  createUnpublishedKey(): UnpublishedSigningKey {
    return this.keys.createUnpublished();
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
    return this.keys.publish(options);
  }

  /**
   * The `kid` of a B2C policy's own signing key, created on first use (by this call, a mint, or a
   * fetch of that policy's keys). Policy names are compared without case, as B2C does.
   */
  b2cPolicyKid(policy: string): string {
    return this.keys.policyKey(requireB2cPolicyName('b2cPolicyKid', policy)).key.kid;
  }

  /**
   * The `kid` of an application's own signing key (what Entra uses for apps with claims mapping),
   * created on first use. It is served only under `?appid={appId}`, and from then on that query
   * serves only this key; before it exists the query serves the tenant-wide keys, as Entra does
   * for apps without their own key.
   */
  appSpecificKid(appId: string): string {
    return this.keys.appKey(appId).kid;
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
    return this.minter.mint(options);
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
    return this.minter.sign(header, payload, options);
  }

  // ----- observability and faults -----

  /** Every request received since start or the last {@link resetRequests}, oldest first (a snapshot). */
  get requests(): ReadonlyArray<EmulatorRequest> {
    return this.log.snapshot();
  }

  /** How many requests of a kind were received (all requests when `kind` is omitted), faulted and refused ones included. */
  requestCount(kind?: EmulatorRequestKind): number {
    return this.log.count(kind);
  }

  /** Forgets the recorded requests. */
  resetRequests(): void {
    this.log.reset();
  }

  /**
   * Makes the routes of a kind fail until cleared with `null`: `metadata`, `keys` (`all`: both),
   * `token` (the token endpoint) or `graph` (the emulated Microsoft Graph). A fault is taken when
   * a request arrives, so changing it does not affect answers already delayed.
   *
   * @example
   * entra.setFault('token', { status: 503 });                  // Entra's token endpoint is down
   * entra.setFault('token', { consentRequired: true });        // AADSTS65001 for on-behalf-of
   * entra.setFault('graph', { claimsChallenge: '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}' }); // CAE
   */
  setFault(kind: EmulatorFaultTarget, fault: EmulatorFault | null): void {
    this.faults.set(kind, fault);
  }
}
