import { hash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type * as Msal from '@azure/msal-node';
import { LRUCache } from 'lru-cache';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAuthority, ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { setResponseHeader } from '../guards/execution-context.js';
import { agentFor } from '../metadata/proxy-agent.js';
import { parseSecureUrl } from '../shared/urls.js';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';
import { internalsOf, type AzureCaller } from './azure-caller.decorator.js';
import { HttpExchangeError, httpExchange, type HttpExchangeAnswer } from '../shared/http-exchange.js';
import { createConfidentialClient, loadMsalNode, type MsalNode, type MsalTransport } from './msal-client.js';
import { TenantEndpointsCache, type TenantEndpoints } from './tenant-endpoints.js';
import { RETRY_AFTER_SECONDS, toTokenRequestFailure } from './token-request-errors.js';

/** An access token for a downstream API. */
export interface AzureDownstreamToken {
  /** The token, for `Authorization: Bearer …`. Not enumerable: logging or serializing this object leaves it out. */
  readonly accessToken: string;
  /** When it expires. */
  readonly expiresOn: Date;
  /** The scopes it was granted. */
  readonly scopes: readonly string[];
}

/** A call of {@link AzureDownstreamApi.fetch}: the request, and the scopes its token needs. */
export interface AzureDownstreamRequestInit {
  /**
   * Scopes of the downstream API: `User.Read` (a bare name is Microsoft Graph's, as Entra reads
   * it) or `api://{appId}/{scope}`; with `asApp`, `{resource}/.default` (`https://graph.microsoft.com/.default`).
   */
  readonly scopes: readonly string[];
  /**
   * Call as this API itself (client credentials, in the caller's tenant) instead of on behalf of
   * the caller. Default `false`: on behalf of the caller, who must then be a user.
   */
  readonly asApp?: boolean;
  /** HTTP method. Default `GET`. */
  readonly method?: string;
  /** Request headers; `Authorization` is set by the call. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Request body. */
  readonly body?: string | Uint8Array;
}

/** Downstream answers are buffered; a larger one fails as unavailable. */
const MAX_DOWNSTREAM_ANSWER_BYTES = 16 * 1024 * 1024;
/** App-only clients: one per authority and tenant. */
const MAX_APP_CLIENTS = 1000;
// Statuses whose answers have no body, which `Response` refuses one for.
const NO_BODY: ReadonlySet<number> = new Set([204, 205, 304]);

type ConfidentialClient = Msal.ConfidentialClientApplication;

/** One incoming token's share of the cache: the MSAL client (and token cache) of its caller. */
interface Partition {
  readonly client: Promise<ConfidentialClient>;
}

function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes.map((scope) => scope.toLowerCase()))].sort().join(' ');
}

function checkScopes(scopes: unknown): readonly string[] {
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((scope) => typeof scope !== 'string' || scope.trim() === '' || /\s/.test(scope))) {
    throw new TypeError('AzureDownstreamApi: scopes must be a non-empty array of scope strings, e.g. ["User.Read"]');
  }
  return scopes as readonly string[];
}

function downstreamToken(result: Msal.AuthenticationResult | null): AzureDownstreamToken {
  if (!result?.accessToken) throw new Error('MSAL returned no access token');
  const token = { expiresOn: result.expiresOn ?? new Date(), scopes: Object.freeze([...result.scopes]) };
  Object.defineProperty(token, 'accessToken', { value: result.accessToken, enumerable: false });
  return Object.freeze(token) as AzureDownstreamToken;
}

/** The `claims` of a `WWW-Authenticate: Bearer … error="insufficient_claims", claims="…"` challenge (base64 JSON), if it is one. */
function claimsChallengeOf(answer: HttpExchangeAnswer): string | undefined {
  const header = answer.headers['www-authenticate'];
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (answer.status !== 401 || text === undefined || !/\berror\s*=\s*"insufficient_claims"/i.test(text)) return undefined;
  const claims = /\bclaims\s*=\s*"([A-Za-z0-9+/=_-]+)"/i.exec(text)?.[1];
  if (claims === undefined) return undefined;
  try {
    JSON.parse(Buffer.from(claims, 'base64').toString('utf8'));
    return claims;
  } catch {
    return undefined;
  }
}

