import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import passport from 'passport';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { AzureAdStrategy } from '../strategy/azure-ad.strategy.js';
import { extractBearerToken, type RequestWithHeaders } from '../strategy/extract-bearer-token.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { authorize, type PermissionRequirements } from './authorize.js';
import { getRequestOf, getResponseOf, type TransportObject } from './execution-context.js';
import { AzureAuthRefusals } from './refusal.js';
import { RouteRequirementsReader } from './route-requirements.js';

/**
 * Authenticates the bearer token with the `'azure-ad'` strategy, puts the {@link AzurePrincipal}
 * on `request.user`, then enforces `@Scopes` / `@AppPermissions` / `@Roles` and the caller
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
export class AzureAuthGuard implements CanActivate {
  private readonly requirements: RouteRequirementsReader;

  constructor(
    reflector: Reflector,
    private readonly strategy: AzureAdStrategy,
    private readonly refusals: AzureAuthRefusals,
    private readonly verifier: AzureTokenVerifier,
  ) {
    this.requirements = new RouteRequirementsReader(reflector);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, permissions } = this.requirements.read(context);
    if (isPublic) return true;
    const request = this.getRequest(context);
    const response = this.getResponse(context);
    let principal: AzurePrincipal | undefined;
    try {
      if (!request) throw new Error(`no request object for a ${context.getType()} call`);
      // A token that verified before is answered at once, with no promise and no trip through passport.
      const token = extractBearerToken(request as RequestWithHeaders);
      principal = token !== null ? this.verifier.fromCache(token) : undefined;
      if (principal) this.admit(request, principal, permissions);
    } catch (failure) {
      // Refusals always arrive as a rejected promise, whichever path found them.
      return Promise.reject(this.refusals.refuse(failure, request, response));
    }
    return principal ? true : this.authenticateAndAdmit(request!, response, permissions);
  }

  private async authenticateAndAdmit(request: TransportObject, response: TransportObject | undefined, permissions: PermissionRequirements): Promise<boolean> {
    try {
      this.admit(request, await this.authenticate(request, response), permissions);
      return true;
    } catch (failure) {
      throw this.refusals.refuse(failure, request, response);
    }
  }

  private admit(request: TransportObject, principal: AzurePrincipal, permissions: PermissionRequirements): void {
    request.user = principal;
    authorize(principal, permissions, this.verifier.optionsFor(principal));
  }

  /** The request that carries the `Authorization` header. Override for other transports. */
  protected getRequest(context: ExecutionContext): TransportObject | undefined {
    return getRequestOf(context);
  }

  protected getResponse(context: ExecutionContext): TransportObject | undefined {
    return getResponseOf(context);
  }

  /**
   * Runs our strategy instance (not a global name, so several apps in one process never mix).
   * Passport attaches a request's success/fail callbacks to the strategy object it is given, so
   * each request gets its own object derived from the strategy, or concurrent requests would
   * answer each other.
   */
  private authenticate(request: TransportObject, response: TransportObject | undefined): Promise<AzurePrincipal> {
    return new Promise((resolve, reject) => {
      const middleware = passport.authenticate(Object.create(this.strategy) as AzureAdStrategy, { session: false }, (error: unknown, user: AzurePrincipal | false, info: unknown) => {
        if (error) reject(error);
        else if (!user) reject(info);
        else resolve(user);
      });
      middleware(request, response ?? {}, (error: unknown) => reject(error));
    });
  }
}
