import type { DynamicModule, INestApplication } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import mercurius from 'mercurius';
import { azureAuthGraphqlErrors, AzureWebSocketAuth } from 'nestjs-azure-auth';
import { TodoSubscriptionsResolver } from './graphql-subscriptions-app.js';
import { startApp } from './test-app.js';

/** A Mercurius app (Fastify) whose subscriptions are authenticated by AzureWebSocketAuth, as the README wires it. */
export function startMercuriusSubscriptionsApp(
  auth: DynamicModule,
  // Queries over the same connection show that a refused subscription leaves it open.
  subscription: (webSocketAuth: AzureWebSocketAuth) => MercuriusDriverConfig['subscription'] = (webSocketAuth) => ({ ...webSocketAuth.mercurius(), fullWsTransport: true }),
): Promise<{ app: INestApplication; url: string }> {
  return startApp('fastify', {
    imports: [
      auth,
      GraphQLModule.forRootAsync<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        imports: [auth],
        inject: [AzureWebSocketAuth],
        useFactory: (webSocketAuth: AzureWebSocketAuth) => ({
          autoSchemaFile: true,
          graphiql: false,
          subscription: subscription(webSocketAuth),
          errorFormatter: (execution, context) => {
            const answer = mercurius.defaultErrorFormatter(execution, context);
            const errors = azureAuthGraphqlErrors(execution.errors);
            return errors ? { ...answer, response: { ...answer.response, errors } } : answer;
          },
        }),
      }),
    ],
    providers: [TodoSubscriptionsResolver],
  });
}
