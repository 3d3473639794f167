import { Module, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayInit } from '@nestjs/websockets';
import { AppPermissions, AzureAuthGuard, AzureUser, AzureWebSocketAuth, Public, Roles, Scopes, type AzurePrincipal, type AzureWebSocketOptions } from 'nestjs-azure-auth';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

export type WebSocketKind = 'socket.io' | 'ws';
export const WEBSOCKET_KINDS: WebSocketKind[] = ['socket.io', 'ws'];

/** How the probe gateways protect their server; tests set it before the app starts. */
export const probeGatewayOptions: AzureWebSocketOptions = {};

/** Messages that exercise every decorator on a gateway guarded per class. */
@UseGuards(AzureAuthGuard)
class ProbeMessages implements OnGatewayInit {
  constructor(private readonly webSocketAuth: AzureWebSocketAuth) {}

  afterInit(server: Parameters<AzureWebSocketAuth['protect']>[0]): void {
    this.webSocketAuth.protect(server, probeGatewayOptions);
  }

  @SubscribeMessage('whoami')
  whoami(@AzureUser() user: AzurePrincipal, @AzureUser('oid') oid: string, @MessageBody() body: unknown) {
    return { event: 'whoami', data: { oid: user.oid, oidField: oid, tid: user.tid, scopes: user.scopes, expiresAt: user.expiresAt, echo: body } };
  }

  @Scopes('Todolist.ReadWrite')
  @AppPermissions('Todolist.ReadWrite.All')
  @SubscribeMessage('write')
  write(@AzureUser('oid') oid: string) {
    return { event: 'written', data: { by: oid } };
  }

  @Roles('TaskAdmin')
  @SubscribeMessage('admin')
  admin() {
    return { event: 'admin', data: { admin: true } };
  }

  @Public()
  @SubscribeMessage('ping')
  ping(@ConnectedSocket() _socket: unknown) {
    return { event: 'pong', data: {} };
  }
}

@WebSocketGateway({ namespace: 'probe' })
export class SocketIoProbeGateway extends ProbeMessages {}

@WebSocketGateway({ path: '/probe' })
export class WsProbeGateway extends ProbeMessages {}

/** Waits until the clock is past `exp` (a point in time, not a measured duration). */
export async function pastExpiry(exp: number): Promise<void> {
  while (Date.now() <= exp * 1000 + 500) await new Promise((resolve) => setTimeout(resolve, 250));
}

/** The `exp` claim of a token, read without verifying it. */
export const expOf = (token: string): number => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;

/** Starts an app whose gateways use the socket.io (Nest's default) or the ws adapter, on loopback. */
export async function startWebSocketApp(kind: WebSocketKind, metadata: ModuleMetadata): Promise<{ app: INestApplication; url: string }> {
  @Module(metadata)
  class WebSocketTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [WebSocketTestModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  if (kind === 'ws') app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url };
}

/** How a client hands over its token. */
export type TokenPlacement = 'auth' | 'header' | 'subprotocol' | 'query';

/** What ended a connection, as the client saw it. */
export interface Closed {
  /** ws: the close code (4401, 4403...); socket.io: undefined. */
  code?: number;
  /** ws: the close reason; socket.io: the disconnect reason. */
  reason: string;
}

export interface ConnectRefusal {
  /** ws: close code; socket.io: undefined. */
  code?: number;
  message: string;
  /** The refusal body (`statusCode`, `reason`, `message`...). */
  data?: { statusCode: number; reason: string; message: string };
}

/** A real client (socket.io-client or ws) with the few things the tests need. */
export class TestClient {
  private readonly received: Array<{ event: string; data: any }> = [];
  private readonly waiters: Array<{ event: string; resolve: (data: any) => void }> = [];
  readonly closed: Promise<Closed>;
  /** Resolves once admitted, rejects with the refusal. */
  readonly admitted: Promise<void>;
  private readonly sendRaw: (event: string, data: unknown) => void;
  readonly close: () => void;

  constructor(kind: WebSocketKind, url: string, token: string | undefined, placement: TokenPlacement = kind === 'socket.io' ? 'auth' : 'header') {
    if (kind === 'socket.io') {
      const query = token !== undefined && placement === 'query' ? { access_token: token } : undefined;
      const socket: Socket = io(`${url}/probe`, {
        transports: ['websocket'],
        reconnection: false,
        auth: token !== undefined && placement === 'auth' ? { token } : {},
        extraHeaders: token !== undefined && placement === 'header' ? { authorization: `Bearer ${token}` } : undefined,
        query,
      });
      socket.onAny((event: string, data: unknown) => this.deliver(event, data));
      this.admitted = new Promise((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (error: Error & { data?: ConnectRefusal['data'] }) => reject({ message: error.message, data: error.data } satisfies ConnectRefusal));
      });
      this.closed = new Promise((resolve) => socket.once('disconnect', (reason: string) => resolve({ reason })));
      this.sendRaw = (event, data) => socket.emit(event, data);
      this.close = () => socket.disconnect();
    } else {
      const target = `${url.replace(/^http/, 'ws')}/probe${token !== undefined && placement === 'query' ? `?access_token=${token}` : ''}`;
      const headers = token !== undefined && placement === 'header' ? { authorization: `Bearer ${token}` } : undefined;
      const protocols = token !== undefined && placement === 'subprotocol' ? ['access_token', token] : [];
      const socket = new WebSocket(target, protocols, { headers });
      socket.on('message', (raw) => {
        const { event, data } = JSON.parse(String(raw)) as { event: string; data: unknown };
        this.deliver(event, data);
      });
      this.closed = new Promise((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })));
      // ws: the server accepts the upgrade, then closes a refused connection; being admitted is answering a public ping.
      this.admitted = new Promise((resolve, reject) => {
        socket.once('open', () => {
          this.next('pong').then(() => resolve(), reject);
          socket.send(JSON.stringify({ event: 'ping', data: {} }));
        });
        void this.closed.then(async (closed) => {
          const exception = this.received.find((message) => message.event === 'exception');
          reject({ code: closed.code, message: closed.reason, data: exception?.data } satisfies ConnectRefusal);
        });
        socket.once('error', (error) => reject({ message: error.message }));
      });
      this.sendRaw = (event, data) => socket.send(JSON.stringify({ event, data }));
      this.close = () => socket.close();
    }
    this.admitted.catch(() => undefined);
  }

  private deliver(event: string, data: unknown): void {
    const waiter = this.waiters.findIndex((candidate) => candidate.event === event);
    if (waiter === -1) this.received.push({ event, data });
    else this.waiters.splice(waiter, 1)[0].resolve(data);
  }

  send(event: string, data: unknown = {}): void {
    this.sendRaw(event, data);
  }

  /** The next message of this event (one already received first). */
  next<T = any>(event: string): Promise<T> {
    const index = this.received.findIndex((message) => message.event === event);
    if (index !== -1) return Promise.resolve(this.received.splice(index, 1)[0].data as T);
    return new Promise((resolve) => this.waiters.push({ event, resolve }));
  }

  /** Sends a message and waits for the answer event. */
  async ask<T = any>(event: string, answer: string, data: unknown = {}): Promise<T> {
    const next = this.next<T>(answer);
    this.send(event, data);
    return next;
  }
}
