import { AzureAuthException } from '../errors/azure-auth.exception.js';

/** A GraphQL error as graphql-js builds it, as far as this module reads it. */
interface GraphqlErrorLike {
  readonly originalError?: unknown;
  toJSON?(): Record<string, unknown>;
}

/** A GraphQL error, serialized. */
export interface SerializedGraphqlError {
  readonly message: string;
  readonly extensions?: Record<string, unknown>;
  readonly [field: string]: unknown;
}

/**
 * The errors of a GraphQL result, serialized, where a refusal of this module carries what Apollo
 * puts there over HTTP: `extensions.code` (`UNAUTHENTICATED`, `FORBIDDEN`, `SERVICE_UNAVAILABLE`)
 * and `extensions.originalError` (the refusal's JSON body, with its `reason`). `undefined` when
 * no error is a refusal, so the transport's own serialization stays. graphql-ws subscriptions get
 * it from `AzureWebSocketAuth.graphqlWs()`; Mercurius from its `errorFormatter`.
 *
 * @example
 * ```ts
 * GraphQLModule.forRoot<MercuriusDriverConfig>({
 *   driver: MercuriusDriver,
 *   autoSchemaFile: true,
 *   errorFormatter: (execution, context) => {
 *     const answer = mercurius.defaultErrorFormatter(execution, context);
 *     const errors = azureAuthGraphqlErrors(execution.errors);
 *     return errors ? { ...answer, response: { ...answer.response, errors } } : answer;
 *   },
 * })
 * ```
 */
export function azureAuthGraphqlErrors(errors: readonly unknown[] | undefined): SerializedGraphqlError[] | undefined {
  if (!errors?.some((error) => (error as GraphqlErrorLike)?.originalError instanceof AzureAuthException)) return undefined;
  return errors.map((error) => {
    const { originalError, toJSON } = error as GraphqlErrorLike;
    const json = (typeof toJSON === 'function' ? toJSON.call(error) : { message: String((error as Error)?.message) }) as SerializedGraphqlError;
    if (!(originalError instanceof AzureAuthException)) return json;
    const extensions = { ...(json.extensions as Record<string, unknown> | undefined), ...originalError.extensions };
    return { ...json, extensions };
  });
}
