import { Injectable, type ExecutionContext, type LoggerService, type INestApplicationContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { AzureAuthModule } from '../azure-auth.module.js';
import { Public } from '../decorators/public.decorator.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { AzureAuthException } from '../errors/azure-auth.exception.js';
import type { AzureAuthErrorBody } from '../errors/www-authenticate.js';
import { EntraEmulator } from '../testing/index.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureAuthGuard } from './azure-auth.guard.js';
import type { TransportObject } from './execution-context.js';

// Unexpected refusals are logged as errors; the assertions say what happened, so the output stays quiet.
const silent: LoggerService = { log() {}, error() {}, warn() {} };

class ProbeController {
  @Scopes('Todolist.Read')
  read() {}

  @Public()
  open() {}
}

/** A socket client as a WebSocket gateway sees it: the HTTP upgrade request sits under `handshake`. */
interface SocketClient {
  handshake: TransportObject & { headers: Record<string, string> };
}

/** The documented way to reach another transport: override getRequest. */
@Injectable()
class SocketAzureAuthGuard extends AzureAuthGuard {
  protected override getRequest(context: ExecutionContext): TransportObject | undefined {
    return context.switchToWs().getClient<SocketClient>().handshake;
  }
}

function expressResponse() {
  const headers: Record<string, string> = {};
  return {
    headers,
    headersSent: false,
    setHeader(name: string, value: string) {
      headers[name] = value;
    },
  };
}

type Route = keyof ProbeController;

describe('AzureAuthGuard', () => {
  let entra: EntraEmulator;
  let moduleRef: INestApplicationContext;
  let guard: AzureAuthGuard;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    moduleRef = await Test.createTestingModule({
      imports: [
        AzureAuthModule.forRoot({ tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost, warmUp: false }),
      ],
      providers: [SocketAzureAuthGuard],
    }).setLogger(silent).compile();
    guard = moduleRef.get(AzureAuthGuard);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await entra?.stop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const readToken = () => entra.mintAccessToken({ scopes: ['Todolist.Read'] });

  function http(route: Route, headers: Record<string, string> = {}) {
    const request: TransportObject = { headers };
    const response = expressResponse();
    const context = new ExecutionContextHost([request, response, () => undefined], ProbeController, ProbeController.prototype[route]);
    return { request, response, context };
  }

  function graphql(route: Route, resolverContext: unknown): ExecutionContextHost {
    const context = new ExecutionContextHost([{}, {}, resolverContext, { fieldName: route }], ProbeController, ProbeController.prototype[route]);
    context.setType('graphql');
    return context;
  }

  async function refusal(activation: boolean | Promise<boolean>) {
    const error = await Promise.resolve(activation).then(
      () => {
        throw new Error('expected a refusal, the caller was admitted');
      },
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(AzureAuthException);
    const exception = error as AzureAuthException;
    return { status: exception.getStatus(), body: exception.getResponse() as AzureAuthErrorBody };
  }

  describe('@Public', () => {
    it('skips authentication: no token, a junk token, no request at all', async () => {
      const before = entra.requestCount();
      const noToken = http('open');
      expect(await guard.canActivate(noToken.context)).toBe(true);
      expect(noToken.request.user).toBeUndefined();
      expect(await guard.canActivate(http('open', { authorization: 'Bearer not.a.token' }).context)).toBe(true);
      expect(await guard.canActivate(graphql('open', undefined))).toBe(true);
      // nothing was verified, so the authority was not asked for keys either
      expect(entra.requestCount()).toBe(before);
      expect(noToken.response.headers).toEqual({});
    });

    it('is what opens the route: the same call to a guarded handler is refused', async () => {
      expect((await refusal(guard.canActivate(http('read').context))).status).toBe(401);
    });
  });

  describe('over HTTP', () => {
    it('admits a valid token holding the scope and puts the principal on request.user', async () => {
      const { request, context } = http('read', bearer(readToken()));
      expect(await guard.canActivate(context)).toBe(true);
      const user = request.user as AzurePrincipal;
      expect(user).toMatchObject({ oid: expect.any(String), tid: entra.tenantId, scopes: ['Todolist.Read'], appOnly: false });
    });

    it('refuses no token with 401 and the realm-only challenge on the response', async () => {
      const { response, context } = http('read');
      const answer = await refusal(guard.canActivate(context));
      expect(answer).toMatchObject({ status: 401, body: { reason: 'token_missing' } });
      expect(response.headers['WWW-Authenticate']).toBe(`Bearer realm="api://${entra.clientId}"`);
    });

    it('authorizes after authenticating: a valid token without the scope gets 403', async () => {
      const { request, response, context } = http('read', bearer(entra.mintAccessToken({ scopes: ['User.Read'] })));
      const answer = await refusal(guard.canActivate(context));
      expect(answer).toMatchObject({ status: 403, body: { reason: 'insufficient_permissions', required: ['Todolist.Read'] } });
      expect(response.headers['WWW-Authenticate']).toMatch(/error="insufficient_scope", .*scope="Todolist\.Read"$/);
      // Refused: nothing that runs after the guard (a @Public GraphQL field, a filter) sees the caller.
      expect(request.user).toBeUndefined();
    });

    it('refuses a bad token with 401 invalid_token', async () => {
      const { response, context } = http('read', bearer(entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -3600 })));
      expect((await refusal(guard.canActivate(context))).body.reason).toBe('token_expired');
      expect(response.headers['WWW-Authenticate']).toContain('error="invalid_token"');
    });
  });

  describe('over GraphQL', () => {
    it('authenticates the request of an Apollo context ({ req })', async () => {
      const req: TransportObject = { headers: bearer(readToken()) };
      expect(await guard.canActivate(graphql('read', { req }))).toBe(true);
      expect((req.user as AzurePrincipal).scopes).toEqual(['Todolist.Read']);
    });

    it('authenticates the request of a Mercurius context ({ reply: { request } })', async () => {
      const request: TransportObject = { headers: bearer(readToken()) };
      const reply = { request, raw: {}, header: () => reply };
      expect(await guard.canActivate(graphql('read', { reply }))).toBe(true);
      expect((request.user as AzurePrincipal).appOnly).toBe(false);
    });

    it('refuses with 401/403 there too, setting the challenge on the context response when there is one', async () => {
      const res = expressResponse();
      const missing = await refusal(guard.canActivate(graphql('read', { req: { headers: {} }, res })));
      expect(missing).toMatchObject({ status: 401, body: { reason: 'token_missing' } });
      expect(res.headers['WWW-Authenticate']).toBe(`Bearer realm="api://${entra.clientId}"`);
      const wrong = await refusal(guard.canActivate(graphql('read', { req: { headers: bearer(entra.mintAccessToken({ scopes: ['User.Read'] })) } })));
      expect(wrong).toMatchObject({ status: 403, body: { reason: 'insufficient_permissions' } });
    });

    it('answers 401, not a crash, when the GraphQL context holds no request', async () => {
      for (const resolverContext of [undefined, {}, { reply: {} }]) {
        expect((await refusal(guard.canActivate(graphql('read', resolverContext)))).status).toBe(401);
      }
    });
  });

  describe('a subclass overriding getRequest', () => {
    function socket(headers: Record<string, string>) {
      const client: SocketClient = { handshake: { headers } };
      const context = new ExecutionContextHost([client, { event: 'todos' }], ProbeController, ProbeController.prototype.read);
      context.setType('ws');
      return { client, context };
    }

    it('is honoured: the token is read from the request it returns, and the principal put there', async () => {
      const custom = moduleRef.get(SocketAzureAuthGuard);
      const { client, context } = socket(bearer(readToken()));
      expect(await custom.canActivate(context)).toBe(true);
      expect((client.handshake.user as AzurePrincipal).scopes).toEqual(['Todolist.Read']);
    });

    it('still authorizes: a token without the scope is refused', async () => {
      const custom = moduleRef.get(SocketAzureAuthGuard);
      const { context } = socket(bearer(entra.mintAccessToken({ scopes: ['User.Read'] })));
      expect((await refusal(custom.canActivate(context))).status).toBe(403);
    });

    it('is what makes the difference: the base guard finds no token in the same call', async () => {
      const { context } = socket(bearer(readToken()));
      expect((await refusal(guard.canActivate(context))).body.reason).toBe('token_missing');
    });
  });
});