/** An absolute URL a token may be sent to: https, or http on loopback. */
function downstreamUrl(url: string): URL {
  try {
    return parseSecureUrl(url, 'url');
  } catch (error) {
    throw new TypeError(`AzureDownstreamApi.fetch: ${error instanceof AzureAuthConfigurationError ? `url ${error.problem}` : String(error)}`);
  }
}

/** A Microsoft Graph path (`/v1.0/me`) on the Graph of the caller's cloud. */
function graphUrl(graphOrigin: string, path: string): URL {
  return new URL(`${graphOrigin}${path}`);
}

/** How a downstream call gets its token, for log lines. */
function flowOf(init: AzureDownstreamRequestInit | undefined): string {
  return init?.asApp ? 'client credentials' : 'on-behalf-of';
}

/** Microsoft Graph answered a call of this module with something other than what it asked for. @internal */
export class GraphAnswerError extends Error {
  constructor(readonly answer: HttpExchangeAnswer) {
    super(`Microsoft Graph answered ${answer.status}${graphErrorCode(answer)}`);
  }
}

/** `: {code}` of a Graph error body (`{"error":{"code":"Authorization_RequestDenied"}}`), for the log; never the rest of it. */
function graphErrorCode(answer: HttpExchangeAnswer): string {
  try {
    const code = (JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' && /^[\w.-]{1,100}$/.test(code) ? ` ${code}` : '';
  } catch {
    return '';
  }
}

function toResponse(answer: HttpExchangeAnswer): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const entry of Array.isArray(value) ? value : [value]) headers.append(name, entry);
  }
  // A plain Uint8Array: what every lib's BodyInit takes (DOM's does not take a Buffer).
  return new Response(NO_BODY.has(answer.status) ? null : new Uint8Array(answer.body), { status: answer.status, headers });
}

/**
 * Calls other APIs for the API being served, with `@azure/msal-node`: on behalf of the caller
 * (the on-behalf-of flow exchanges the caller's token for one to the downstream API, for the same
 * user) or as the API itself (client credentials). Needs `clientCredential` in the module options.
 *
 * Tokens are cached per incoming token: each token the API receives has a partition of its own
 * (found by the token's SHA-256 digest, never the token itself), shared by the requests that carry
 * it and by no other caller, dropped when it expires or when `downstreamTokenCache.maxPartitions`
 * is reached (least recently used first). Concurrent requests for the same token and scopes make
 * one token request.
 *
 * Refusals are answered as the guards answer theirs (the module's one error type, RFC 6750
 * headers, `onAuthFailure`): a claims challenge from Entra (Conditional Access, MFA) or from the
 * downstream API (continuous access evaluation) becomes 401 `insufficient_claims` with the same
 * claims, for the client to ask the user again; missing consent 403 `consent_required`; an
 * app-only caller asking for an on-behalf-of token 403 `user_token_required`; Entra or the
 * downstream API unreachable within `httpTimeoutMs` 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * @Get('profile')
 * async profile(@AzureCaller() caller: AzureCaller) {
 *   const me = await this.downstream.fetch(caller, '/v1.0/me', { scopes: ['User.Read'] });
 *   const { displayName, mail } = await me.json();
 *   return { displayName, mail };
 * }
 * ```
 */
@Injectable()
export class AzureDownstreamApi implements OnModuleInit {
  private readonly logger = new Logger('AzureAuth');
  private msal: MsalNode | undefined;
  private readonly endpoints = new Map<ResolvedAuthority, TenantEndpointsCache>();
  private readonly partitions: LRUCache<string, Partition>;
  private readonly appClients = new Map<string, Promise<ConfidentialClient>>();
  private readonly inflight = new Map<string, Promise<AzureDownstreamToken>>();

  constructor(
    @Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions,
    private readonly refusals: AzureAuthRefusals,
  ) {
    this.partitions = new LRUCache<string, Partition>({ max: options.downstreamCacheMaxPartitions });
  }

