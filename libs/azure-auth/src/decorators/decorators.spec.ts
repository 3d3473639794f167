import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { APP_PERMISSIONS_KEY, IS_PUBLIC_KEY, ROLES_KEY, SCOPES_KEY } from '../azure-auth.constants.js';
import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { bindPrincipal } from '../guards/execution-context.js';
import { createPrincipal, type AzurePrincipal } from '../token/azure-principal.js';
import { AppPermissions, AppPermissionsMetadata } from './app-permissions.decorator.js';
import { AzureUser } from './azure-user.decorator.js';
import { Public, PublicMetadata } from './public.decorator.js';
import { Roles, RolesMetadata } from './roles.decorator.js';
import { Scopes, ScopesMetadata } from './scopes.decorator.js';

const reflector = new Reflector();

@Scopes('Class.Scope')
@AppPermissions('Class.All')
@Roles('ClassRole')
class Decorated {
  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @AppPermissions('Todolist.Read.All')
  @Roles('TaskAdmin')
  own() {}

  inherited() {}

  @Public()
  open() {}
}

@Public()
class OpenController {
  route() {}
}

const handler = (name: keyof Decorated) => Decorated.prototype[name];

describe('permission decorators', () => {
  const decorators = [
    ['Scopes', Scopes, ScopesMetadata, SCOPES_KEY],
    ['AppPermissions', AppPermissions, AppPermissionsMetadata, APP_PERMISSIONS_KEY],
    ['Roles', Roles, RolesMetadata, ROLES_KEY],
  ] as const;

  it.each(decorators)('@%s stores its names under its namespaced key', (_name, _decorator, metadata, key) => {
    expect(metadata.KEY).toBe(key);
    expect(key).toMatch(/^azure-auth:/);
  });

  it('store the names given on the handler, readable with Reflector', () => {
    expect(reflector.get(ScopesMetadata, handler('own'))).toEqual(['Todolist.Read', 'Todolist.ReadWrite']);
    expect(reflector.get(AppPermissionsMetadata, handler('own'))).toEqual(['Todolist.Read.All']);
    expect(reflector.get(RolesMetadata, handler('own'))).toEqual(['TaskAdmin']);
    // the raw key reaches the same metadata, for users who read it with their own guard
    expect(reflector.get<readonly string[]>(SCOPES_KEY, handler('own'))).toEqual(['Todolist.Read', 'Todolist.ReadWrite']);
  });

  it('store the names given on the class', () => {
    expect(reflector.get(ScopesMetadata, Decorated)).toEqual(['Class.Scope']);
    expect(reflector.get(AppPermissionsMetadata, Decorated)).toEqual(['Class.All']);
    expect(reflector.get(RolesMetadata, Decorated)).toEqual(['ClassRole']);
  });

  it('handler metadata overrides class metadata; the class applies where the handler says nothing', () => {
    const targets = (name: keyof Decorated) => [handler(name), Decorated];
    expect(reflector.getAllAndOverride(ScopesMetadata, targets('own'))).toEqual(['Todolist.Read', 'Todolist.ReadWrite']);
    expect(reflector.getAllAndOverride(RolesMetadata, targets('own'))).toEqual(['TaskAdmin']);
    expect(reflector.getAllAndOverride(ScopesMetadata, targets('inherited'))).toEqual(['Class.Scope']);
    expect(reflector.getAllAndOverride(AppPermissionsMetadata, targets('inherited'))).toEqual(['Class.All']);
  });

  it('keep a frozen copy, so the caller cannot change a route after definition', () => {
    const names = ['Todolist.Read'];
    class Later {
      @Scopes(...names)
      route() {}
    }
    names.push('Everything');
    const stored = reflector.get(ScopesMetadata, Later.prototype.route);
    expect(stored).toEqual(['Todolist.Read']);
    expect(Object.isFrozen(stored)).toBe(true);
  });

  describe.each(decorators)('@%s validates its names at definition time', (name, decorator, metadata) => {
    it('refuses an empty list', () => {
      expect(() => decorator()).toThrow(new TypeError(`@${name}() needs at least one name`));
    });

    it.each([
      ['an empty string', ''],
      ['a blank string', ' '],
      ['a tab', '\t'],
      ['two names in one string', 'Todolist.Read Todolist.ReadWrite'],
      ['a trailing space', 'Todolist.Read '],
      ['a newline', 'Todolist.Read\n'],
    ])('refuses %s', (_case, value) => {
      expect(() => decorator('Valid.Name', value)).toThrow(TypeError);
      expect(() => decorator(value)).toThrow(`@${name}(): ${JSON.stringify(value)} is not a permission name`);
    });

    it('refuses a value that is not a string', () => {
      expect(() => decorator(undefined as unknown as string)).toThrow(TypeError);
      expect(() => decorator(42 as unknown as string)).toThrow(TypeError);
    });

    it('accepts dotted, case-sensitive names as they are', () => {
      class Route {
        @decorator('todolist.read', 'Todolist.Read')
        route() {}
      }
      expect(reflector.get(metadata, Route.prototype.route)).toEqual(['todolist.read', 'Todolist.Read']);
    });
  });
});

