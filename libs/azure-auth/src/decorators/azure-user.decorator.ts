import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { getRequestOf } from '../guards/execution-context.js';
import type { AzurePrincipal } from '../token/azure-principal.js';

/**
 * The verified caller ({@link AzurePrincipal}), or one of its fields. Needs `AzureAuthGuard` on
 * the route (or globally); `undefined` on a `@Public()` route.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@AzureUser() user: AzurePrincipal, @AzureUser('oid') oid: string) { ... }
 * ```
 */
export const AzureUser = createParamDecorator((field: keyof AzurePrincipal | undefined, context: ExecutionContext) => {
  const user = getRequestOf(context)?.user as AzurePrincipal | undefined;
  return field ? user?.[field] : user;
});
