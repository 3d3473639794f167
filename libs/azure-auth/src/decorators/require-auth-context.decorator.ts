import { Reflector } from '@nestjs/core';
import { AUTH_CONTEXT_KEY } from '../azure-auth.constants.js';
import { decoratorValues } from './permission-names.js';

/** @internal */
export const AuthContextMetadata = Reflector.createDecorator<readonly string[]>({ key: AUTH_CONTEXT_KEY });

/** Conditional Access authentication context ids are `c1` to `c99`. */
const AUTH_CONTEXT_ID = /^c([1-9]|[1-9][0-9])$/;

/**
 * Step-up: the caller's token must show that a Conditional Access authentication context was
 * satisfied, its `acrs` claim holding **any one** of `ids` (`c1` to `c99`). A token without it is
 * answered with a claims challenge (401 `insufficient_claims`) when its client declared it can
 * handle one (`xms_cc` holds `cp1`), otherwise 403 `auth_context_required`. Checked after the
 * route's scopes and roles. A handler that carries any of the module's requirement decorators
 * replaces all of the controller's.
 *
 * @example
 * ```ts
 * @Scopes('Todolist.ReadWrite')
 * @RequireAuthContext('c1')
 * @Delete(':id')
 * remove() { ... }
 * ```
 */
export const RequireAuthContext = (...ids: string[]): ClassDecorator & MethodDecorator =>
  AuthContextMetadata(
    decoratorValues('RequireAuthContext', ids, { one: 'authentication context id', valid: 'an authentication context id (c1 to c99)', test: (id) => AUTH_CONTEXT_ID.test(id) }),
  );
