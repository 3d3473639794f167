import type { INestApplication } from '@nestjs/common';
import { AzureAuthModule, type AzureWebSocketAuth, type MercuriusConnectionInit, type MercuriusConnectionLike } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { startMercuriusSubscriptionsApp } from './support/graphql-mercurius-subscriptions-app.js';
import { GraphqlWsTestClient } from './support/graphql-subscriptions-app.js';
import { describeGraphqlSubscriptions } from './support/graphql-subscriptions-table.js';
import { emulatorOptions } from './support/test-app.js';

describeGraphqlSubscriptions('Mercurius, Fastify', startMercuriusSubscriptionsApp);

/** The README's way to add checks of one's own to the hook: call it with Mercurius' `this`. */
function composedSubscription(webSocketAuth: AzureWebSocketAuth) {
  const { onConnect } = webSocketAuth.mercurius();
  return {
    async onConnect(this: MercuriusConnectionLike, data: MercuriusConnectionInit) {
      const admitted = await onConnect.call(this, data);
      return admitted && { ...admitted, tenantName: 'contoso' };
    },
  };
}

describe("Mercurius' connectionInit extension (gateway to service), with the hook composed as the README shows", () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let client: GraphqlWsTestClient;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    const started = await startMercuriusSubscriptionsApp(AzureAuthModule.forRoot(emulatorOptions(entra)), composedSubscription);
    app = started.app;
    client = new GraphqlWsTestClient(started.url, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: 'alice' }) });
  });
  afterAll(async () => {
    client?.dispose();
    await app?.close();
    await entra?.stop();
  });

  it("refuses a subscription whose extension carries another user's token; the connection keeps its caller", async () => {
    const socket = await client.connected;
    const answer = new Promise<{ type?: string }>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: string; type?: string };
        if (message.id === 'as-bob') resolve(message);
      }),
    );
    const bob = entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: 'bob' });
    socket.send(
      JSON.stringify({
        id: 'as-bob',
        type: 'subscribe',
        payload: { query: 'subscription { whoami { oid } }' },
        extensions: [{ type: 'connectionInit', payload: { authorization: `Bearer ${bob}` } }],
      }),
    );
    expect(await answer).toMatchObject({ type: 'error' });
    expect(await client.first('subscription { whoami { oid } }')).toEqual({ data: { whoami: { oid: 'alice' } } });
  });
});
