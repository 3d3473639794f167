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
import { sendJson, sendRedirect } from './http-answers.js';
import type { KeyStore } from './key-store.js';
import type { RequestLog } from './request-log.js';
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
  readonly access: AccessPolicy;
  readonly faults: FaultInjector;
  readonly log: RequestLog;
}

// Entra's own caching instruction for metadata and keys; validators that honour it must still
// refresh on an unknown `kid`, which is what the rotation helpers let tests check.
const DOCUMENT_CACHE_CONTROL = 'max-age=86400, private';
// Token requests are small forms; a larger body is a test gone wrong, not something to buffer.
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

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
    // Recorded before any refusal or fault so that tests can count the requests that failed.
    log.record(method, path, route?.kind ?? (signIn === undefined ? 'other' : 'signin'));
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
      this.answerSignIn(request, response, url, signIn);
    } else if (route === undefined || url === undefined || (route.policy !== undefined && this.rooms.b2cPolicies?.has(route.policy) === false)) {
      sendJson(response, 404, { error: 'not_found' });
    } else {
      this.rooms.faults.answer(route.kind, request, response, () => sendJson(response, 200, this.document(route, url), DOCUMENT_CACHE_CONTROL));
    }
  }

  private answerSignIn(request: IncomingMessage, response: ServerResponse, url: URL, route: SignInRoute): void {
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
      sendSignInAnswer(response, this.rooms.signIn.token(form, request.headers.authorization, route.tenant));
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
