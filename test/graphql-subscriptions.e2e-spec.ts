import { startApolloSubscriptionsApp } from './support/graphql-subscriptions-app.js';
import { describeGraphqlSubscriptions } from './support/graphql-subscriptions-table.js';

describeGraphqlSubscriptions('Apollo', startApolloSubscriptionsApp);
