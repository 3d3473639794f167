import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { authorize } from './authorize.js';
import { AzureGuardBase } from './azure-guard-base.js';
import { AzureAuthRefusals } from './refusal.js';

/**
 * Authorization only: enforces `@Scopes` / `@AppPermissions` / `@Roles` on a caller that an
 * earlier guard authenticated (`request.user`). `AzureAuthGuard` already includes this check;
 * use this guard second in a global pair, or after `AzurePassportAuthGuard`. Without an
 * authenticated caller it refuses with 401, so a misordered setup fails closed.
 */
@Injectable()
export class AzurePermissionsGuard extends AzureGuardBase implements CanActivate {
  constructor(
    reflector: Reflector,
    private readonly refusals: AzureAuthRefusals,
    private readonly verifier: AzureTokenVerifier,
  ) {
    super(reflector);
  }

  canActivate(context: ExecutionContext): boolean {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    try {
      const principal = request?.user as AzurePrincipal | undefined;
      if (!principal || typeof principal.appOnly !== 'boolean') throw AzureAuthErrors.tokenMissing();
      authorize(principal, permissions, this.verifier.optionsFor(principal));
      return true;
    } catch (failure) {
      throw this.refusals.refuse(failure, request, this.getResponse(context));
    }
  }
}
