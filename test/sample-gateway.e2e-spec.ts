import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { io, type Socket } from 'socket.io-client';
import { AppModule } from '../src/app.module.js';
import { call, emulatorOptions } from './support/test-app.js';

const OWNER = '33333333-3333-4333-8333-333333333333';
const OTHER = '44444444-4444-4444-8444-444444444444';

describe('Sample app: live TodoList over socket.io (namespace /todolist)', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  const sockets: Socket[] = [];

  const connect = (token: string) => {
    const socket = io(`${url}/todolist`, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    return new Promise<Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  };
  const answer = <T>(socket: Socket, event: string) => new Promise<T>((resolve) => socket.once(event, resolve));
  const add = (oid: string, description: string) =>
    call(`${url}/api/todolist`, { method: 'POST', token: entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'], oid }), body: { description } });

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ auth: emulatorOptions(entra) })] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('sends a subscriber with scope Todolist.Read the items its owner creates over HTTP, and no one else’s', async () => {
    expect((await add(OWNER, 'before')).status).toBe(201);
    const subscriber = await connect(entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: OWNER }));
    const subscribed = answer<{ items: Array<{ description: string }> }>(subscriber, 'subscribed');
    subscriber.emit('subscribe');
    expect((await subscribed).items.map((item) => item.description)).toEqual(['before']);
    const received: Array<{ description: string; owner: string }> = [];
    subscriber.on('todoAdded', (item) => received.push(item));
    const next = answer(subscriber, 'todoAdded');
    expect((await add(OTHER, 'not yours')).status).toBe(201);
    expect((await add(OWNER, 'live')).status).toBe(201);
    await next;
    expect(received).toEqual([expect.objectContaining({ description: 'live', owner: OWNER })]);
  });

  it('refuses the subscribe of a token without the scope, with the reason; the connection stays', async () => {
    const socket = await connect(entra.mintAccessToken({ scopes: ['User.Read'], oid: OWNER }));
    const refused = answer(socket, 'exception');
    socket.emit('subscribe');
    expect(await refused).toMatchObject({ statusCode: 403, reason: 'insufficient_permissions', required: ['Todolist.Read', 'Todolist.ReadWrite'] });
    expect(socket.connected).toBe(true);
  });

  it('refuses a connection without a token, saying why', async () => {
    const error = (await connect(undefined as never).catch((failure: unknown) => failure)) as Error & { data?: { reason?: string } };
    expect(error.data).toMatchObject({ statusCode: 401, reason: 'token_missing' });
  });
});
