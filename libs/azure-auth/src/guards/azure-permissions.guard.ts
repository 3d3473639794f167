import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { authorize } from './authorize.js';
import { AzureGuardBase } from './azure-guard-base.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';

/**
 * Authorization only: enforces `@Scopes` / `@AppPermissions` / `@Roles` and the caller policies on
 * a caller that an earlier guard of this module authenticated (`request.user`). `AzureAuthGuard`
 * already includes this check; use this guard second in a global pair, or after
 * `AzurePassportAuthGuard`. Without a caller this module created (none, or one another guard put
 * there) it refuses with 401, so a misordered setup fails closed.
 */
@Injectable()
export class AzurePermissionsGuard extends AzureGuardBase implements CanActivate {
  constructor(refusals: AzureAuthRefusals) {
    super(refusals);
  }

  canActivate(context: ExecutionContext): boolean {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    const principal = request?.user as AzurePrincipal | undefined;
    try {
      authorize(principal as AzurePrincipal, permissions);
      return true;
    } catch (failure) {
      throw this.refuse(failure, context, request);
    }
  }
}
