import type { DynamicModule, INestApplication } from '@nestjs/common';
import { AZURE_REAUTHENTICATE_EVENT, AzureAuthModule } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import type WebSocket from 'ws';
import { GraphqlWsTestClient } from './graphql-subscriptions-app.js';
import { call, emulatorOptions } from './test-app.js';
import { expOf, pastExpiry } from './websocket-app.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

/**
 * Sends a re-authentication ping and returns the payload of the pong that answers it (Mercurius
 * answers every ping with an empty pong of its own first).
 */
async function reauthenticate(client: GraphqlWsTestClient, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  const socket: WebSocket = await client.connected;
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as { type?: string; payload?: Record<string, unknown> };
      if (message.type !== 'pong' || !message.payload) return;
      socket.off('message', onMessage);
      resolve(message.payload);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ type: 'ping', payload }));
  });
}

/** The errors of a refused operation: Apollo sends them in a result, Mercurius in an error message (the iterator rejects). */
async function errorsOf(client: GraphqlWsTestClient, query: string): Promise<any[]> {
  return client.first(query).then(
    (result) => result.errors ?? [],
    (errors: any[]) => errors,
  );
}

/**
 * The one table both GraphQL drivers' subscriptions pass, with a real graphql-ws client against
 * the emulator: `start` brings up the driver's app with `AzureWebSocketAuth` wired as the README says.
 */
export function describeGraphqlSubscriptions(driver: string, start: (auth: DynamicModule) => Promise<{ app: INestApplication; url: string }>): void {
  describe(`GraphQL subscriptions over graphql-ws (${driver})`, () => {
    let entra: EntraEmulator;
    let app: INestApplication;
    let url: string;
    const clients: GraphqlWsTestClient[] = [];

    const connect = (connectionParams?: Record<string, unknown>) => {
      const client = new GraphqlWsTestClient(url, connectionParams);
      clients.push(client);
      return client;
    };
    const readToken = (extra: Parameters<EntraEmulator['mintAccessToken']>[0] = {}) => entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: ALICE, ...extra });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    beforeAll(async () => {
      entra = await EntraEmulator.start();
      ({ app, url } = await start(AzureAuthModule.forRoot(emulatorOptions(entra, { clockToleranceSeconds: 0 }))));
    });
    afterEach(() => {
      for (const client of clients.splice(0)) client.dispose();
    });
    afterAll(async () => {
      await app?.close();
      await entra?.stop();
    });

    // Mercurius copies the connection_init payload into the upgrade request's headers: `{ token }`
    // is what only this module's hook reads.
    it.each([
      ['{ authorization: "Bearer …" }', (token: string) => bearer(token)],
      ['{ token }', (token: string) => ({ token })],
    ])('admits a connection with connectionParams %s; @AzureUser() fills the subscription resolver', async (_name, params) => {
      const client = connect(params(readToken()));
      expect(await client.first('subscription { whoami { oid } }')).toEqual({ data: { whoami: { oid: ALICE } } });
    });

    it('delivers to a @Scopes subscription what its owner adds over HTTP, and nothing of another user', async () => {
      const client = connect({ token: readToken() });
      const iterator = client.client.iterate<any>({ query: 'subscription { todoAdded { title owner } }' })[Symbol.asyncIterator]();
      const first = iterator.next();
      // The subscription is in place once the server answered another operation on the same connection.
      expect(await client.first('subscription { whoami { oid } }')).toEqual({ data: { whoami: { oid: ALICE } } });
      const mutation = (title: string, oid: string) =>
        call(`${url}/graphql`, {
          method: 'POST',
          token: entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'], oid }),
          body: { query: `mutation { addTodo(title: "${title}") { title owner } }` },
        });
      expect((await mutation('of bob', BOB)).body).toEqual({ data: { addTodo: { title: 'of bob', owner: BOB } } });
      expect((await mutation('of alice', ALICE)).body).toEqual({ data: { addTodo: { title: 'of alice', owner: ALICE } } });
      expect((await first).value).toEqual({ data: { todoAdded: { title: 'of alice', owner: ALICE } } });
      void iterator.return?.();
    });

    it.each([
      ['no token', undefined, 'token_missing'],
      ['a bad token', { authorization: 'Bearer junk' }, 'malformed_token'],
    ])('refuses a connection with %s: close code 4401 and the reason', async (_name, params, reason) => {
      const closed = await connect(params).closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason.startsWith(`${reason}: `)).toBe(true);
    });

    it('refuses an expired token with 4401 token_expired', async () => {
      const closed = await connect(bearer(readToken({ expiresInSeconds: -60 }))).closed;
      expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/^token_expired: Token expired \d+ seconds ago$/) });
    });

    it('refuses a subscription the token lacks the scope for; the connection stays', async () => {
      const client = connect(bearer(entra.mintAccessToken({ scopes: ['User.Read'], oid: ALICE })));
      const errors = await errorsOf(client, 'subscription { whoami { oid } }');
      expect(errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', originalError: { statusCode: 403, reason: 'insufficient_permissions', required: ['Todolist.Read'] } } });
      expect(await client.first('query { ping }')).toEqual({ data: { ping: 'pong' } });
    });

    it('closes the connection at its token expiry with 4401 token_expired', async () => {
      const client = connect(bearer(readToken({ expiresInSeconds: 2 })));
      await client.connected;
      expect(await client.closed).toEqual({ code: 4401, reason: expect.stringMatching(/^token_expired: /) });
    });

    it('re-authenticates on a ping with a fresh token of the same user, answered in a pong without the token', async () => {
      const first = readToken({ expiresInSeconds: 3 });
      const client = connect(bearer(first));
      const fresh = readToken({ expiresInSeconds: 3600 });
      const pong = await reauthenticate(client, { type: AZURE_REAUTHENTICATE_EVENT, token: fresh });
      expect(pong).toEqual({ type: 'azure-auth:reauthenticated', expiresAt: expOf(fresh) });
      await pastExpiry(expOf(first));
      expect(await client.first('subscription { whoami { oid expiresAt } }')).toEqual({ data: { whoami: { oid: ALICE, expiresAt: expOf(fresh) } } });
    }, 20_000);

    it("refuses another user's token on re-authentication, and still closes at the first token's expiry", async () => {
      const client = connect(bearer(readToken({ expiresInSeconds: 3 })));
      const pong = await reauthenticate(client, { type: AZURE_REAUTHENTICATE_EVENT, token: readToken({ oid: BOB }) });
      expect(pong).toMatchObject({ type: 'exception', statusCode: 401, reason: 'caller_changed' });
      expect(JSON.stringify(pong)).not.toContain('eyJ');
      expect(await client.first('subscription { whoami { oid } }')).toEqual({ data: { whoami: { oid: ALICE } } });
      expect(await client.closed).toEqual({ code: 4401, reason: expect.stringMatching(/^token_expired: /) });
    }, 20_000);

    it("closes a connection that sends a second connection_init, another user's token in it", async () => {
      const client = connect(bearer(readToken()));
      expect(await client.first('subscription { whoami { oid } }')).toEqual({ data: { whoami: { oid: ALICE } } });
      (await client.connected).send(JSON.stringify({ type: 'connection_init', payload: bearer(readToken({ oid: BOB })) }));
      expect((await client.closed).code).not.toBe(1000);
    });

    it('keeps each of many simultaneous connections with its own caller', async () => {
      const oids = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      const answers = await Promise.all(oids.map((oid) => connect(bearer(readToken({ oid }))).first('subscription { whoami { oid } }')));
      expect(answers.map((answer) => answer.data?.whoami.oid)).toEqual(oids);
    });
  });
}
