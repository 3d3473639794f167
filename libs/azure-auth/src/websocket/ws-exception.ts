import type { AzureAuthException } from '../errors/azure-auth.exception.js';

type WsExceptionClass = new (error: object) => Error;

let wsException: WsExceptionClass | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads `WsException` of `@nestjs/websockets` the first time a WebSocket server is protected: the
 * module never imports that optional peer where HTTP-only apps would load it.
 * @internal
 */
export function loadWsException(): Promise<void> {
  loading ??= import('@nestjs/websockets').then(
    (websockets) => {
      wsException = websockets.WsException as WsExceptionClass;
    },
    () => undefined,
  );
  return loading;
}

/**
 * A refusal as Nest's WebSocket exception filter sends it: the `exception` event with the JSON
 * body of the HTTP answer (`statusCode`, `reason`, `message`, `required`). Any other error type
 * would reach the client as "Internal server error".
 * @internal
 */
export function toWebSocketRefusal(exception: AzureAuthException): Error {
  return wsException ? new wsException(exception.getResponse() as object) : exception;
}