describe('@Public', () => {
  it('stores true on a handler, under its namespaced key', () => {
    expect(reflector.get(PublicMetadata, handler('open'))).toBe(true);
    expect(reflector.get(IS_PUBLIC_KEY, handler('open'))).toBe(true);
    expect(reflector.get(PublicMetadata, handler('own'))).toBeUndefined();
  });

  it('stores true on a class, which its handlers inherit through getAllAndOverride', () => {
    expect(reflector.get(PublicMetadata, OpenController)).toBe(true);
    expect(reflector.getAllAndOverride(PublicMetadata, [OpenController.prototype.route, OpenController])).toBe(true);
    expect(reflector.getAllAndOverride(PublicMetadata, [handler('inherited'), Decorated])).toBeUndefined();
  });
});

describe('@AzureUser', () => {
  type Factory = (data: unknown, context: ExecutionContextHost) => unknown;

  /** The value Nest would inject for `decorator` in a handler called with `context`. */
  function injected(decorator: ParameterDecorator, context: ExecutionContextHost): unknown {
    class Target {
      handler(_value: unknown) {}
    }
    decorator(Target.prototype, 'handler', 0);
    const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Target, 'handler') as Record<string, { factory: Factory; data: unknown }>;
    const [{ factory, data }] = Object.values(args);
    return factory(data, context);
  }

  const tid = '11111111-2222-4333-8444-555555555555';
  const principal: AzurePrincipal = createPrincipal(
    { aud: tid, iss: `https://login.microsoftonline.com/${tid}/v2.0`, exp: 4_000_000_000, sub: 's', oid: 'the-oid', scp: 'Todolist.Read' },
    'the-tid',
    '2.0',
    resolveAzureAuthOptions({ tenantId: tid, clientId: tid }),
  );

  function http(request: object): ExecutionContextHost {
    return new ExecutionContextHost([request, {}, () => undefined]);
  }

  function graphql(context: object | undefined): ExecutionContextHost {
    const host = new ExecutionContextHost([{}, { id: 1 }, context, { fieldName: 'todos' }]);
    host.setType('graphql');
    return host;
  }

  it('gives the principal of an HTTP request', () => {
    expect(injected(AzureUser(), http({ user: principal }))).toBe(principal);
  });

  it('gives one field of it', () => {
    expect(injected(AzureUser('oid'), http({ user: principal }))).toBe('the-oid');
    expect(injected(AzureUser('scopes'), http({ user: principal }))).toEqual(['Todolist.Read']);
  });

  it('gives the principal from an Apollo GraphQL context ({ req })', () => {
    expect(injected(AzureUser(), graphql({ req: { user: principal } }))).toBe(principal);
    expect(injected(AzureUser('tid'), graphql({ req: { user: principal } }))).toBe('the-tid');
  });

  it('gives the principal from a Mercurius GraphQL context ({ reply: { request } })', () => {
    expect(injected(AzureUser('oid'), graphql({ reply: { request: { user: principal } } }))).toBe('the-oid');
  });

  it('does not read the GraphQL root or arguments as the request', () => {
    const host = new ExecutionContextHost([{ user: principal }, { user: principal }, { req: {} }, {}]);
    host.setType('graphql');
    expect(injected(AzureUser(), host)).toBeUndefined();
  });

  it('gives nothing for a request.user this module did not create (another guard put it there)', () => {
    const impostor = { ...principal, appOnly: true, roles: ['Admin.All'] };
    expect(injected(AzureUser(), http({ user: impostor }))).toBeUndefined();
  });

  it('finds the caller a guard admitted even when the guard read the request from elsewhere (a getRequest override)', () => {
    const client = { handshake: { headers: {} } };
    const context = new ExecutionContextHost([client, { event: 'subscribe' }, () => undefined]);
    context.setType('ws');
    // As AzureGuardBase.admit does with what its (overridden) getRequest returned.
    bindPrincipal(context, client.handshake as never, principal);
    const handlerContext = new ExecutionContextHost([client, { event: 'subscribe' }, () => undefined]);
    handlerContext.setType('ws');
    expect(injected(AzureUser(), handlerContext)).toBe(principal);
    bindPrincipal(context, client.handshake as never, undefined);
    expect(injected(AzureUser(), handlerContext)).toBeUndefined();
  });

  it('is undefined without an authenticated caller (a @Public route), over HTTP and GraphQL', () => {
    expect(injected(AzureUser(), http({}))).toBeUndefined();
    expect(injected(AzureUser('oid'), http({}))).toBeUndefined();
    expect(injected(AzureUser(), graphql({ req: {} }))).toBeUndefined();
    expect(injected(AzureUser('oid'), graphql(undefined))).toBeUndefined();
  });
});
