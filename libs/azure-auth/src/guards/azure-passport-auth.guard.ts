import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AzureAdStrategy, authenticateWithPassport } from '../strategy/azure-ad.strategy.js';
import { AzureGuardBase } from './azure-guard-base.js';
import { AzureAuthRefusals } from '../errors/azure-auth-refusals.js';

/**
 * Authentication through passport: runs this module's strategy (a passport-jwt strategy that hands
 * the bearer token to the module's verifier) and puts the caller on `request.user`, with the same
 * rules, cache and RFC 6750 answers as {@link AzureAuthGuard}. Authorization is left to
 * `AzurePermissionsGuard` after it. `@Public()` skips it.
 *
 * `AzureAuthGuard` does the same without passport's machinery around it; choose this guard when
 * passport must be in the path. Unlike `AuthGuard('azure-ad')` it runs this
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
    private readonly strategy: AzureAdStrategy,
    refusals: AzureAuthRefusals,
  ) {
    super(refusals);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.requirements.read(context).isPublic) return true;
    const request = this.getRequest(context);
    try {
      if (!request) throw new Error(`no request object for a ${context.getType()} call`);
      this.admit(context, request, await authenticateWithPassport(this.strategy, request, this.getResponse(context)));
      return true;
    } catch (failure) {
      throw this.refuse(failure, context, request);
    }
  }
}
