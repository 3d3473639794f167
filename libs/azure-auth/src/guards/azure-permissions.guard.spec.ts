import { type INestApplicationContext, type LoggerService } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import { AzureAuthModule } from '../azure-auth.module.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { AppPermissions } from '../decorators/app-permissions.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { Roles } from '../decorators/roles.decorator.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { AzureAuthException } from '../errors/azure-auth.exception.js';
import type { AzureAuthErrorBody } from '../errors/www-authenticate.js';
import { decodeJwtUnverified, EntraEmulator, type MintOptions } from '../testing/index.js';
import { createPrincipal, type AzurePrincipal } from '../token/azure-principal.js';
import type { AzureAccessTokenClaims } from '../token/claims.js';
import { AzurePermissionsGuard } from './azure-permissions.guard.js';

// Unexpected refusals are logged as errors; the assertions say what happened, so the output stays quiet.
const silent: LoggerService = { log() {}, error() {}, warn() {} };

class ProbeController {
  @Scopes('Todolist.Read')
  @AppPermissions('Todolist.Read.All')
  list() {}

  @AppPermissions('Todolist.Read.All')
  daemonOnly() {}

  @Roles('TaskAdmin')
  admin() {}

  @Public()
  open() {}
}

@Scopes('Class.Scope')
class ClassScopedController {
  @Scopes('Todolist.Read')
  own() {}

  inherited() {}
}

type Route = 'list' | 'daemonOnly' | 'admin' | 'open';

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

