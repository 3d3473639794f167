import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { AppPermissionsMetadata } from '../decorators/app-permissions.decorator.js';
import { PublicMetadata } from '../decorators/public.decorator.js';
import { RolesMetadata } from '../decorators/roles.decorator.js';
import { ScopesMetadata } from '../decorators/scopes.decorator.js';
import type { PermissionRequirements } from './authorize.js';

const DECORATORS = [PublicMetadata, ScopesMetadata, AppPermissionsMetadata, RolesMetadata] as const;

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
  // By controller, then handler: a handler inherited by two controllers may take each one's requirements.
  private readonly byRoute = new WeakMap<object, WeakMap<object, RouteRequirements>>();

  constructor(private readonly reflector: Reflector) {}

  read(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.byRoute.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.byRoute.set(controller, byHandler);
    }
    let requirements = byHandler.get(handler);
    if (!requirements) {
      // A handler that states any requirement replaces the controller's requirements as a whole:
      // mixing a controller's @Scopes with a handler's @AppPermissions would let the wrong caller in.
      const target = DECORATORS.some((decorator) => this.reflector.get(decorator, handler) !== undefined) ? handler : controller;
      requirements = {
        isPublic: this.reflector.get(PublicMetadata, target) === true,
        permissions: {
          scopes: this.reflector.get(ScopesMetadata, target),
          appPermissions: this.reflector.get(AppPermissionsMetadata, target),
          roles: this.reflector.get(RolesMetadata, target),
        },
      };
      byHandler.set(handler, requirements);
    }
    return requirements;
  }
}
