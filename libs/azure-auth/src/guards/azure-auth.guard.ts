import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { extractBearerToken, type RequestWithHeaders } from '../strategy/extract-bearer-token.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { authorize, type PermissionRequirements } from './authorize.js';
import { AzureGuardBase } from './azure-guard-base.js';
import type { TransportObject } from './execution-context.js';
import { AzureAuthRefusals } from './refusal.js';

/**
 * Verifies the bearer token ({@link AzureTokenVerifier}: the cache first, otherwise one pass of
 * decoding, key choice, RS256 check and Entra's rules), puts the {@link AzurePrincipal} on
 * `request.user`, then enforces `@Scopes` / `@AppPermissions` / `@Roles` and the caller
 * policies (client allow-list, guests, tokens without permissions). `@Public()` skips it.
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
    reflector: Reflector,
    private readonly refusals: AzureAuthRefusals,
    private readonly verifier: AzureTokenVerifier,
  ) {
    super(reflector);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    try {
      if (!request) throw new Error(`no request object for a ${context.getType()} call`);
      const token = extractBearerToken(request as RequestWithHeaders);
      if (token === null) throw AzureAuthErrors.tokenMissing();
      // A cached token, or a new one whose metadata and keys are at hand, is answered at once.
      const principal = this.verifier.verify(token);
      if (principal instanceof Promise) return this.admitOnceVerified(principal, context, request, permissions);
      this.admit(request, principal, permissions);
      return true;
    } catch (failure) {
      // Refusals always arrive as a rejected promise, whichever path found them.
      return Promise.reject(this.refusals.refuse(failure, request, this.getResponse(context)));
    }
  }

  private async admitOnceVerified(
    principal: Promise<AzurePrincipal>,
    context: ExecutionContext,
    request: TransportObject,
    permissions: PermissionRequirements,
  ): Promise<boolean> {
    try {
      this.admit(request, await principal, permissions);
      return true;
    } catch (failure) {
      throw this.refusals.refuse(failure, request, this.getResponse(context));
    }
  }

  private admit(request: TransportObject, principal: AzurePrincipal, permissions: PermissionRequirements): void {
    request.user = principal;
    authorize(principal, permissions, this.verifier.optionsFor(principal));
  }
}