describe('AzurePermissionsGuard', () => {
  let entra: EntraEmulator;
  const modules: INestApplicationContext[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    await Promise.all(modules.map((moduleRef) => moduleRef.close()));
    await entra?.stop();
  });

  async function guardWith(extra: Partial<AzureAuthModuleOptions> = {}): Promise<AzurePermissionsGuard> {
    const options: AzureAuthModuleOptions = {
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      authorityHost: entra.authorityHost,
      warmUp: false,
      ...extra,
    };
    const moduleRef = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot(options)] }).setLogger(silent).compile();
    modules.push(moduleRef);
    latestOptions = moduleRef.get<ResolvedAzureAuthOptions>(AZURE_AUTH_OPTIONS);
    return moduleRef.get(AzurePermissionsGuard);
  }

  /** The settings of the module built last: the authority that admits the callers below. */
  let latestOptions: ResolvedAzureAuthOptions;

  /** The principal the module's authentication guard would have put on the request for this emulator token. */
  function principalOf(mint: MintOptions): AzurePrincipal {
    const claims = decodeJwtUnverified(entra.mintAccessToken(mint)).payload as unknown as AzureAccessTokenClaims;
    return createPrincipal(claims, claims.tid as string, claims.ver === '1.0' ? '1.0' : '2.0', latestOptions);
  }

  function httpCall(route: Route, user?: unknown) {
    const request: Record<string, unknown> = { headers: {}, ...(user === undefined ? {} : { user }) };
    const response = expressResponse();
    const context = new ExecutionContextHost([request, response, () => undefined], ProbeController, ProbeController.prototype[route]);
    return { context, response };
  }

  function refusal(guard: AzurePermissionsGuard, route: Route, user?: unknown) {
    const { context, response } = httpCall(route, user);
    try {
      guard.canActivate(context);
    } catch (error) {
      expect(error).toBeInstanceOf(AzureAuthException);
      const exception = error as AzureAuthException;
      return { status: exception.getStatus(), body: exception.getResponse() as AzureAuthErrorBody, challenge: response.headers['WWW-Authenticate'] };
    }
    throw new Error(`expected a refusal on ${route}, the caller was admitted`);
  }

  const admits = (guard: AzurePermissionsGuard, route: Route, user: unknown) => expect(guard.canActivate(httpCall(route, user).context)).toBe(true);

  describe('without an authenticated caller', () => {
    it('refuses with 401 and a realm-only challenge when request.user is absent (fails closed when misordered)', async () => {
      const guard = await guardWith();
      const answer = refusal(guard, 'list');
      expect(answer.status).toBe(401);
      expect(answer.body.reason).toBe('token_missing');
      expect(answer.challenge).toBe(`Bearer realm="api://${entra.clientId}"`);
    });

    it('refuses with 401 when request.user is not an Azure principal (another auth scheme put it there)', async () => {
      const guard = await guardWith();
      for (const stranger of [{ id: 1, scopes: ['Todolist.Read'] }, 'user', true, { appOnly: 'false', scopes: ['Todolist.Read'] }]) {
        expect(refusal(guard, 'list', stranger)).toMatchObject({ status: 401, body: { reason: 'token_missing' } });
      }
    });

    it('refuses with 401 a request.user shaped like a principal that this module did not create', async () => {
      const guard = await guardWith();
      const real = principalOf({ scopes: ['Todolist.Read'] });
      // Every field of a real caller, boolean appOnly included: still not one this module verified.
      const lookalike = { ...real, scopes: [...real.scopes] };
      expect(refusal(guard, 'list', lookalike)).toMatchObject({ status: 401, body: { reason: 'token_missing' } });
      admits(guard, 'list', real);
    });

    it('lets a @Public route through without a caller', async () => {
      const guard = await guardWith();
      expect(guard.canActivate(httpCall('open').context)).toBe(true);
    });
  });

  describe('with an authenticated caller', () => {
    let guard: AzurePermissionsGuard;
    beforeAll(async () => {
      guard = await guardWith();
    });

    it('admits a user whose scp holds the scope of the handler', () => {
      admits(guard, 'list', principalOf({ scopes: ['Todolist.Read'] }));
    });

    it('refuses a user without it: 403 insufficient_scope naming the scope that would pass', () => {
      const answer = refusal(guard, 'list', principalOf({ scopes: ['User.Read'] }));
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ reason: 'insufficient_permissions', required: ['Todolist.Read'] });
      expect(answer.challenge).toBe(
        `Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="Token lacks a required scope", scope="Todolist.Read"`,
      );
    });

    it('handler metadata overrides the class: the class scope does not open the handler, but governs handlers without their own', () => {
      const on = (method: 'own' | 'inherited', user: AzurePrincipal) =>
        new ExecutionContextHost([{ headers: {}, user }, expressResponse(), () => undefined], ClassScopedController, ClassScopedController.prototype[method]);
      const classScoped = principalOf({ scopes: ['Class.Scope'] });
      const handlerScoped = principalOf({ scopes: ['Todolist.Read'] });
      expect(guard.canActivate(on('own', handlerScoped))).toBe(true);
      expect(() => guard.canActivate(on('own', classScoped))).toThrow(AzureAuthException);
      expect(guard.canActivate(on('inherited', classScoped))).toBe(true);
      expect(() => guard.canActivate(on('inherited', handlerScoped))).toThrow(AzureAuthException);
    });

    it('admits a daemon by its app permission, and refuses a user whose roles carry the same name', () => {
      admits(guard, 'daemonOnly', principalOf({ kind: 'app', roles: ['Todolist.Read.All'] }));
      admits(guard, 'list', principalOf({ kind: 'app', roles: ['Todolist.Read.All'] }));
      const user = refusal(guard, 'daemonOnly', principalOf({ scopes: ['Todolist.Read'], roles: ['Todolist.Read.All'] }));
      expect(user).toMatchObject({ status: 403, body: { reason: 'insufficient_permissions', required: ['Todolist.Read.All'] } });
    });

    it('@Roles: a user with the app role passes; without it, or as a daemon, refused', () => {
      admits(guard, 'admin', principalOf({ scopes: ['Todolist.Read'], roles: ['TaskAdmin'] }));
      expect(refusal(guard, 'admin', principalOf({ scopes: ['Todolist.Read'] })).status).toBe(403);
      expect(refusal(guard, 'admin', principalOf({ kind: 'app', roles: ['TaskAdmin'] })).status).toBe(403);
    });

    it('reads the caller from a GraphQL context too', () => {
      const context = new ExecutionContextHost(
        [{}, {}, { req: { user: principalOf({ scopes: ['Todolist.Read'] }) } }, {}],
        ProbeController,
        ProbeController.prototype.list,
      );
      context.setType('graphql');
      expect(guard.canActivate(context)).toBe(true);
    });

    it('applies the caller policies of the options', async () => {
      const strict = await guardWith({ allowedClientApps: ['11111111-1111-4111-8111-111111111111'], allowGuestUsers: false });
      expect(refusal(strict, 'list', principalOf({ scopes: ['Todolist.Read'] })).body.reason).toBe('client_not_allowed');
      const noGuests = await guardWith({ allowGuestUsers: false });
      expect(refusal(noGuests, 'list', principalOf({ kind: 'guest', scopes: ['Todolist.Read'] })).body.reason).toBe('guest_not_allowed');
    });

    it('authorizes only: it never contacts the authority', () => {
      admits(guard, 'list', principalOf({ scopes: ['Todolist.Read'] }));
      expect(entra.requestCount()).toBe(0);
    });
  });
});
