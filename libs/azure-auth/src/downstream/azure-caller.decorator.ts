import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { getRequestOf, getResponseOf, principalOf, type TransportObject } from '../guards/execution-context.js';
import { extractBearerToken, type RequestWithHeaders } from '../guards/extract-bearer-token.js';
import type { AzurePrincipal } from '../token/azure-principal.js';

/**
 * The caller of the request being handled, for calls made on its behalf with
 * `AzureDownstreamApi`: who it is ({@link principal}), and, out of sight, the token it sent (what
 * on-behalf-of exchanges) and the answer to put a refusal's `WWW-Authenticate` on. Printing or
 * serializing it shows the principal only.
 */
export interface AzureCaller {
  /** The verified caller, as `@AzureUser()` gives it. */
  readonly principal: AzurePrincipal;
}

/** What only this module reads of a caller. @internal */
export interface CallerInternals {
  /** The bearer token of the request, or null when it carried none. */
  readonly token: string | null;
  /** Where a refusal's headers go (an Express response, a Fastify reply). */
  readonly response: TransportObject | undefined;
}

const internals = new WeakMap<AzureCaller, CallerInternals>();

/** @internal */
export function internalsOf(caller: AzureCaller): CallerInternals | undefined {
  return internals.get(caller);
}

/** @internal */
export function createCaller(principal: AzurePrincipal, token: string | null, response: TransportObject | undefined): AzureCaller {
  const caller: AzureCaller = Object.freeze({ principal });
  internals.set(caller, { token, response });
  return caller;
}

/**
 * The {@link AzureCaller} of this request, for `AzureDownstreamApi`. Needs `AzureAuthGuard` (or
 * `AzurePassportAuthGuard`) on the route or globally; `undefined` on a `@Public()` route. The
 * token is read from the request's `Authorization` header, as the guards read it.
 *
 * @example
 * ```ts
 * @Get('profile')
 * async profile(@AzureCaller() caller: AzureCaller) {
 *   const answer = await this.downstream.fetch(caller, '/v1.0/me', { scopes: ['User.Read'] });
 *   return answer.json();
 * }
 * ```
 */
export const AzureCaller = createParamDecorator((_field: unknown, context: ExecutionContext): AzureCaller | undefined => {
  const principal = principalOf(context);
  if (!principal) return undefined;
  const request = getRequestOf(context);
  return createCaller(principal, request ? extractBearerToken(request as RequestWithHeaders) : null, getResponseOf(context));
});
