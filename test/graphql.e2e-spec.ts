import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Field, GraphQLModule, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { AppPermissions, AzureAuthConfigurationError, AzureAuthGuard, AzureAuthModule, AzureUser, Public, Roles, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, startApp } from './support/test-app.js';

@ObjectType()
class Caller {
  @Field(() => String)
  oid!: string;

  @Field(() => [String])
  scopes!: readonly string[];

  @Field(() => Boolean)
  appOnly!: boolean;
}

@ObjectType()
class Todo {
  @Field(() => String)
  title!: string;
}

@UseGuards(AzureAuthGuard)
@Resolver()
class TodoResolver {
  @Scopes('Todolist.Read')
  @Query(() => [Todo])
  todos(@AzureUser('oid') oid: string): Todo[] {
    return [{ title: `first todo of ${oid}` }];
  }

  @Scopes('Todolist.Read')
  @Query(() => Caller)
  me(@AzureUser() user: AzurePrincipal): Caller {
    return { oid: user.oid, scopes: user.scopes, appOnly: user.appOnly };
  }

  @Public()
  @Query(() => String)
  ping(): string {
    return 'pong';
  }
}

interface GraphqlAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; originalError?: Record<string, unknown> } }>;
  };
}

const graphqlQuery = (url: string, text: string, token?: string) =>
  call(`${url}/graphql`, { method: 'POST', token, body: { query: text } }) as Promise<GraphqlAnswer>;

describe('GraphQL (Apollo over Express)', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await startApp('express', {
      imports: [
        AzureAuthModule.forRoot(emulatorOptions(entra)),
        // autoSchemaFile true keeps the generated schema in memory: the test writes no file
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
      ],
      providers: [TodoResolver],
    }));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  const query = (text: string, token?: string) => graphqlQuery(url, text, token);

  const readToken = () => entra.mintAccessToken({ scopes: ['Todolist.Read'] });

  it('answers a query guarded by @Scopes for a token holding the scope, with @AzureUser filled', async () => {
    const me = await query('{ me { oid scopes appOnly } }', readToken());
    expect(me.status).toBe(200);
    expect(me.body.errors).toBeUndefined();
    const caller = me.body.data?.me as { oid: string };
    expect(caller).toEqual({ oid: expect.stringMatching(/^[0-9a-f-]{36}$/), scopes: ['Todolist.Read'], appOnly: false });
    // @AzureUser('oid'): one field of the principal
    const todos = await query('{ todos { title } }', readToken());
    expect(todos.body).toEqual({ data: { todos: [{ title: `first todo of ${caller.oid}` }] } });
  });

  it('refuses a valid token without the scope with a GraphQL error carrying 403 insufficient_permissions', async () => {
    const answer = await query('{ todos { title } }', entra.mintAccessToken({ scopes: ['User.Read'] }));
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toHaveLength(1);
    const [error] = answer.body.errors!;
    expect(error.path).toEqual(['todos']);
    expect(error.extensions?.code).toBe('FORBIDDEN');
    expect(error.extensions?.originalError).toMatchObject({
      statusCode: 403,
      reason: 'insufficient_permissions',
      required: ['Todolist.Read'],
    });
  });

  it('refuses an app-only token on the @Scopes query', async () => {
    const answer = await query('{ todos { title } }', entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read'] }));
    expect(answer.body.errors?.[0].extensions?.originalError).toMatchObject({ statusCode: 403, reason: 'insufficient_permissions' });
  });

  it('refuses a request without a token with a GraphQL error carrying 401 token_missing', async () => {
    const answer = await query('{ todos { title } }');
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    const [error] = answer.body.errors!;
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.originalError).toMatchObject({ statusCode: 401, reason: 'token_missing' });
  });

  it('refuses a bad token with 401 and its reason', async () => {
    const answer = await query('{ todos { title } }', entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -3600 }));
    const [error] = answer.body.errors!;
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.originalError).toMatchObject({ statusCode: 401, reason: 'token_expired' });
  });

  it('never leaks the token in the error answer', async () => {
    const token = entra.mintAccessToken({ scopes: ['User.Read'] });
    const answer = await query('{ todos { title } }', token);
    const text = JSON.stringify(answer.body);
    expect(text).not.toContain(token.split('.')[1]);
    expect(text).not.toContain(token.split('.')[2]);
  });

  it('lets a @Public query through without a token', async () => {
    const answer = await query('{ ping }');
    expect(answer.body).toEqual({ data: { ping: 'pong' } });
  });

  it('does not crash on refusals: the right token still gets data afterwards', async () => {
    for (const token of [undefined, 'junk', entra.mintAccessToken({ scopes: ['User.Read'] })]) {
      expect((await query('{ todos { title } }', token)).body.errors).toHaveLength(1);
    }
    const answer = await query('{ todos { title } }', readToken());
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.todos).toHaveLength(1);
  });
});

