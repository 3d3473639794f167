import { Reflector } from '@nestjs/core';
import { APP_PERMISSIONS_KEY } from '../azure-auth.constants.js';
import { permissionNames } from './permission-names.js';

/** @internal */
export const AppPermissionsMetadata = Reflector.createDecorator<readonly string[]>({ key: APP_PERMISSIONS_KEY });

/**
 * Application permissions: an app-only token (an application calling as itself) whose `roles`
 * holds **any one** of `names`, exact and case-sensitive. A user's token never passes, even when
 * the user has an app role of the same name. A handler that carries any
 * of `@Public`, `@Scopes`, `@AppPermissions`, `@Roles` replaces all of the controller's.
 *
 * @example
 * ```ts
 * @AppPermissions('Todolist.ReadWrite.All')
 * @Post()
 * create() { ... }
 * ```
 */
export const AppPermissions = (...names: string[]): ClassDecorator & MethodDecorator =>
  AppPermissionsMetadata(permissionNames('AppPermissions', names));
