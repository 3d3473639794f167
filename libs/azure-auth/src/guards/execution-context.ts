import type { ExecutionContext } from '@nestjs/common';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';
import { MERCURIUS_SUBSCRIPTION_SOCKET, sessionOf, webSocketRequestOf } from '../websocket/websocket-session.js';

/** A request or response object of any transport; only what the module touches is typed. */
export type TransportObject = Record<string | symbol, unknown>;

interface GraphqlContext {
  req?: TransportObject;
  request?: TransportObject;
  res?: TransportObject;
  reply?: TransportObject & { request?: TransportObject };
  [MERCURIUS_SUBSCRIPTION_SOCKET]?: unknown;
}

/** A graphql-ws connection's context, which Apollo's driver passes as `req` to subscription resolvers. */
interface GraphqlWsContext {
  connectionInitReceived?: boolean;
  extra?: { socket?: unknown };
}

/**
 * The request behind a handler call: for HTTP the request itself; for GraphQL the one in the
 * resolver context (Apollo puts `req`, Mercurius `reply.request`), or for a subscription over
 * graphql-ws (Apollo's or Mercurius') its connection's; for a WebSocket message its connection's
 * (token and caller, see `AzureWebSocketAuth`). GraphQL and WebSockets are read from the call's arguments, so
 * `@nestjs/graphql` and `@nestjs/websockets` are never imported.
 */
export function getRequestOf(context: ExecutionContext): TransportObject | undefined {
  const type = context.getType<string>();
  // What switchToHttp().getRequest() returns, without the three closures Nest builds per call.
  if (type === 'http') return context.getArgByIndex<TransportObject | undefined>(0);
  if (type === 'graphql') {
    const graphql = context.getArgByIndex<GraphqlContext | undefined>(2);
    if (graphql && MERCURIUS_SUBSCRIPTION_SOCKET in graphql) return webSocketRequestOf(graphql[MERCURIUS_SUBSCRIPTION_SOCKET]);
    const request = graphql?.req ?? graphql?.request ?? graphql?.reply?.request;
    return request && 'connectionInitReceived' in request ? webSocketRequestOf((request as GraphqlWsContext).extra?.socket) : request;
  }
  if (type === 'ws') return webSocketRequestOf(context.getArgByIndex<unknown>(0));
  return context.getArgByIndex<TransportObject | undefined>(0);
}

/** Where refusals set headers; a WebSocket message has no response to set them on. */
export function getResponseOf(context: ExecutionContext): TransportObject | undefined {
  const type = context.getType<string>();
  if (type === 'http') return context.getArgByIndex<TransportObject | undefined>(1);
  if (type === 'graphql') {
    const graphql = context.getArgByIndex<GraphqlContext | undefined>(2);
    return graphql?.res ?? graphql?.reply;
  }
  return type === 'ws' ? undefined : context.getArgByIndex<TransportObject | undefined>(1);
}

/** Sets a header on an Express response or a Fastify reply (whichever `response` is). */
export function setResponseHeader(response: TransportObject | undefined, name: string, value: string): void {
  if (!response) return;
  if (typeof response.header === 'function' && 'raw' in response) {
    (response.header as (n: string, v: string) => void).call(response, name, value);
  } else if (typeof response.setHeader === 'function' && !response.headersSent) {
    (response.setHeader as (n: string, v: string) => void).call(response, name, value);
  }
}

/**
 * What a call's guard and its handler's parameters have in common, whatever object a guard's
 * `getRequest` chose: the GraphQL context of the operation, else the call's first argument (the
 * HTTP request, a WebSocket client).
 */
function callKey(context: ExecutionContext): object | undefined {
  const key = context.getType<string>() === 'graphql' ? context.getArgByIndex<unknown>(2) : context.getArgByIndex<unknown>(0);
  return typeof key === 'object' && key !== null ? key : undefined;
}

const principals = new WeakMap<object, AzurePrincipal>();

/**
 * Gives a call its caller (on `request.user`, and where `@AzureUser()` finds it), or takes it away
 * (`undefined`) when the call is refused.
 * @internal
 */
export function bindPrincipal(context: ExecutionContext, request: TransportObject | undefined, principal: AzurePrincipal | undefined): void {
  if (request) request.user = principal;
  const key = callKey(context);
  if (!key) return;
  // Where the request is the call's own object (plain HTTP), `request.user` is where principalOf
  // looks: a WeakMap entry per request would only add garbage for the collector to trace.
  // A connection AzureWebSocketAuth admitted keeps its caller itself: all its messages share the
  // client, and a refused message must not take the caller from the others.
  if (principal && key !== request) {
    if (!sessionOf(key)) principals.set(key, principal);
  } else principals.delete(key);
}

/**
 * The caller a guard of this module admitted for this call, even when a guard subclass read the
 * request from elsewhere; else `request.user` if this module created it.
 * @internal
 */
export function principalOf(context: ExecutionContext): AzurePrincipal | undefined {
  const key = callKey(context);
  const bound = key && principals.get(key);
  if (bound) return bound;
  const user = getRequestOf(context)?.user;
  return authorityOf(user) ? (user as AzurePrincipal) : undefined;
}
