import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { bindPrincipal, getRequestOf, getResponseOf, principalOf } from '../guards/execution-context.js';
import { createPrincipal, type AzurePrincipal } from '../token/azure-principal.js';
import { closeSession, MERCURIUS_SUBSCRIPTION_SOCKET, openSession, sessionOf } from './websocket-session.js';

const TID = '11111111-2222-4333-8444-555555555555';

function principal(oid: string): AzurePrincipal {
  return createPrincipal(
    { aud: TID, iss: `https://login.microsoftonline.com/${TID}/v2.0`, exp: 4_000_000_000, sub: oid, oid, scp: 'Todolist.Read' },
    TID,
    '2.0',
    resolveAzureAuthOptions({ tenantId: TID, clientId: TID }),
  );
}

function message(client: object, type: 'ws' | 'graphql' = 'ws', graphqlContext?: object): ExecutionContextHost {
  const context = new ExecutionContextHost(type === 'ws' ? [client, { hello: 1 }, 'whoami'] : [{}, {}, graphqlContext, {}]);
  context.setType(type);
  return context;
}

describe('WebSocket sessions, as the guard and @AzureUser() see them', () => {
  it('give each message of an admitted connection its token and caller, in an object of its own', () => {
    const client = {};
    const alice = principal('alice');
    openSession(client, 'the.token.value', alice);
    const first = getRequestOf(message(client));
    const second = getRequestOf(message(client));
    expect(first).toEqual({ headers: { authorization: 'Bearer the.token.value' }, user: alice });
    expect(first).not.toBe(second);
    closeSession(client);
    expect(sessionOf(client)).toBeUndefined();
  });

  it('give a socket no connection was admitted for an empty request (no token), and no response to set headers on', () => {
    expect(getRequestOf(message({}))).toEqual({});
    expect(getResponseOf(message({}))).toBeUndefined();
  });

  it("give @AzureUser() the connection's current caller: a guard's admit or refusal of one message binds nothing per client", () => {
    const client = {};
    const first = principal('alice');
    const session = openSession(client, 'first.token.value', first);
    const refused = message(client);
    bindPrincipal(refused, getRequestOf(refused), undefined);
    expect(principalOf(message(client))).toBe(first);
    const admitted = message(client);
    bindPrincipal(admitted, getRequestOf(admitted), first);
    // A re-authentication: the next message reads the new token and caller, not what an earlier message was admitted with.
    const fresh = principal('alice');
    session.principal = fresh;
    session.headers.authorization = 'Bearer fresh.token.value';
    expect(principalOf(message(client))).toBe(fresh);
    expect(getRequestOf(message(client))?.headers).toEqual({ authorization: 'Bearer fresh.token.value' });
  });

  it("give a graphql-ws subscription its connection's token (Apollo passes the graphql-ws context as req)", () => {
    const socket = {};
    const alice = principal('alice');
    openSession(socket, 'the.token.value', alice);
    const graphqlWsContext = { connectionInitReceived: true, connectionParams: {}, extra: { socket } };
    expect(getRequestOf(message({}, 'graphql', { req: graphqlWsContext }))).toEqual({ headers: { authorization: 'Bearer the.token.value' }, user: alice });
    expect(getRequestOf(message({}, 'graphql', { req: { ...graphqlWsContext, extra: { socket: {} } } }))).toEqual({});
  });

  it("give a Mercurius subscription its connection's token, not the headers Mercurius copied from connection_init", () => {
    const socket = {};
    const alice = principal('alice');
    openSession(socket, 'the.token.value', alice);
    const copied = { headers: { authorization: 'Bearer first.payload.token' } };
    const mercuriusContext = { request: copied, reply: { request: copied }, [MERCURIUS_SUBSCRIPTION_SOCKET]: socket };
    expect(getRequestOf(message({}, 'graphql', mercuriusContext))).toEqual({ headers: { authorization: 'Bearer the.token.value' }, user: alice });
    closeSession(socket);
    expect(getRequestOf(message({}, 'graphql', mercuriusContext))).toEqual({});
  });
});
