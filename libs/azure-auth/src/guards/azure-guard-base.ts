import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { getRequestOf, getResponseOf, type TransportObject } from './execution-context.js';
import { RouteRequirementsReader } from './route-requirements.js';

/**
 * What the module's guards share: the route's requirements, read once per controller and handler,
 * and where a call's request and response are (HTTP and GraphQL as they come). For another
 * transport, extend a guard and override {@link getRequest} (and {@link getResponse}).
 */
export abstract class AzureGuardBase {
  protected readonly requirements: RouteRequirementsReader;

  constructor(reflector: Reflector) {
    this.requirements = new RouteRequirementsReader(reflector);
  }

  /** The request that carries the `Authorization` header. Override for other transports. */
  protected getRequest(context: ExecutionContext): TransportObject | undefined {
    return getRequestOf(context);
  }

  /** Where refusals set `WWW-Authenticate` (and `Retry-After`). */
  protected getResponse(context: ExecutionContext): TransportObject | undefined {
    return getResponseOf(context);
  }
}