  /** Loads `@azure/msal-node` when a credential is configured, so that a missing package stops the start, not a request. */
  async onModuleInit(): Promise<void> {
    if (this.options.authorities.some((authority) => authority.clientCredential !== undefined)) {
      this.msal = await loadMsalNode();
    }
  }

  /**
   * A token for a downstream API, on behalf of the caller (on-behalf-of). Refused with 403
   * `user_token_required` when the caller is an application.
   *
   * @param scopes e.g. `['User.Read']` (Microsoft Graph) or `['api://{appId}/Tasks.Read']`.
   */
  async acquireTokenOnBehalfOf(caller: AzureCaller, scopes: readonly string[]): Promise<AzureDownstreamToken> {
    checkScopes(scopes);
    try {
      return await this.onBehalfOf(caller, scopes);
    } catch (failure) {
      throw this.refuse(caller, failure, scopes, 'on-behalf-of');
    }
  }

  /**
   * A token of the API itself (client credentials), for work it does as itself: in the caller's
   * tenant when a caller is given (its refusals then answer the caller's request), else in
   * `tenantId`, else in the configured tenant.
   *
   * @param scopes `{resource}/.default`, e.g. `['https://graph.microsoft.com/.default']`.
   */
  async acquireTokenForApp(scopes: readonly string[], context: { caller?: AzureCaller; tenantId?: string } = {}): Promise<AzureDownstreamToken> {
    checkScopes(scopes);
    try {
      return await this.forApp(scopes, context);
    } catch (failure) {
      throw this.refuse(context.caller, failure, scopes, 'client credentials');
    }
  }

  /**
   * Calls a downstream API with a token for `init.scopes` (on behalf of the caller, or as the
   * API with `asApp`) and returns its answer as it came, except a claims challenge (401
   * `insufficient_claims`), which is answered to the caller with the same claims.
   *
   * @param url an `https://` URL of the downstream API, or a path of Microsoft Graph
   *   (`/v1.0/me`): Graph of the caller's cloud, from the authority's metadata (`msgraph_host`).
   */
  async fetch(caller: AzureCaller, url: string, init: AzureDownstreamRequestInit): Promise<Response> {
    const scopes = checkScopes(init?.scopes);
    try {
      const target = url.startsWith('/') ? graphUrl(await this.graphOrigin(caller), url) : downstreamUrl(url);
      return toResponse(await this.exchange(caller, target, init, scopes));
    } catch (failure) {
      throw this.refuse(caller, failure, scopes, flowOf(init));
    }
  }

