import { Injectable } from '@nestjs/common';
import type { AzureAuthErrorBody } from '../errors/www-authenticate.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { authorize } from '../guards/authorize.js';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { azureAuthGraphqlErrors, type SerializedGraphqlError } from '../graphql/refusal-extensions.js';
import { bareToken, handshakeToken, type WebSocketHandshake } from './handshake-token.js';
import { closeSession, MERCURIUS_SUBSCRIPTION_SOCKET, openSession, sessionOf, type WebSocketSession } from './websocket-session.js';
import { loadWsException } from './ws-exception.js';

/** The message a client sends, before its token expires, to go on with a fresh one: `{ token }`. */
export const AZURE_REAUTHENTICATE_EVENT = 'azure-auth:reauthenticate';
/** The answer to an accepted re-authentication: `{ expiresAt }` (seconds since the epoch). */
export const AZURE_REAUTHENTICATED_EVENT = 'azure-auth:reauthenticated';
/** Where refusals go, as Nest's WebSocket exception filter names it. */
const EXCEPTION_EVENT = 'exception';

/** How {@link AzureWebSocketAuth.protect} reads tokens. */
export interface AzureWebSocketOptions {
  /**
   * Also accept the token as the `access_token` query parameter of the handshake URL. Default
   * false: URLs end up in access logs and browser history. Prefer socket.io's `auth.token`, or the
   * subprotocols `['access_token', token]` for a browser's `WebSocket`.
   */
  allowQueryToken?: boolean;
}

/** A socket.io server or namespace, as far as this module uses it. */
export interface SocketIoServerLike {
  use(middleware: (socket: SocketIoSocketLike, next: (error?: Error) => void) => void): unknown;
}

/** A socket.io socket, as far as this module uses it. */
export interface SocketIoSocketLike {
  readonly handshake: WebSocketHandshake;
  emit(event: string, ...args: unknown[]): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  disconnect(close?: boolean): unknown;
}

/** A `ws` WebSocketServer (Nest's `WsAdapter`), as far as this module uses it. */
export interface WsServerLike {
  on(event: 'connection', listener: (socket: WsSocketLike, request: WebSocketHandshake) => void): unknown;
}

/** A `ws` WebSocket, as far as this module uses it. */
export interface WsSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  pause(): void;
  resume(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
}

/** What graphql-ws hands its hooks, as far as this module uses it. */
export interface GraphqlWsContextLike {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  readonly extra: unknown;
}

