import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AzureAuthErrors } from '../errors/messages.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { authorize, type PermissionRequirements } from './authorize.js';
import { AzureGuardBase } from './azure-guard-base.js';
import type { TransportObject } from './execution-context.js';
import { extractBearerToken, type RequestWithHeaders } from './extract-bearer-token.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';
import { AzureGroupMembership } from '../membership/group-membership.js';

/**
 * Verifies the bearer token ({@link AzureTokenVerifier}: the cache first, otherwise one pass of
 * decoding, key, RS256 check and Entra's rules), enforces `@Scopes` / `@AppPermissions` / `@Roles`
 * and the caller policies (client allow-list, guests, tokens without permissions), and only then
 * puts the {@link AzurePrincipal} on `request.user` (a refusal leaves none). `@Public()` skips it.
 *
 * Use per controller (`@UseGuards(AzureAuthGuard)`) or globally (`{ provide: APP_GUARD, useClass:
 * AzureAuthGuard }`). For other transports, extend it and override {@link getRequest}.
 *
 * @example
 * ```ts
 * @UseGuards(AzureAuthGuard)
 * @Controller('todolist')
 * export class TodoListController { ... }
 * ```
 */
@Injectable()
export class AzureAuthGuard extends AzureGuardBase implements CanActivate {
  constructor(
    refusals: AzureAuthRefusals,
    private readonly verifier: AzureTokenVerifier,
    private readonly membership: AzureGroupMembership,
  ) {
    super(refusals);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    let principal: AzurePrincipal | Promise<AzurePrincipal> | undefined;
    try {
      if (!request) throw new Error(`no request object for a ${context.getType()} call`);
      const token = extractBearerToken(request as RequestWithHeaders);
      if (token === null) throw AzureAuthErrors.tokenMissing();
      // A cached token, or a new one whose metadata and keys are at hand, is answered at once.
      principal = this.verifier.verify(token);
      if (principal instanceof Promise) return this.authorizeOnceVerified(principal, context, request, permissions, token);
      const admitted = authorize(principal, permissions, this.membership.lookupFor(permissions, token));
      if (admitted instanceof Promise) return this.admitOnceAuthorized(admitted, context, request, principal);
      this.admit(context, request, admitted);
      return true;
    } catch (failure) {
      // Refusals always arrive as a rejected promise, whichever path found them.
      return Promise.reject(this.refuse(failure, context, request, principal instanceof Promise ? undefined : principal));
    }
  }

  private async authorizeOnceVerified(
    pending: Promise<AzurePrincipal>,
    context: ExecutionContext,
    request: TransportObject,
    permissions: PermissionRequirements,
    token: string,
  ): Promise<boolean> {
    let principal: AzurePrincipal | undefined;
    try {
      principal = await pending;
      this.admit(context, request, await authorize(principal, permissions, this.membership.lookupFor(permissions, token)));
      return true;
    } catch (failure) {
      throw this.refuse(failure, context, request, principal);
    }
  }
}
