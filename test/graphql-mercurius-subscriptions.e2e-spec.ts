import { startMercuriusSubscriptionsApp } from './support/graphql-mercurius-subscriptions-app.js';
import { describeGraphqlSubscriptions } from './support/graphql-subscriptions-table.js';

describeGraphqlSubscriptions('Mercurius, Fastify', startMercuriusSubscriptionsApp);