@ObjectType()
class Vault {
  @Field(() => String)
  name!: string;
}

/** The finding: a permission on a field resolver, under a global AzureAuthGuard. */
@Resolver(() => Vault)
class VaultResolver {
  @Scopes('Todolist.Read')
  @AppPermissions('Todolist.Read.All')
  @Query(() => Vault)
  vault(): Vault {
    return { name: 'main' };
  }

  @AppPermissions('Secrets.Read.All')
  @ResolveField(() => String, { nullable: true })
  secret(): string {
    return 'the secret';
  }
}

@ObjectType()
class Note {
  @Field(() => String)
  text!: string;
}

/** Requirements on the class reach its field resolvers through the guard, handler-first. */
@Roles('NoteReader')
@Resolver(() => Note)
class NoteResolver {
  @Query(() => Note)
  note(): Note {
    return { text: 'a note' };
  }

  @ResolveField('author', () => String)
  writtenBy(): string {
    return 'someone';
  }
}

@ObjectType()
class Profile {
  @Field(() => String)
  name!: string;
}

/** Field resolvers that ask nothing of the caller: open with or without field guards. */
@Resolver(() => Profile)
class ProfileResolver {
  @Scopes('Todolist.Read')
  @Query(() => Profile)
  profile(): Profile {
    return { name: 'Ada' };
  }

  @ResolveField(() => String)
  greeting(): string {
    return 'hello';
  }

  @Public()
  @ResolveField(() => String)
  motto(): string {
    return 'be kind';
  }

  // @Public wins over anything beside it, for the guard and so for the check
  @Public()
  @Scopes('Todolist.Read')
  @ResolveField(() => String)
  banner(): string {
    return 'welcome';
  }
}

type FieldGuards = 'field guards on' | 'field guards off';

function graphqlApp(entra: EntraEmulator, resolvers: ModuleMetadata['providers'], fieldGuards: FieldGuards, async = false): ModuleMetadata {
  const options: ApolloDriverConfig = {
    driver: ApolloDriver,
    autoSchemaFile: true,
    graphiql: false,
    ...(fieldGuards === 'field guards on' ? { fieldResolverEnhancers: ['guards'] } : {}),
  };
  return {
    imports: [
      AzureAuthModule.forRoot(emulatorOptions(entra)),
      async ? GraphQLModule.forRootAsync<ApolloDriverConfig>({ driver: ApolloDriver, useFactory: () => options }) : GraphQLModule.forRoot<ApolloDriverConfig>(options),
    ],
    providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }, ...(resolvers ?? [])],
  };
}

/** Starts an app that is expected not to start, and gives what stopped it. */
async function startupFailure(metadata: ModuleMetadata): Promise<unknown> {
  @Module(metadata)
  class RefusedAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [RefusedAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } catch (error) {
    return error;
  } finally {
    await app.close();
  }
  throw new Error('the app started');
}

