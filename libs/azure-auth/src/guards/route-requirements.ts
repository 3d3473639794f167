import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { AppPermissionsMetadata } from '../decorators/app-permissions.decorator.js';
import { PublicMetadata } from '../decorators/public.decorator.js';
import { RolesMetadata } from '../decorators/roles.decorator.js';
import { ScopesMetadata } from '../decorators/scopes.decorator.js';
import type { PermissionRequirements } from './authorize.js';

/** What the decorators of one handler (and its class) say, read handler-first. */
export interface RouteRequirements {
  readonly isPublic: boolean;
  readonly permissions: PermissionRequirements;
}

/**
 * Reads the decorators of a handler once and remembers them: metadata does not change after
 * start, so the request path does no reflection.
 * @internal
 */
export class RouteRequirementsReader {
  private readonly byHandler = new WeakMap<object, RouteRequirements>();

  constructor(private readonly reflector: Reflector) {}

  read(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    let requirements = this.byHandler.get(handler);
    if (!requirements) {
      const targets = [handler, context.getClass()];
      requirements = {
        isPublic: this.reflector.getAllAndOverride(PublicMetadata, targets) === true,
        permissions: {
          scopes: this.reflector.getAllAndOverride(ScopesMetadata, targets),
          appPermissions: this.reflector.getAllAndOverride(AppPermissionsMetadata, targets),
          roles: this.reflector.getAllAndOverride(RolesMetadata, targets),
        },
      };
      this.byHandler.set(handler, requirements);
    }
    return requirements;
  }
}
