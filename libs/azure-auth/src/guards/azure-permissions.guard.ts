import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { authorize } from './authorize.js';
import { AzureGuardBase } from './azure-guard-base.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';
import { AzureGroupMembership } from '../membership/group-membership.js';
import { extractBearerToken, type RequestWithHeaders } from './extract-bearer-token.js';

/**
 * Authorization only: enforces `@Scopes` / `@AppPermissions` / `@Roles` and the caller policies on
 * a caller that an earlier guard of this module authenticated (`request.user`). `AzureAuthGuard`
 * already includes this check; use this guard second in a global pair, or after
 * `AzurePassportAuthGuard`. Without a caller this module created (none, or one another guard put
 * there) it refuses with 401, so a misordered setup fails closed.
 */
@Injectable()
export class AzurePermissionsGuard extends AzureGuardBase implements CanActivate {
  constructor(
    refusals: AzureAuthRefusals,
    private readonly membership: AzureGroupMembership,
  ) {
    super(refusals);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    const principal = request?.user as AzurePrincipal | undefined;
    try {
      const token = request ? extractBearerToken(request as RequestWithHeaders) : null;
      const admitted = authorize(principal as AzurePrincipal, permissions, this.membership.lookupFor(permissions, token));
      // A caller whose groups were looked up (overage) is handed on with them.
      if (admitted instanceof Promise) return this.admitOnceAuthorized(admitted, context, request!);
      return true;
    } catch (failure) {
      throw this.refuse(failure, context, request);
    }
  }
}
