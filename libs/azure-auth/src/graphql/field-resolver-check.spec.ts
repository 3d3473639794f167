import { Injectable, Module, Scope, type DynamicModule, type Provider } from '@nestjs/common';
import { ResolveField, ResolveReference, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { AzureAuthModule } from '../azure-auth.module.js';
import { AppPermissions } from '../decorators/app-permissions.decorator.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';

// The decorators of @nestjs/graphql only; its module is stood in for by its options token, which is
// all the check reads. The e2e suite (test/graphql.e2e-spec.ts) runs the real GraphQLModule.
const azureAuth = AzureAuthModule.forRoot({
  tenantId: '11111111-2222-4333-8444-555555555555',
  clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  authorityHost: 'http://127.0.0.1:9',
  warmUp: false,
});

@Module({})
class GraphqlOptionsHost {}

@Module({})
class SecondGraphqlOptionsHost {}

/** A module holding GraphQL module options under @nestjs/graphql's token, as GraphQLModule does. */
const graphqlOptions = (fieldResolverEnhancers?: string[], host: Function = GraphqlOptionsHost): DynamicModule => ({
  module: host as DynamicModule['module'],
  providers: [{ provide: 'GqlModuleOptions', useValue: { fieldResolverEnhancers } }],
});

@Resolver('Todo')
@Injectable({ scope: Scope.REQUEST })
class RequestScopedResolver {
  @Scopes('Todolist.Read')
  @ResolveField()
  owner(): string {
    return 'someone';
  }
}

@Resolver('Tenant')
class EntityResolver {
  @AppPermissions('Tenants.Read.All')
  @ResolveReference()
  resolveReference(): object {
    return {};
  }
}

async function start(imports: DynamicModule[], providers: Provider[]): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({ imports: [azureAuth, ...imports], providers }).compile();
  try {
    await moduleRef.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await moduleRef.close();
  }
}

describe('GraphqlFieldResolverCheck', () => {
  it('sees request-scoped resolvers', async () => {
    const error = await start([graphqlOptions()], [RequestScopedResolver]);
    expect(error).toBeInstanceOf(AzureAuthConfigurationError);
    expect((error as Error).message).toContain('RequestScopedResolver.owner @Scopes(Todolist.Read)');
  });

  it('counts @ResolveReference, which Nest runs as a field resolver', async () => {
    const error = await start([graphqlOptions()], [EntityResolver]);
    expect((error as Error).message).toContain('EntityResolver.resolveReference @AppPermissions(Tenants.Read.All)');
  });

  it('names every field resolver that would lose its requirements', async () => {
    const error = await start([graphqlOptions()], [RequestScopedResolver, EntityResolver]);
    expect((error as Error).message).toMatch(/RequestScopedResolver\.owner .*; EntityResolver\.resolveReference /);
  });

  it('wants "guards" among the enhancers, not only some enhancer', async () => {
    expect(await start([graphqlOptions(['interceptors', 'filters'])], [EntityResolver])).toBeInstanceOf(AzureAuthConfigurationError);
    expect(await start([graphqlOptions(['interceptors', 'guards'])], [EntityResolver])).toBeUndefined();
  });

  it('wants field guards in every GraphQL module of the app', async () => {
    const two = (second: string[] | undefined) => [graphqlOptions(['guards']), graphqlOptions(second, SecondGraphqlOptionsHost)];
    expect(await start(two(undefined), [EntityResolver])).toBeInstanceOf(AzureAuthConfigurationError);
    expect(await start(two(['guards']), [EntityResolver])).toBeUndefined();
  });

  it('does nothing without GraphQL module options, whatever the providers carry', async () => {
    expect(await start([], [RequestScopedResolver, EntityResolver])).toBeUndefined();
  });
});
