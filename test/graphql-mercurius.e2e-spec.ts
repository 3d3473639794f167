import type { INestApplication } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import mercurius from 'mercurius';
import { azureAuthGraphqlErrors, AzureAuthModule } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { TodoSubscriptionsResolver } from './support/graphql-subscriptions-app.js';
import { call, emulatorOptions, startApp } from './support/test-app.js';

const ALICE = '11111111-1111-4111-8111-111111111111';

describe('GraphQL over Mercurius (Fastify): queries and mutations', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await startApp('fastify', {
      imports: [
        AzureAuthModule.forRoot(emulatorOptions(entra)),
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          graphiql: false,
          errorFormatter: (execution, context) => {
            const answer = mercurius.defaultErrorFormatter(execution, context);
            const errors = azureAuthGraphqlErrors(execution.errors);
            return errors ? { ...answer, response: { ...answer.response, errors } } : answer;
          },
        }),
      ],
      providers: [TodoSubscriptionsResolver],
    }));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  const graphql = (query: string, token?: string) => call(`${url}/graphql`, { method: 'POST', token, body: { query } });
  const token = (scopes: string[]) => entra.mintAccessToken({ scopes, oid: ALICE });

  it('answers a @Scopes query with @AzureUser() filled', async () => {
    const answer = await graphql('{ me { oid } }', token(['Todolist.Read']));
    expect(answer.body).toEqual({ data: { me: { oid: ALICE } } });
  });

  it('answers a @Scopes mutation for a token holding the scope', async () => {
    const answer = await graphql('mutation { addTodo(title: "milk") { title owner } }', token(['Todolist.ReadWrite']));
    expect(answer.body).toEqual({ data: { addTodo: { title: 'milk', owner: ALICE } } });
  });

  it('refuses a query without a token: the reason in the error, the challenge on the reply', async () => {
    const answer = await graphql('{ me { oid } }');
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors[0]).toMatchObject({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', originalError: { statusCode: 401, reason: 'token_missing' } } });
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
  });

  it('refuses a mutation the token lacks the scope for with 403 insufficient_permissions and insufficient_scope', async () => {
    const answer = await graphql('mutation { addTodo(title: "x") { title } }', token(['Todolist.Read']));
    expect(answer.body.errors[0].extensions).toEqual({
      code: 'FORBIDDEN',
      originalError: expect.objectContaining({ statusCode: 403, reason: 'insufficient_permissions', required: ['Todolist.ReadWrite'] }),
    });
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses an expired token with token_expired, and lets a @Public query through without one', async () => {
    const expired = await graphql('{ me { oid } }', entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -3600 }));
    expect(expired.body.errors[0].extensions.originalError).toMatchObject({ statusCode: 401, reason: 'token_expired' });
    expect((await graphql('{ ping }')).body).toEqual({ data: { ping: 'pong' } });
  });
});
