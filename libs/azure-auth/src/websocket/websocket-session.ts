import type { TransportObject } from '../guards/execution-context.js';
import type { AzurePrincipal } from '../token/azure-principal.js';

/**
 * What a WebSocket connection keeps between messages: the token it authenticated with (the guard
 * reads it per message, as it reads an HTTP request's header) and the caller that token proved.
 * @internal
 */
export interface WebSocketSession {
  /** The connection's current token, in the form the guard reads (`Authorization: Bearer`). */
  readonly headers: { authorization: string };
  principal: AzurePrincipal;
  /** Closes the connection when the token expires, unless a re-authentication replaced it. */
  expiry: ReturnType<typeof setTimeout> | undefined;
}

const sessions = new WeakMap<object, WebSocketSession>();

/**
 * Where the GraphQL context of a Mercurius subscription holds its connection's socket (put there
 * by `AzureWebSocketAuth.mercurius()`), so the guard reads that connection's session.
 * @internal
 */
export const MERCURIUS_SUBSCRIPTION_SOCKET = Symbol('azure-auth:mercurius-subscription-socket');

/** @internal */
export function openSession(socket: object, token: string, principal: AzurePrincipal): WebSocketSession {
  const session: WebSocketSession = { headers: { authorization: `Bearer ${token}` }, principal, expiry: undefined };
  sessions.set(socket, session);
  return session;
}

/** @internal */
export function sessionOf(socket: unknown): WebSocketSession | undefined {
  return typeof socket === 'object' && socket !== null ? sessions.get(socket) : undefined;
}

/** Forgets a closed connection and stops its expiry timer. @internal */
export function closeSession(socket: object): void {
  const session = sessions.get(socket);
  if (!session) return;
  clearTimeout(session.expiry);
  sessions.delete(socket);
}

/**
 * What the guard reads for one message: the current token and caller of a connection this module
 * admitted, in an object of the message's own (a refused message takes nothing from the
 * connection); for any other socket an empty one (no token).
 * @internal
 */
export function webSocketRequestOf(socket: unknown): TransportObject {
  const session = sessionOf(socket);
  return session ? { headers: session.headers, user: session.principal } : {};
}
