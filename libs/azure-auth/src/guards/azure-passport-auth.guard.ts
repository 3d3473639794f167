import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import passport from 'passport';
import { AzureAdStrategy } from '../strategy/azure-ad.strategy.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureGuardBase } from './azure-guard-base.js';
import type { TransportObject } from './execution-context.js';
import { AzureAuthRefusals } from './refusal.js';

/**
 * Authentication through passport: runs this module's `'azure-ad'` strategy (passport-jwt, with
 * jsonwebtoken checking the signature against the key set's `KeyObject`) and puts the caller on
 * `request.user`, with the same rules, cache and RFC 6750 answers as {@link AzureAuthGuard}.
 * Authorization is left to `AzurePermissionsGuard` after it. `@Public()` skips it.
 *
 * `AzureAuthGuard` runs the same rules in one pass without passport and is faster on new tokens;
 * choose this guard when passport must be in the path. Unlike `AuthGuard('azure-ad')` it runs this
 * application's own strategy instance (passport's names are global to the process) and answers
 * with the module's reason codes and `WWW-Authenticate` rather than a bare 401.
 *
 * @example
 * ```ts
 * @UseGuards(AzurePassportAuthGuard, AzurePermissionsGuard)
 * @Controller('todolist')
 * export class TodoListController { ... }
 * ```
 */
@Injectable()
export class AzurePassportAuthGuard extends AzureGuardBase implements CanActivate {
  constructor(
    reflector: Reflector,
    private readonly strategy: AzureAdStrategy,
    private readonly refusals: AzureAuthRefusals,
  ) {
    super(reflector);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.requirements.read(context).isPublic) return true;
    const request = this.getRequest(context);
    const response = this.getResponse(context);
    try {
      if (!request) throw new Error(`no request object for a ${context.getType()} call`);
      request.user = await this.authenticate(request, response);
      return true;
    } catch (failure) {
      throw this.refusals.refuse(failure, request, response);
    }
  }

  /**
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
