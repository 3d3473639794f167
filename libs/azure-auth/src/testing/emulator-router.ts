import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessPolicy } from './access-policy.js';
import { fillTenantTemplate } from './emulator-defaults.js';
import {
  b2cKeysDocument,
  b2cMetadataDocument,
  keysDocument,
  matchEntraRoute,
  v1MetadataDocument,
  v2MetadataDocument,
  type DocumentContext,
  type EntraRoute,
} from './entra-documents.js';
import type { FaultInjector } from './fault-injection.js';
import { GraphService, type GraphAnswer } from './graph.js';
import { sendJson, sendRedirect } from './http-answers.js';
import type { KeyStore } from './key-store.js';
import type { EmulatorRequest, RequestLog } from './request-log.js';
import { matchSignInRoute, type SignInAnswer, type SignInRoute, type SignInService } from './sign-in.js';

/**
 * The rooms a request may pass through, and what the documents say about the emulator.
 *
 * @internal
 */
export interface EmulatorRouterRooms {
  readonly tenantId: string;
  readonly b2cDomain: string;
  /** The B2C policies published (lower case); `undefined`: every one. */
  readonly b2cPolicies: ReadonlySet<string> | undefined;
  readonly documents: DocumentContext;
  readonly keys: KeyStore;
  readonly signIn: SignInService;
  readonly graph: GraphService;
  readonly access: AccessPolicy;
  readonly faults: FaultInjector;
  readonly log: RequestLog;
}

// Entra's own caching instruction for metadata and keys; validators that honour it must still
// refresh on an unknown `kid`, which is what the rotation helpers let tests check.
const DOCUMENT_CACHE_CONTROL = 'max-age=86400, private';
// Token and Graph requests are small; a larger body is a test gone wrong, not something to buffer.
const MAX_REQUEST_BYTES = 64 * 1024;

function requestUrl(target: string): URL | undefined {
  try {
    return new URL(target, 'http://emulator.invalid');
  } catch {
    return undefined;
  }
}

function sendSignInAnswer(response: ServerResponse, answer: SignInAnswer): void {
  if (answer.type === 'redirect') {
    sendRedirect(response, answer.location);
  } else {
    sendJson(response, answer.status, answer.body);
  }
}

function sendGraphAnswer(response: ServerResponse, answer: GraphAnswer): void {
  for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
  sendJson(response, answer.status, answer.body);
}

/** Reads a small request body (413 beyond {@link MAX_REQUEST_BYTES}) and hands it on as text. */
function readBody(request: IncomingMessage, response: ServerResponse, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > MAX_REQUEST_BYTES) {
      sendJson(response, 413, { error: 'invalid_request', error_description: `A request body is at most ${MAX_REQUEST_BYTES} bytes.` });
      return;
    }
    done(Buffer.concat(chunks).toString('utf8'));
  });
}

/**
 * Which path is which Entra document or endpoint, and who may have an answer: every request is
 * logged, then refused unless it names a host the emulator serves, then routed.
 *
 * @internal
 */
export class EmulatorRouter {
  constructor(private readonly rooms: EmulatorRouterRooms) {}

  handle(request: IncomingMessage, response: ServerResponse): void {
    const { tenantId, b2cDomain, access, log } = this.rooms;
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const url = requestUrl(path);
    const route = url === undefined ? undefined : matchEntraRoute(method, url.pathname, tenantId, b2cDomain);
    const signIn = url === undefined || route !== undefined ? undefined : matchSignInRoute(url.pathname, tenantId);
    const graph = url !== undefined && route === undefined && signIn === undefined && GraphService.matches(url.pathname);
    // Recorded before any refusal or fault so that tests can count the requests that failed.
    const entry = log.record(method, path, route?.kind ?? (signIn !== undefined ? 'signin' : graph ? 'graph' : 'other'));
    if (!access.servesHost(request.headers.host)) {
      sendJson(response, 421, {
        error: 'misdirected_request',
        error_description: `The emulator serves loopback hosts (localhost, 127.x.x.x, [::1]) and EntraEmulatorOptions.allowedHosts only, not ${JSON.stringify(request.headers.host ?? null)}: a DNS name that leads here may be a rebinding attack.`,
      });
      return;
    }
    for (const [name, value] of Object.entries(access.corsHeaders(request.headers.origin))) {
      response.setHeader(name, value);
    }
    if (signIn !== undefined && url !== undefined) {
      this.answerSignIn(request, response, url, signIn, entry);
    } else if (graph && url !== undefined) {
      this.answerGraph(request, response, url);
    } else if (route === undefined || url === undefined || (route.policy !== undefined && this.rooms.b2cPolicies?.has(route.policy) === false)) {
      sendJson(response, 404, { error: 'not_found' });
    } else {
      this.rooms.faults.answer(route.kind, request, response, () => sendJson(response, 200, this.document(route, url), DOCUMENT_CACHE_CONTROL));
    }
  }

