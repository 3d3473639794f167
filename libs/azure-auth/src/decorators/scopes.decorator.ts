import { Reflector } from '@nestjs/core';
import { SCOPES_KEY } from '../azure-auth.constants.js';
import { permissionNames } from './permission-names.js';

/** @internal */
export const ScopesMetadata = Reflector.createDecorator<readonly string[]>({ key: SCOPES_KEY });

/**
 * Delegated permissions: a user's token (never an app-only token) whose `scp` holds **any one**
 * of `names`, compared as exact, case-sensitive whole words. Delegated callers must also satisfy
 * `@Roles` when both are present; app-only callers are judged by `@AppPermissions` alone. A handler
 * that carries any of `@Public`, `@Scopes`, `@AppPermissions`, `@Roles` replaces all of the
 * controller's.
 *
 * @example
 * ```ts
 * @Scopes('Todolist.Read', 'Todolist.ReadWrite')
 * @AppPermissions('Todolist.Read.All')
 * @Get()
 * list() { ... }   // a user with either scope, or a daemon with the app permission
 * ```
 */
export const Scopes = (...names: string[]): ClassDecorator & MethodDecorator => ScopesMetadata(permissionNames('Scopes', names));
