import type { INestApplication } from '@nestjs/common';
import { AZURE_REAUTHENTICATE_EVENT, AZURE_REAUTHENTICATED_EVENT, AzureAuthModule } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { emulatorOptions } from './support/test-app.js';
import {
  expOf,
  pastExpiry,
  probeGatewayOptions,
  SocketIoProbeGateway,
  startWebSocketApp,
  TestClient,
  WEBSOCKET_KINDS,
  WsProbeGateway,
  type ConnectRefusal,
  type WebSocketKind,
} from './support/websocket-app.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

async function refusalOf(client: TestClient): Promise<ConnectRefusal> {
  try {
    await client.admitted;
  } catch (refusal) {
    return refusal as ConnectRefusal;
  }
  throw new Error('the connection was admitted');
}


describe.each(WEBSOCKET_KINDS)('WebSocket gateway over %s', (kind: WebSocketKind) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  const clients: TestClient[] = [];

  const start = (allowQueryToken = false) => {
    probeGatewayOptions.allowQueryToken = allowQueryToken;
    return startWebSocketApp(kind, {
      // No clock tolerance: a short-lived token's connection closes at its exp.
      imports: [AzureAuthModule.forRoot(emulatorOptions(entra, { clockToleranceSeconds: 0 }))],
      providers: [kind === 'ws' ? WsProbeGateway : SocketIoProbeGateway],
    });
  };
  const connect = (token?: string, placement?: ConstructorParameters<typeof TestClient>[3], target = url) => {
    const client = new TestClient(kind, target, token, placement);
    clients.push(client);
    return client;
  };
  const readToken = (extra: Parameters<EntraEmulator['mintAccessToken']>[0] = {}) => entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: ALICE, ...extra });

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await start());
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('admits a connection with a good token; @AzureUser() gives the caller to @SubscribeMessage handlers', async () => {
    const client = connect(readToken());
    await client.admitted;
    const me = await client.ask('whoami', 'whoami', { hello: 1 });
    expect(me).toMatchObject({ oid: ALICE, oidField: ALICE, tid: entra.tenantId, scopes: ['Todolist.Read'], echo: { hello: 1 } });
  });

  it(`reads the token from ${kind === 'socket.io' ? 'the Authorization header too' : 'the subprotocols ["access_token", token] too'}`, async () => {
    const client = connect(readToken(), kind === 'socket.io' ? 'header' : 'subprotocol');
    await client.admitted;
    expect((await client.ask('whoami', 'whoami')).oid).toBe(ALICE);
  });

  it('refuses a connection without a token with a readable reason', async () => {
    const refusal = await refusalOf(connect(undefined));
    expect(refusal.data).toMatchObject({ statusCode: 401, reason: 'token_missing', message: 'No access token in the WebSocket handshake' });
    if (kind === 'ws') {
      expect(refusal.code).toBe(4401);
      expect(refusal.message).toMatch(/^token_missing: /);
    } else {
      expect(refusal.message).toBe('No access token in the WebSocket handshake');
    }
  });

  it('refuses a bad token with its reason', async () => {
    const refusal = await refusalOf(connect('junk'));
    expect(refusal.data).toMatchObject({ statusCode: 401, reason: 'malformed_token' });
    if (kind === 'ws') expect(refusal.code).toBe(4401);
  });

  it('refuses an expired token with token_expired', async () => {
    const refusal = await refusalOf(connect(readToken({ expiresInSeconds: -60 })));
    expect(refusal.data).toMatchObject({ statusCode: 401, reason: 'token_expired' });
    if (kind === 'ws') expect(refusal.message).toMatch(/^token_expired: Token expired \d+ seconds ago$/);
  });

  it('ignores a query-parameter token unless allowQueryToken is set', async () => {
    const refusal = await refusalOf(connect(readToken(), 'query'));
    expect(refusal.data).toMatchObject({ reason: 'token_missing' });
    const other = await start(true);
    try {
      const client = connect(readToken(), 'query', other.url);
      await client.admitted;
      expect((await client.ask('whoami', 'whoami')).oid).toBe(ALICE);
      client.close();
    } finally {
      await other.app.close();
      probeGatewayOptions.allowQueryToken = false;
    }
  });

  it('refuses a message the caller lacks the scope for with an exception event; the connection stays', async () => {
    const client = connect(readToken());
    await client.admitted;
    const exception = await client.ask('write', 'exception');
    expect(exception).toMatchObject({ statusCode: 403, reason: 'insufficient_permissions', required: ['Todolist.ReadWrite'] });
    expect((await client.ask('whoami', 'whoami')).oid).toBe(ALICE);
    expect(await client.ask('admin', 'exception')).toMatchObject({ statusCode: 403, reason: 'insufficient_permissions', required: ['TaskAdmin'] });
    expect(await client.ask('ping', 'pong')).toEqual({});
  });

  it('answers a message the token allows: @Scopes for users, @AppPermissions for apps', async () => {
    const user = connect(readToken({ scopes: ['Todolist.ReadWrite'] }));
    const daemon = connect(entra.mintAccessToken({ kind: 'app', roles: ['Todolist.ReadWrite.All'], oid: BOB }));
    await Promise.all([user.admitted, daemon.admitted]);
    expect(await user.ask('write', 'written')).toEqual({ by: ALICE });
    expect(await daemon.ask('write', 'written')).toEqual({ by: BOB });
  });

  it('closes a connection when its token expires, saying why', async () => {
    const client = connect(readToken({ expiresInSeconds: 2 }));
    await client.admitted;
    const closed = await client.closed;
    const exception = await client.next('exception');
    expect(exception).toMatchObject({ statusCode: 401, reason: 'token_expired' });
    if (kind === 'ws') {
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^token_expired: /);
    } else {
      expect(closed.reason).toBe('io server disconnect');
    }
  });

  it('keeps a connection open past its first token when the client re-authenticates with a fresh token of the same user', async () => {
    const first = readToken({ expiresInSeconds: 3 });
    const client = connect(first);
    await client.admitted;
    const fresh = readToken({ expiresInSeconds: 3600 });
    const answer = await client.ask(AZURE_REAUTHENTICATE_EVENT, AZURE_REAUTHENTICATED_EVENT, { token: fresh });
    const exp = expOf(fresh);
    expect(answer).toEqual({ expiresAt: exp });
    await pastExpiry(expOf(first));
    // Past the first token's exp: still open, messages still verified, with the fresh token's caller.
    const me = await client.ask('whoami', 'whoami');
    expect(me).toMatchObject({ oid: ALICE, expiresAt: exp });
  }, 20_000);

  it("refuses another user's token on re-authentication, keeps the connection, and still closes it at the first token's expiry", async () => {
    const client = connect(readToken({ expiresInSeconds: 3 }));
    await client.admitted;
    const refusal = await client.ask(AZURE_REAUTHENTICATE_EVENT, 'exception', { token: readToken({ oid: BOB }) });
    expect(refusal).toMatchObject({ statusCode: 401, reason: 'caller_changed' });
    expect(await client.ask(AZURE_REAUTHENTICATE_EVENT, 'exception', { token: 'junk' })).toMatchObject({ reason: 'malformed_token' });
    expect((await client.ask('whoami', 'whoami')).oid).toBe(ALICE);
    await client.closed;
    expect(await client.next('exception')).toMatchObject({ reason: 'token_expired' });
  }, 20_000);

  it('answers hostile re-authentication messages with a refusal, and goes on', async () => {
    const client = connect(readToken());
    await client.admitted;
    for (const data of ['a string', null, 42, { token: 7 }, { token: 'two words' }]) {
      expect(await client.ask(AZURE_REAUTHENTICATE_EVENT, 'exception', data)).toMatchObject({ statusCode: 401, reason: 'token_missing' });
    }
    expect(await client.ask(AZURE_REAUTHENTICATE_EVENT, 'exception', { token: readToken({ expiresInSeconds: -60 }) })).toMatchObject({ reason: 'token_expired' });
    expect((await client.ask('whoami', 'whoami')).oid).toBe(ALICE);
  });

  it('keeps each of many simultaneous connections with its own caller', async () => {
    const oids = Array.from({ length: 25 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const many = oids.map((oid) => connect(readToken({ oid })));
    await Promise.all(many.map((client) => client.admitted));
    const answers = await Promise.all(many.map((client) => client.ask('whoami', 'whoami')));
    expect(answers.map((answer) => answer.oid)).toEqual(oids);
  });
});
