import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { principalOf } from '../guards/execution-context.js';
import type { AzurePrincipal } from '../token/azure-principal.js';

/**
 * The verified caller ({@link AzurePrincipal}), or one of its fields. Needs `AzureAuthGuard` (or
 * `AzurePassportAuthGuard`) on the route or globally, and finds the caller that guard admitted
 * even when a subclass of it overrides `getRequest`; `undefined` on a `@Public()` route.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@AzureUser() user: AzurePrincipal, @AzureUser('oid') oid: string) { ... }
 * ```
 */
export const AzureUser = createParamDecorator((field: keyof AzurePrincipal | undefined, context: ExecutionContext) => {
  const user = principalOf(context);
  return field ? user?.[field] : user;
});
