import type { ExecutionContext } from '@nestjs/common';
import type { AzureAuthException } from '../errors/azure-auth.exception.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { bindPrincipal, getRequestOf, getResponseOf, setResponseHeader, type TransportObject } from './execution-context.js';
import { extractBearerToken, type RequestWithHeaders } from './extract-bearer-token.js';
import type { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';
import { RouteRequirementsReader } from './route-requirements.js';
import { toWebSocketRefusal } from '../websocket/ws-exception.js';

/**
 * What the module's guards share: the route's requirements, read once per controller and handler;
 * where a call's request and response are (HTTP and GraphQL as they come); and how the caller is
 * handed on, or taken away on a refusal. For another transport, extend a guard and override
 * {@link getRequest} (and {@link getResponse}).
 */
export abstract class AzureGuardBase {
  protected readonly requirements = new RouteRequirementsReader();

  constructor(private readonly refusals: AzureAuthRefusals) {}

  /** The request that carries the `Authorization` header. Override for other transports. */
  protected getRequest(context: ExecutionContext): TransportObject | undefined {
    return getRequestOf(context);
  }

  /** Where refusals set `WWW-Authenticate` (and `Retry-After`). */
  protected getResponse(context: ExecutionContext): TransportObject | undefined {
    return getResponseOf(context);
  }

  /** Hands the caller, once every check passed, to `request.user` and `@AzureUser()`. */
  protected admit(context: ExecutionContext, request: TransportObject, principal: AzurePrincipal): void {
    bindPrincipal(context, request, principal);
  }

  /** A caller whose groups had to be looked up (overage): admitted, with its groups, once they came back. */
  protected async admitOnceAuthorized(pending: Promise<AzurePrincipal>, context: ExecutionContext, request: TransportObject, verified?: AzurePrincipal): Promise<boolean> {
    try {
      this.admit(context, request, await pending);
      return true;
    } catch (failure) {
      throw this.refuse(failure, context, request, verified);
    }
  }

  /**
   * The answer to a refusal; whatever caller the call carried is taken away first. A WebSocket
   * message gets it as Nest's `WsException` (an `exception` event with the same body), its
   * connection stays.
   */
  protected refuse(failure: unknown, context: ExecutionContext, request: TransportObject | undefined, verified?: AzurePrincipal): AzureAuthException | Error {
    bindPrincipal(context, request, undefined);
    const token = request ? extractBearerToken(request as RequestWithHeaders) : null;
    const { exception, headers } = this.refusals.refuse(failure, token, verified);
    if (context.getType<string>() === 'ws') return toWebSocketRefusal(exception);
    const response = this.getResponse(context);
    for (const [name, value] of headers) setResponseHeader(response, name, value);
    return exception;
  }
}
