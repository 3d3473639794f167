import type { ExecutionContext } from '@nestjs/common';
import { AppPermissionsMetadata } from '../decorators/app-permissions.decorator.js';
import { DirectoryRolesMetadata, GroupsMetadata } from '../decorators/groups.decorator.js';
import { PublicMetadata } from '../decorators/public.decorator.js';
import { AuthContextMetadata } from '../decorators/require-auth-context.decorator.js';
import { RolesMetadata } from '../decorators/roles.decorator.js';
import { ScopesMetadata } from '../decorators/scopes.decorator.js';
import type { PermissionRequirements } from './authorize.js';

const DECORATORS = [PublicMetadata, ScopesMetadata, AppPermissionsMetadata, RolesMetadata, GroupsMetadata, DirectoryRolesMetadata, AuthContextMetadata] as const;

/** What the decorators of one handler (and its class) say, read handler-first. */
export interface RouteRequirements {
  readonly isPublic: boolean;
  readonly permissions: PermissionRequirements;
}

/** The metadata keys of our decorators. */
const KEYS = DECORATORS.map((decorator) => decorator.KEY);

/**
 * Where a route's requirements are written: the handler when it states any; else the nearest class
 * of the controller's inheritance chain that states any, with only its own decorators (a subclass's
 * `@Scopes` is never mixed with, or overridden by, a base class's `@Public` or `@Roles`).
 */
function requirementsTarget(handler: object, controller: object): object | undefined {
  if (KEYS.some((key) => Reflect.hasOwnMetadata(key, handler))) return handler;
  for (let target: object | null = controller; target !== null && target !== Function.prototype; target = Object.getPrototypeOf(target) as object | null) {
    if (KEYS.some((key) => Reflect.hasOwnMetadata(key, target as object))) return target;
  }
  return undefined;
}

const NONE: RouteRequirements = Object.freeze({ isPublic: false, permissions: Object.freeze({}) });

/**
 * Reads the decorators of a handler once and remembers them: metadata does not change after
 * start, so the request path does no reflection.
 * @internal
 */
export class RouteRequirementsReader {
  // By controller, then handler: a handler inherited by two controllers may take each one's requirements.
  private readonly byRoute = new WeakMap<object, WeakMap<object, RouteRequirements>>();

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
      const target = requirementsTarget(handler, controller);
      requirements = target
        ? {
            isPublic: Reflect.getOwnMetadata(PublicMetadata.KEY, target) === true,
            permissions: {
              scopes: Reflect.getOwnMetadata(ScopesMetadata.KEY, target) as readonly string[] | undefined,
              appPermissions: Reflect.getOwnMetadata(AppPermissionsMetadata.KEY, target) as readonly string[] | undefined,
              roles: Reflect.getOwnMetadata(RolesMetadata.KEY, target) as readonly string[] | undefined,
              groups: Reflect.getOwnMetadata(GroupsMetadata.KEY, target) as readonly string[] | undefined,
              directoryRoles: Reflect.getOwnMetadata(DirectoryRolesMetadata.KEY, target) as readonly string[] | undefined,
              authContexts: Reflect.getOwnMetadata(AuthContextMetadata.KEY, target) as readonly string[] | undefined,
            },
          }
        : NONE;
      byHandler.set(handler, requirements);
    }
    return requirements;
  }
}