describe('GraphQL field resolvers (Apollo over Express)', () => {
  let entra: EntraEmulator;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    await entra?.stop();
  });

  const userToken = () => entra.mintAccessToken({ scopes: ['Todolist.Read'] });
  const daemonToken = () => entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All', 'Secrets.Read.All'] });

  describe('field guards off', () => {
    it.each([
      ['GraphQLModule.forRoot', false],
      ['GraphQLModule.forRootAsync', true],
    ])('%s: refuses to start when a field resolver carries @AppPermissions, naming it and the fix', async (_how, async) => {
      const error = await startupFailure(graphqlApp(entra, [VaultResolver], 'field guards off', async));
      expect(error).toBeInstanceOf(AzureAuthConfigurationError);
      expect((error as AzureAuthConfigurationError).option).toBe('fieldResolverEnhancers');
      const { message } = error as Error;
      expect(message).toContain('VaultResolver.secret @AppPermissions(Secrets.Read.All)');
      expect(message).toContain("fieldResolverEnhancers: ['guards']");
      // the query's own decorators are enforced without field guards: not listed
      expect(message).not.toContain('VaultResolver.vault');
    });

    it("refuses to start when the decorators are on the resolver class: they apply to its field resolvers", async () => {
      const error = await startupFailure(graphqlApp(entra, [NoteResolver, ProfileResolver], 'field guards off'));
      expect(error).toBeInstanceOf(AzureAuthConfigurationError);
      expect((error as Error).message).toContain('NoteResolver.writtenBy (field "author") @Roles(NoteReader)');
      // ProfileResolver's field resolvers ask nothing
      expect((error as Error).message).not.toContain('ProfileResolver');
    });

    it('starts when the field resolvers ask nothing (no decorator, or @Public), and answers them', async () => {
      const { app, url } = await startApp('express', graphqlApp(entra, [ProfileResolver], 'field guards off'));
      try {
        const answer = await graphqlQuery(url, '{ profile { name greeting motto banner } }', userToken());
        expect(answer.body).toEqual({ data: { profile: { name: 'Ada', greeting: 'hello', motto: 'be kind', banner: 'welcome' } } });
        // the query's @Scopes is still enforced
        expect((await graphqlQuery(url, '{ profile { name } }')).body.errors?.[0].extensions?.originalError).toMatchObject({ statusCode: 401 });
      } finally {
        await app.close();
      }
    });
  });

  describe('field guards on', () => {
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      ({ app, url } = await startApp('express', graphqlApp(entra, [VaultResolver, NoteResolver, ProfileResolver], 'field guards on')));
    });
    afterAll(async () => {
      await app?.close();
    });

    it("refuses the field to a user token with only Todolist.Read, with the module's 403", async () => {
      const answer = await graphqlQuery(url, '{ vault { name secret } }', userToken());
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ vault: { name: 'main', secret: null } });
      expect(answer.body.errors).toHaveLength(1);
      const [error] = answer.body.errors!;
      expect(error.path).toEqual(['vault', 'secret']);
      expect(error.extensions?.code).toBe('FORBIDDEN');
      expect(error.extensions?.originalError).toMatchObject({
        statusCode: 403,
        reason: 'insufficient_permissions',
        required: ['Secrets.Read.All'],
      });
      expect(JSON.stringify(answer.body)).not.toContain('the secret');
    });

    it('gives the field to a daemon token holding the app permission', async () => {
      const answer = await graphqlQuery(url, '{ vault { name secret } }', daemonToken());
      expect(answer.body).toEqual({ data: { vault: { name: 'main', secret: 'the secret' } } });
    });

    it("enforces the resolver class's @Roles on its field resolver", async () => {
      const roleless = await graphqlQuery(url, '{ note { author } }', userToken());
      expect(roleless.body.errors?.[0].extensions?.originalError).toMatchObject({ statusCode: 403, required: ['NoteReader'] });
      const reader = await graphqlQuery(url, '{ note { text author } }', entra.mintAccessToken({ scopes: ['Todolist.Read'], roles: ['NoteReader'] }));
      expect(reader.body).toEqual({ data: { note: { text: 'a note', author: 'someone' } } });
    });

    it('still answers field resolvers that ask nothing', async () => {
      const answer = await graphqlQuery(url, '{ profile { name greeting motto banner } }', userToken());
      expect(answer.body).toEqual({ data: { profile: { name: 'Ada', greeting: 'hello', motto: 'be kind', banner: 'welcome' } } });
    });
  });

  it('without GraphQL in the app there is nothing to check: a decorated field resolver class does not stop it', async () => {
    const { app, url } = await startApp('express', { imports: [AzureAuthModule.forRoot(emulatorOptions(entra))], providers: [VaultResolver] });
    try {
      expect(app.get(VaultResolver)).toBeInstanceOf(VaultResolver);
      expect((await call(`${url}/graphql`, { method: 'POST', body: { query: '{ vault { name } }' } })).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
