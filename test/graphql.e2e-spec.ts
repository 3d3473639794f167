import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { UseGuards, type INestApplication } from '@nestjs/common';
import { Field, GraphQLModule, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
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

  const query = (text: string, token?: string) =>
    call(`${url}/graphql`, { method: 'POST', token, body: { query: text } }) as Promise<GraphqlAnswer>;

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
