import { Reflector } from '@nestjs/core';
import { ROLES_KEY } from '../azure-auth.constants.js';
import { permissionNames } from './permission-names.js';

/** @internal */
export const RolesMetadata = Reflector.createDecorator<readonly string[]>({ key: ROLES_KEY });

/**
 * App roles of a signed-in user: a delegated token whose `roles` holds **any one** of `names`,
 * exact and case-sensitive. App-only tokens are judged by `@AppPermissions` instead. When a route
 * also has `@Scopes`, a user needs both a listed scope and a listed role. A handler that carries
 * any of `@Public`, `@Scopes`, `@AppPermissions`, `@Roles` replaces all of the controller's.
 *
 * @example
 * ```ts
 * @Roles('TaskAdmin')
 * @Get('admin')
 * admin() { ... }
 * ```
 */
export const Roles = (...names: string[]): ClassDecorator & MethodDecorator => RolesMetadata(permissionNames('Roles', names));
