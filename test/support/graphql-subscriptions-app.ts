import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, UseGuards, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Args, Field, GraphQLModule, Mutation, ObjectType, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { createClient, type Client } from 'graphql-ws';
import { PubSub } from 'graphql-subscriptions';
import { AzureAuthGuard, AzureUser, AzureWebSocketAuth, Public, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
import WebSocket from 'ws';

@ObjectType()
export class Todo {
  @Field(() => String)
  title!: string;

  @Field(() => String)
  owner!: string;
}

@ObjectType()
export class Caller {
  @Field(() => String)
  oid!: string;

  @Field(() => Number)
  expiresAt!: number;
}

/** Queries, a mutation and subscriptions, guarded per class; what the owner adds reaches the owner's subscriptions. */
@UseGuards(AzureAuthGuard)
@Resolver()
export class TodoSubscriptionsResolver {
  private readonly pubSub = new PubSub();

  @Public()
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Scopes('Todolist.Read')
  @Query(() => Caller)
  me(@AzureUser() user: AzurePrincipal): Caller {
    return { oid: user.oid, expiresAt: user.expiresAt };
  }

  @Scopes('Todolist.ReadWrite')
  @Mutation(() => Todo)
  async addTodo(@Args('title', { type: () => String }) title: string, @AzureUser('oid') oid: string): Promise<Todo> {
    const todo = { title, owner: oid };
    await this.pubSub.publish(`todoAdded:${oid}`, { todoAdded: todo });
    return todo;
  }

  @Scopes('Todolist.Read')
  @Subscription(() => Todo)
  todoAdded(@AzureUser('oid') oid: string): AsyncIterator<unknown> {
    return this.pubSub.asyncIterableIterator(`todoAdded:${oid}`);
  }

  @Scopes('Todolist.Read')
  @Subscription(() => Caller)
  async *whoami(@AzureUser() user: AzurePrincipal): AsyncGenerator<{ whoami: Caller }> {
    yield { whoami: { oid: user.oid, expiresAt: user.expiresAt } };
  }
}

/** An Apollo app whose graphql-ws subscriptions are authenticated by AzureWebSocketAuth. */
export async function startApolloSubscriptionsApp(auth: DynamicModule): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      auth,
      GraphQLModule.forRootAsync<ApolloDriverConfig>({
        driver: ApolloDriver,
        imports: [auth],
        inject: [AzureWebSocketAuth],
        useFactory: (webSocketAuth: AzureWebSocketAuth) => ({
          autoSchemaFile: true,
          graphiql: false,
          subscriptions: { 'graphql-ws': webSocketAuth.graphqlWs() },
        }),
      }),
    ],
    providers: [TodoSubscriptionsResolver],
  })
  class SubscriptionsAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [SubscriptionsAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

export interface GraphqlWsClosed {
  code: number;
  reason: string;
}

/** A real graphql-ws client (over ws) that never retries, with the raw socket at hand (for the re-authentication ping). */
export class GraphqlWsTestClient {
  readonly client: Client;
  readonly closed: Promise<GraphqlWsClosed>;
  readonly connected: Promise<WebSocket>;

  constructor(url: string, connectionParams?: Record<string, unknown>) {
    let onClosed!: (closed: GraphqlWsClosed) => void;
    let onConnected!: (socket: WebSocket) => void;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.connected = new Promise((resolve) => (onConnected = resolve));
    this.client = createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      on: {
        connected: (socket) => onConnected(socket as WebSocket),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          onClosed({ code, reason: String(reason) });
        },
      },
    });
  }

  /** The first result of a subscription (data or errors). */
  async first(query: string): Promise<{ data?: any; errors?: any[] }> {
    const iterator = this.client.iterate<any>({ query })[Symbol.asyncIterator]();
    const { value } = await iterator.next();
    void iterator.return?.();
    return value;
  }

  dispose(): void {
    void this.client.dispose();
  }
}