  /**
   * The object ids of the security groups the caller is a member of (direct and transitive), from
   * Microsoft Graph's `getMemberObjects`: on behalf of the caller (`/me`, delegated `User.Read`),
   * or as the API (`/users/{oid}`, `User.ReadBasic.All` and `GroupMember.Read.All`). Failures are
   * thrown as they are, for the guard to answer; a Graph answer other than 200 is a
   * {@link GraphAnswerError}.
   *
   * @internal
   */
  async memberGroups(caller: AzureCaller, asApp: boolean): Promise<string[]> {
    const { principal } = caller;
    const graph = await this.graphOrigin(caller);
    const init: AzureDownstreamRequestInit = {
      scopes: asApp ? [`${graph}/.default`] : ['User.Read'],
      asApp,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ securityEnabledOnly: true }),
    };
    const path = asApp ? `/v1.0/users/${encodeURIComponent(principal.oid)}/getMemberObjects` : '/v1.0/me/getMemberObjects';
    const answer = await this.exchange(caller, graphUrl(graph, path), init, init.scopes);
    let value: unknown;
    try {
      value = answer.status === 200 ? (JSON.parse(answer.body.toString('utf8')) as { value?: unknown }).value : undefined;
    } catch {
      value = undefined;
    }
    if (!Array.isArray(value) || value.some((id) => typeof id !== 'string')) throw new GraphAnswerError(answer);
    return value as string[];
  }

  /** One downstream call: its token, the exchange, and a claims challenge in the answer. */
  private async exchange(caller: AzureCaller, target: URL, init: AzureDownstreamRequestInit, scopes: readonly string[]): Promise<HttpExchangeAnswer> {
    const token = init.asApp ? await this.forApp(scopes, { caller }) : await this.onBehalfOf(caller, scopes);
    let answer: HttpExchangeAnswer;
    try {
      const authority = this.authorityOf(caller.principal);
      answer = await httpExchange(target, {
        method: init.method ?? 'GET',
        headers: { ...init.headers, authorization: `Bearer ${token.accessToken}` },
        body: init.body,
        agent: agentFor(target.href, authority.httpAgent),
        timeoutMs: authority.httpTimeoutMs,
        maxResponseBytes: MAX_DOWNSTREAM_ANSWER_BYTES,
      });
    } catch (error) {
      if (!(error instanceof HttpExchangeError)) throw error;
      this.logger.warn(`Downstream API unavailable: ${error.message}`);
      throw AzureAuthErrors.downstreamUnavailable(RETRY_AFTER_SECONDS);
    }
    const claims = claimsChallengeOf(answer);
    if (claims !== undefined) {
      // The caller's token no longer satisfies the downstream API: its cached tokens are useless.
      if (!init.asApp) this.dropPartitionOf(caller);
      throw AzureAuthErrors.claimsChallenge(claims, 'downstream');
    }
    return answer;
  }

  private async onBehalfOf(caller: AzureCaller, scopes: readonly string[]): Promise<AzureDownstreamToken> {
    const { principal } = caller;
    const token = this.tokenOf(caller);
    if (principal.appOnly) throw AzureAuthErrors.userTokenRequired();
    const authority = this.authorityOf(principal);
    const partitionKey = hash('sha256', token, 'base64url');
    return this.once(`obo ${partitionKey} ${scopeKey(scopes)}`, async () => {
      const client = await this.partitionClient(partitionKey, authority, principal);
      return downstreamToken(await client.acquireTokenOnBehalfOf({ oboAssertion: token, scopes: [...scopes] }));
    });
  }

  private async forApp(scopes: readonly string[], context: { caller?: AzureCaller; tenantId?: string }): Promise<AzureDownstreamToken> {
    const authority = context.caller ? this.authorityOf(context.caller.principal) : this.options.authorities.find((entry) => entry.clientCredential);
    if (!authority) throw this.notConfigured('any authority');
    const tenant = context.tenantId ?? context.caller?.principal.tid ?? (authority.multiTenant ? undefined : authority.tenantId);
    if (tenant === undefined) throw new TypeError('AzureDownstreamApi.acquireTokenForApp: a multi-tenant API must say in which tenant (a caller, or tenantId)');
    const clientKey = `${this.options.authorities.indexOf(authority)} ${tenant.toLowerCase()}`;
    return this.once(`app ${clientKey} ${scopeKey(scopes)}`, async () => {
      let client = this.appClients.get(clientKey);
      if (client === undefined) {
        if (this.appClients.size >= MAX_APP_CLIENTS) this.appClients.clear();
        client = this.createClient(authority, tenant);
        this.appClients.set(clientKey, client);
        client.catch(() => this.appClients.delete(clientKey));
      }
      return downstreamToken(await (await client).acquireTokenByClientCredential({ scopes: [...scopes] }));
    });
  }

  /** Microsoft Graph of the caller's cloud (`https://graph.microsoft.com`), from its tenant's metadata. */
  private async graphOrigin(caller: AzureCaller): Promise<string> {
    const endpoints = await this.tenantEndpoints(this.authorityOf(caller.principal), caller.principal.tid);
    if (endpoints.graphBaseUrl === undefined) throw new TypeError('AzureDownstreamApi.fetch: the metadata of this authority names no Microsoft Graph (msgraph_host); give an absolute URL');
    return endpoints.graphBaseUrl;
  }

  /** The caller's partition: its MSAL client, made on first use and kept while its token is valid. */
  private partitionClient(partitionKey: string, authority: ResolvedAuthority, principal: AzurePrincipal): Promise<ConfidentialClient> {
    let partition = this.partitions.get(partitionKey);
    if (partition === undefined) {
      const client = this.createClient(authority, principal.tid);
      partition = { client };
      const ttl = Math.max(1000, (principal.expiresAt + authority.clockToleranceSeconds) * 1000 - Date.now());
      this.partitions.set(partitionKey, partition, { ttl });
      const created = partition;
      client.catch(() => {
        if (this.partitions.get(partitionKey) === created) this.partitions.delete(partitionKey);
      });
    }
    return partition.client;
  }

  private dropPartitionOf(caller: AzureCaller): void {
    const token = internalsOf(caller)?.token;
    if (token) this.partitions.delete(hash('sha256', token, 'base64url'));
  }

  private async createClient(authority: ResolvedAuthority, tenant: string): Promise<ConfidentialClient> {
    const msal = this.msal;
    const credential = authority.clientCredential;
    if (msal === undefined || credential === undefined) throw this.notConfigured(authority.label);
    const transport: MsalTransport = { agentFor: (url) => agentFor(url, authority.httpAgent), timeoutMs: authority.httpTimeoutMs };
    const endpoints = await this.tenantEndpoints(authority, tenant);
    return createConfidentialClient(msal, { clientId: authority.clientId, credential, endpoints, transport, logger: this.logger });
  }

  private async tenantEndpoints(authority: ResolvedAuthority, tenant: string): Promise<TenantEndpoints> {
    let cache = this.endpoints.get(authority);
    if (cache === undefined) {
      cache = new TenantEndpointsCache({
        authorityHost: authority.authorityHost,
        agentFor: (url) => agentFor(url, authority.httpAgent),
        timeoutMs: authority.httpTimeoutMs,
        refreshMs: authority.metadataRefreshSeconds * 1000,
      });
      this.endpoints.set(authority, cache);
    }
    try {
      return await cache.get(tenant);
    } catch (error) {
      this.logger.warn(`OpenID metadata of ${authority.authorityHost}/${tenant} unavailable for a downstream call: ${error instanceof Error ? error.message : String(error)}`);
      throw AzureAuthErrors.tokenEndpointUnavailable(RETRY_AFTER_SECONDS);
    }
  }

  /** One token request for concurrent calls that need the same token. */
  private once(key: string, acquire: () => Promise<AzureDownstreamToken>): Promise<AzureDownstreamToken> {
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = acquire().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private tokenOf(caller: AzureCaller): string {
    const internals = caller === null || typeof caller !== 'object' ? undefined : internalsOf(caller);
    if (internals === undefined) throw new TypeError('AzureDownstreamApi: the caller must be the one @AzureCaller() gives the handler');
    if (internals.token === null) throw AzureAuthErrors.tokenMissing();
    return internals.token;
  }

  private authorityOf(principal: AzurePrincipal): ResolvedAuthority {
    const authority = authorityOf(principal);
    if (authority === undefined) throw new TypeError('AzureDownstreamApi: the caller was not admitted by this module');
    if (authority.clientCredential === undefined) throw this.notConfigured(authority.label);
    return authority;
  }

  /** A route that calls downstream in an API configured without a credential: the API's fault, told in the log. */
  private notConfigured(label: string): Error {
    this.logger.error(`A downstream call was refused: no clientCredential is configured for ${label} (downstream calls need the API's own credential)`);
    return AzureAuthErrors.downstreamTokenRefused();
  }

  /**
   * The answer to a failed downstream call: the refusal (through the module's refusals: log,
   * `onAuthFailure`, headers on the caller's response) or, without a caller, the error itself.
   * Programming errors (a caller from elsewhere, scopes that are not scopes) are thrown as they are.
   */
  private refuse(caller: AzureCaller | undefined, failure: unknown, scopes: readonly string[], flow: string): unknown {
    if (failure instanceof TypeError) return failure;
    const { error, logLine } = toTokenRequestFailure(failure, scopes, flow);
    if (logLine) this.logger.error(logLine);
    const internals = caller && internalsOf(caller);
    if (!internals) return error;
    const { exception, headers } = this.refusals.refuse(error, internals.token, caller.principal);
    for (const [name, value] of headers) setResponseHeader(internals.response, name, value);
    return exception;
  }
}

