import type { ExecutionContext } from '@nestjs/common';

/** A request or response object of any transport; only what the module touches is typed. */
export type TransportObject = Record<string | symbol, unknown>;

interface GraphqlContext {
  req?: TransportObject;
  request?: TransportObject;
  res?: TransportObject;
  reply?: TransportObject & { request?: TransportObject };
}

/**
 * The HTTP request behind a handler call: for HTTP the request itself, for GraphQL the one in the
 * resolver context (Apollo puts `req`, Mercurius `reply.request`). GraphQL is read from the
 * context arguments, so `@nestjs/graphql` is never imported.
 */
export function getRequestOf(context: ExecutionContext): TransportObject | undefined {
  if (context.getType<string>() === 'graphql') {
    const graphql = context.getArgByIndex<GraphqlContext | undefined>(2);
    return graphql?.req ?? graphql?.request ?? graphql?.reply?.request;
  }
  // What switchToHttp().getRequest() returns, without the three closures Nest builds per call.
  return context.getArgByIndex<TransportObject | undefined>(0);
}

export function getResponseOf(context: ExecutionContext): TransportObject | undefined {
  if (context.getType<string>() === 'graphql') {
    const graphql = context.getArgByIndex<GraphqlContext | undefined>(2);
    return graphql?.res ?? graphql?.reply;
  }
  return context.getArgByIndex<TransportObject | undefined>(1);
}

/** Sets a header on an Express response or a Fastify reply (whichever `response` is). */
export function setResponseHeader(response: TransportObject | undefined, name: string, value: string): void {
  if (!response) return;
  if (typeof response.header === 'function' && 'raw' in response) {
    (response.header as (n: string, v: string) => void).call(response, name, value);
  } else if (typeof response.setHeader === 'function' && !response.headersSent) {
    (response.setHeader as (n: string, v: string) => void).call(response, name, value);
  }
}