  private answerSignIn(request: IncomingMessage, response: ServerResponse, url: URL, route: SignInRoute, entry: EmulatorRequest): void {
    const method = request.method ?? 'GET';
    const origin = request.headers.origin;
    // Not reading the answer is not enough: a page of another site must not mint tokens at all.
    if (origin !== undefined && !this.rooms.access.allowsOrigin(origin)) {
      sendJson(response, 403, {
        error: 'invalid_request',
        error_description: `The emulator's sign-in endpoints serve pages of loopback origins and EntraEmulatorOptions.allowedOrigins only, not '${origin}'.`,
      });
      return;
    }
    if (route.endpoint === 'authorize') {
      if (method !== 'GET') {
        sendJson(response, 405, { error: 'invalid_request', error_description: `The emulator's authorize endpoint takes GET requests, not ${method}.` });
        return;
      }
      sendSignInAnswer(response, this.rooms.signIn.authorize(url.searchParams, route.tenant));
      return;
    }
    if (method === 'OPTIONS') {
      // Swagger UI and SPAs redeem codes with fetch from their own origin; their custom headers
      // (X-Requested-With) make the browser ask first.
      response.writeHead(204, {
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
    readBody(request, response, (body) => {
      // Entra reads form bodies only; a JSON body reads as one without grant_type, as it does there.
      const isForm = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
      const form = new URLSearchParams(isForm ? body : '');
      const grantType = form.get('grant_type');
      if (grantType) this.rooms.log.noteGrantType(entry, grantType);
      const tokenEndpoint = `${this.rooms.documents.authorityHost}${url.pathname}`;
      this.rooms.faults.answer('token', request, response, (fault) =>
        sendSignInAnswer(response, this.rooms.signIn.token(form, request.headers.authorization, route.tenant, tokenEndpoint, fault)),
      );
    });
  }

  private answerGraph(request: IncomingMessage, response: ServerResponse, url: URL): void {
    readBody(request, response, (body) => {
      this.rooms.faults.answer('graph', request, response, (fault) =>
        sendGraphAnswer(
          response,
          this.rooms.graph.handle({ method: request.method ?? 'GET', pathname: url.pathname, authorization: request.headers.authorization, body }, fault),
        ),
      );
    });
  }

  private document(route: EntraRoute, url: URL): unknown {
    const { documents, keys } = this.rooms;
    if (route.policy !== undefined) {
      if (route.kind === 'metadata') {
        return b2cMetadataDocument(documents, route);
      }
      const { key, notBefore } = keys.policyKey(route.policy);
      return b2cKeysDocument(key, notBefore);
    }
    const appId = url.searchParams.get('appid') || undefined;
    if (route.kind === 'metadata') {
      return route.version === 2 ? v2MetadataDocument(documents, route.tenant, appId) : v1MetadataDocument(documents, route.tenant, appId);
    }
    const appKey = appId === undefined ? undefined : keys.publishedAppKey(appId);
    if (appKey !== undefined) {
      return keysDocument([{ key: appKey }], route.version === 2 ? fillTenantTemplate(documents.v2IssuerTemplate, route.tenant.issuerTenantId) : undefined);
    }
    // Tenant-wide v2 keys carry the template, as Entra's do even under a tenant's own path.
    return keysDocument(keys.tenantKeys(), route.version === 2 ? documents.v2IssuerTemplate : undefined);
  }
}