/** The graphql-ws server hooks that authenticate a connection; spread them into the `'graphql-ws'` options. */
export interface AzureGraphqlWsHooks {
  onConnect(context: GraphqlWsContextLike): Promise<boolean>;
  onPing(context: GraphqlWsContextLike, payload?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Gives a refused operation's errors the reason code, as Apollo does over HTTP (`extensions.originalError`). */
  onNext(context: GraphqlWsContextLike, id: string, payload: unknown, args: unknown, result: { errors?: readonly unknown[] }): { errors: SerializedGraphqlError[] } | undefined;
}

/** What Mercurius calls `onConnect` on: its subscription connection, which holds the socket. */
export interface MercuriusConnectionLike {
  readonly socket?: unknown;
}

/** The `connection_init` message, as Mercurius hands it to `onConnect`. */
export interface MercuriusConnectionInit {
  readonly payload?: unknown;
}

/** The Mercurius subscription hook that authenticates a connection; spread it into the `subscription` options. */
export interface AzureMercuriusHooks {
  onConnect(this: MercuriusConnectionLike | void, data: MercuriusConnectionInit): Promise<object | false>;
}

/** What a re-authentication is answered with. */
interface WebSocketAnswer {
  readonly event: string;
  readonly data: object;
}

/** How a connection is told things, whatever the transport. */
interface Connection {
  /** Sends an event; the connection stays. */
  notify(event: string, data: object): void;
  /** Says why, then closes. */
  close(refusal: AzureAuthErrorBody): void;
}

const NO_REQUIREMENTS = Object.freeze({});
/** Longest delay `setTimeout` honours (about 24.8 days); a later expiry is re-armed. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** WebSocket close reasons are limited to 123 bytes (RFC 6455 §5.5). */
const CLOSE_REASON_BYTES = 123;
/** ws 1 = OPEN. */
const OPEN = 1;

/** `4401` / `4403` / `4503`: the HTTP status in the application range of WebSocket close codes (graphql-ws uses 4401 and 4403 alike). */
function closeCode(refusal: AzureAuthErrorBody): number {
  return 4000 + refusal.statusCode;
}

function closeReason(refusal: AzureAuthErrorBody): string {
  let reason = `${refusal.reason}: ${refusal.message}`;
  while (Buffer.byteLength(reason) > CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

function isSocketIo(server: SocketIoServerLike | WsServerLike): server is SocketIoServerLike {
  return typeof (server as SocketIoServerLike).use === 'function';
}

/** The socket of what holds one (graphql-ws' `extra`, Mercurius' connection), if it can be closed. */
function socketIn(holder: unknown): WsSocketLike | undefined {
  const socket = (holder as { socket?: WsSocketLike } | null | undefined)?.socket;
  return socket && typeof socket.close === 'function' ? socket : undefined;
}

/** The token of graphql-ws `connectionParams`: `authorization: 'Bearer <token>'`, or `token`. */
function connectionParamsToken(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  return bareToken(params.authorization ?? params.Authorization ?? params.token);
}

/** A client message that may be a re-authentication, parsed; anything else (most messages) is not parsed at all. */
function reauthenticationMessage(data: unknown): Record<string, unknown> | undefined {
  const text = String(data);
  if (!text.includes(AZURE_REAUTHENTICATE_EVENT)) return undefined;
  try {
    const message: unknown = JSON.parse(text);
    return typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A re-authentication's answer in a graphql-ws pong's payload. */
function pongPayload(answer: WebSocketAnswer): Record<string, unknown> {
  return { type: answer.event, ...answer.data };
}

function socketIoConnection(socket: SocketIoSocketLike): Connection {
  return {
    notify: (event, data) => socket.emit(event, data),
    close: (refusal) => {
      socket.emit(EXCEPTION_EVENT, refusal);
      socket.disconnect();
    },
  };
}

function wsConnection(socket: WsSocketLike): Connection {
  const notify = (event: string, data: object) => {
    if (socket.readyState === OPEN) socket.send(JSON.stringify({ event, data }));
  };
  return {
    notify,
    close: (refusal) => {
      notify(EXCEPTION_EVENT, refusal);
      socket.close(closeCode(refusal), closeReason(refusal));
    },
  };
}

/** graphql-ws clients accept only the protocol's own messages: refusals travel in the close frame. */
function graphqlWsConnection(socket: WsSocketLike): Connection {
  return {
    notify: () => undefined,
    close: (refusal) => socket.close(closeCode(refusal), closeReason(refusal)),
  };
}

/**
 * Authenticates WebSocket connections with the caller's Entra access token: once at connect (a
 * refused connection learns the reason code and description), then keeps the caller on the
 * socket for `AzureAuthGuard`, `@Scopes` / `@AppPermissions` / `@Roles` and `@AzureUser()` in
 * `@SubscribeMessage` handlers, and closes the connection when its token expires (at `exp` plus
 * the clock tolerance) unless the client re-authenticated first with a fresh token of the same
 * caller (`azure-auth:reauthenticate`). Works with socket.io (`IoAdapter`), ws (`WsAdapter`) and
 * GraphQL subscriptions (graphql-ws over Apollo, Mercurius); it imports none of them.
 *
 * @example
 * ```ts
 * @UseGuards(AzureAuthGuard)
 * @WebSocketGateway({ namespace: 'todolist' })
 * export class TodoListGateway implements OnGatewayInit {
 *   constructor(private readonly webSocketAuth: AzureWebSocketAuth) {}
 *
 *   afterInit(server: Namespace) {
 *     this.webSocketAuth.protect(server);
 *   }
 *
 *   @Scopes('Todolist.Read')
 *   @SubscribeMessage('subscribe')
 *   subscribe(@AzureUser('oid') oid: string) { ... }
 * }
 * ```
 */
@Injectable()
export class AzureWebSocketAuth {
  constructor(
    private readonly refusals: AzureAuthRefusals,
    private readonly verifier: AzureTokenVerifier,
  ) {}

  /**
   * Authenticates every connection of a socket.io server or namespace, or of a ws server: call it
   * in the gateway's `afterInit(server)`.
   */
  protect(server: SocketIoServerLike | WsServerLike, options: AzureWebSocketOptions = {}): void {
    const allowQueryToken = options.allowQueryToken === true;
    const ready = loadWsException();
    if (isSocketIo(server)) {
      server.use((socket, next) => {
        void ready.then(() => this.connectSocketIo(socket, allowQueryToken)).then(() => next(), next);
      });
    } else {
      server.on('connection', (socket, request) => this.connectWs(socket, request, allowQueryToken));
    }
  }

  /**
   * graphql-ws hooks: `onConnect` verifies the token of `connectionParams` (`authorization:
   * 'Bearer <token>'` or `token`) and refuses with close code 4401 / 4403 / 4503 and the reason
   * code; `onNext` gives a refused operation's errors the reason (`extensions.originalError`, as
   * Apollo over HTTP); `onPing` takes a re-authentication (`{ type: 'ping', payload: { type:
   * 'azure-auth:reauthenticate', token } }`), answered in the pong's payload (`{ type:
   * 'azure-auth:reauthenticated', expiresAt }`, or `{ type: 'exception', reason, message, ... }`).
   *
   * @example
   * ```ts
   * GraphQLModule.forRootAsync<ApolloDriverConfig>({
   *   driver: ApolloDriver,
   *   imports: [AzureAuthModule.forRoot(azureAuthOptions)],
   *   inject: [AzureWebSocketAuth],
   *   useFactory: (webSocketAuth: AzureWebSocketAuth) => ({
   *     autoSchemaFile: true,
   *     subscriptions: { 'graphql-ws': webSocketAuth.graphqlWs() },
   *   }),
   * })
   * ```
   */
  graphqlWs(): AzureGraphqlWsHooks {
    void loadWsException();
    return {
      onConnect: async (context) => {
        const socket = socketIn(context.extra);
        return socket !== undefined && this.connectGraphqlWs(socket, connectionParamsToken(context.connectionParams));
      },
      onPing: async (context, payload) => {
        const socket = socketIn(context.extra);
        if (!socket || payload?.type !== AZURE_REAUTHENTICATE_EVENT) return;
        // graphql-ws answers a ping with its own payload: the answer takes the token's place there.
        const answerIn = payload as Record<string, unknown>;
        const token = answerIn.token;
        for (const key of Object.keys(answerIn)) delete answerIn[key];
        await this.reauthenticate(socket, { token }, graphqlWsConnection(socket), (answer) => Object.assign(answerIn, pongPayload(answer)));
      },
      onNext: (_context, _id, _payload, _args, result) => {
        const errors = azureAuthGraphqlErrors(result.errors);
        return errors && { ...result, errors };
      },
    };
  }

  /**
   * The Mercurius subscription hook (`@nestjs/mercurius`, graphql-ws' `graphql-transport-ws`
   * protocol): `onConnect` verifies the token of the `connection_init` payload (`authorization:
   * 'Bearer <token>'` or `token`) and refuses with close code 4401 / 4403 / 4503 and the reason
   * code, and gives the connection's subscription resolvers its caller; the connection is closed
   * at its token's expiry. A ping `{ type: 'ping', payload: { type: 'azure-auth:reauthenticate',
   * token } }` re-authenticates: Mercurius answers it with an empty pong, the answer follows in a
   * pong of its own (`{ type: 'azure-auth:reauthenticated', expiresAt }`, or `{ type:
   * 'exception', reason, message, ... }`).
   *
   * @example
   * ```ts
   * GraphQLModule.forRootAsync<MercuriusDriverConfig>({
   *   driver: MercuriusDriver,
   *   imports: [AzureAuthModule.forRoot(azureAuthOptions)],
   *   inject: [AzureWebSocketAuth],
   *   useFactory: (webSocketAuth: AzureWebSocketAuth) => ({
   *     autoSchemaFile: true,
   *     subscription: { ...webSocketAuth.mercurius(), keepAlive: 30_000 },
   *   }),
   * })
   * ```
   */
  mercurius(): AzureMercuriusHooks {
    const webSocketAuth = this;
    return {
      // Mercurius calls onConnect as a method of its connection: the one place where the
      // connection_init payload and the socket it came on meet.
      async onConnect(data) {
        const socket = socketIn(this);
        // A connection authenticates once: a second connection_init, or the gateway's connectionInit
        // extension, would change its caller.
        if (!socket || sessionOf(socket)) return false;
        const params = data?.payload as Readonly<Record<string, unknown>> | undefined;
        if (!(await webSocketAuth.connectGraphqlWs(socket, connectionParamsToken(params)))) return false;
        socket.on('message', (message: unknown) => webSocketAuth.onMercuriusMessage(socket, message));
        return { [MERCURIUS_SUBSCRIPTION_SOCKET]: socket };
      },
    };
  }

  /** A graphql-transport-ws ping that carries a re-authentication, answered in a pong of its own. */
  private onMercuriusMessage(socket: WsSocketLike, data: unknown): void {
    const message = reauthenticationMessage(data);
    const payload = message?.payload as Record<string, unknown> | undefined;
    if (message?.type !== 'ping' || payload?.type !== AZURE_REAUTHENTICATE_EVENT) return;
    void this.reauthenticate(socket, { token: payload.token }, graphqlWsConnection(socket), (answer) => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'pong', payload: pongPayload(answer) }));
    });
  }

  /** Admits a graphql-ws connection (Apollo's or Mercurius'), or closes it with the reason. */
  private async connectGraphqlWs(socket: WsSocketLike, token: string | null): Promise<boolean> {
    const connection = graphqlWsConnection(socket);
    socket.once('close', () => closeSession(socket));
    const session = await this.admit(socket, token, connection.close);
    if (!session) return false;
    // Closed while its token was checked: no session to keep.
    if (socket.readyState !== OPEN) {
      closeSession(socket);
      return false;
    }
    this.watchExpiry(socket, session, connection);
    return true;
  }

  private async connectSocketIo(socket: SocketIoSocketLike, allowQueryToken: boolean): Promise<void> {
    let refused: AzureAuthErrorBody | undefined;
    const session = await this.admit(socket, handshakeToken(socket.handshake, allowQueryToken), (refusal) => (refused = refusal));
    // socket.io hands the error's message and data to the client's connect_error listener.
    if (!session) throw Object.assign(new Error(refused!.message), { data: refused });
    const connection = socketIoConnection(socket);
    this.watchExpiry(socket, session, connection);
    socket.on(AZURE_REAUTHENTICATE_EVENT, (data: unknown) => void this.reauthenticate(socket, data, connection));
    socket.on('disconnect', () => closeSession(socket));
  }

  private connectWs(socket: WsSocketLike, request: WebSocketHandshake, allowQueryToken: boolean): void {
    // No message reaches a handler before the connection is admitted.
    socket.pause();
    const connection = wsConnection(socket);
    socket.once('close', () => closeSession(socket));
    const refuse = (refusal: AzureAuthErrorBody) => {
      connection.close(refusal);
      // The closing handshake needs the client's close frame read.
      socket.resume();
    };
    void this.admit(socket, handshakeToken(request, allowQueryToken), refuse).then((session) => {
      if (!session) return;
      // Closed while its token was checked: no session to keep.
      if (socket.readyState !== OPEN) return closeSession(socket);
      this.watchExpiry(socket, session, connection);
      socket.on('message', (data: unknown) => {
        const message = reauthenticationMessage(data);
        if (message?.event === AZURE_REAUTHENTICATE_EVENT) void this.reauthenticate(socket, message.data, connection);
      });
      socket.resume();
    });
  }

  /**
   * Verifies a connection's token and applies the caller policies; on success opens its session,
   * else hands the refusal to `refuse`. Never rejects.
   */
  private async admit(socket: object, token: string | null, refuse: (refusal: AzureAuthErrorBody) => void): Promise<WebSocketSession | undefined> {
    let principal: AzurePrincipal | undefined;
    try {
      if (token === null) throw AzureAuthErrors.webSocketTokenMissing();
      principal = await this.verifier.verify(token);
      await authorize(principal, NO_REQUIREMENTS);
    } catch (failure) {
      refuse(this.refusal(failure, token, principal));
      return undefined;
    }
    return openSession(socket, token, principal);
  }

  /** Takes a fresh token of the same caller; a refused one leaves the connection as it was. */
  private async reauthenticate(socket: object, data: unknown, connection: Connection, answerIn?: (answer: WebSocketAnswer) => void): Promise<void> {
    const session = sessionOf(socket);
    if (!session) return;
    const token = bareToken((data as { token?: unknown } | null | undefined)?.token);
    let principal: AzurePrincipal | undefined;
    let answer: WebSocketAnswer;
    try {
      if (token === null) throw AzureAuthErrors.webSocketTokenMissing();
      principal = await this.verifier.verify(token);
      await authorize(principal, NO_REQUIREMENTS);
      const current = session.principal;
      if (principal.tid !== current.tid || principal.oid !== current.oid || principal.appOnly !== current.appOnly) throw AzureAuthErrors.callerChanged();
      answer = { event: AZURE_REAUTHENTICATED_EVENT, data: { expiresAt: principal.expiresAt } };
    } catch (failure) {
      answer = { event: EXCEPTION_EVENT, data: this.refusal(failure, token, principal) };
    }
    // Closed (or expired) while the token was checked: nothing to renew, no one to answer.
    if (sessionOf(socket) !== session) return;
    if (answer.event === AZURE_REAUTHENTICATED_EVENT) {
      session.headers.authorization = `Bearer ${token}`;
      session.principal = principal!;
      this.watchExpiry(socket, session, connection);
    }
    if (answerIn) answerIn(answer);
    else connection.notify(answer.event, answer.data);
  }

  /** Closes the connection at its token's `exp` plus the authority's clock tolerance. */
  private watchExpiry(socket: object, session: WebSocketSession, connection: Connection): void {
    clearTimeout(session.expiry);
    const { principal } = session;
    const closesAt = (principal.expiresAt + (authorityOf(principal)?.clockToleranceSeconds ?? 0)) * 1000;
    const delay = Math.max(0, closesAt - Date.now());
    session.expiry = setTimeout(() => {
      if (sessionOf(socket) !== session) return;
      if (delay > LONGEST_TIMER_MS) return this.watchExpiry(socket, session, connection);
      const secondsAgo = Math.max(0, Math.floor(Date.now() / 1000) - principal.expiresAt);
      closeSession(socket);
      connection.close(this.refusal(AzureAuthErrors.expired(secondsAgo), session.headers.authorization.slice(7), principal));
    }, Math.min(delay, LONGEST_TIMER_MS));
    session.expiry.unref?.();
  }

  /** Logs the refusal and calls `onAuthFailure`, as the guards do; the body is what the client reads. */
  private refusal(failure: unknown, token: string | null, verified?: AzurePrincipal): AzureAuthErrorBody {
    return this.refusals.refuse(failure, token, verified).exception.getResponse() as AzureAuthErrorBody;
  }
}
