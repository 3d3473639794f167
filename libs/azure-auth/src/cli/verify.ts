import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AzureAuthModule } from '../azure-auth.module.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import type { AzureAuthStatus } from '../errors/azure-auth.error.js';
import type { AzureAuthReason } from '../errors/reason-codes.js';
import { toAzureAuthError } from '../errors/to-azure-auth-error.js';
import { authorize } from '../guards/authorize.js';
import { AzureAdStrategy, authenticateWithPassport } from '../strategy/azure-ad.strategy.js';
import type { AzurePrincipal } from '../token/azure-principal.js';

/** The caller as the API would see it, without the claims already shown above it. */
export interface PrincipalSummary {
  readonly oid: string;
  readonly tid: string;
  readonly sub: string;
  readonly clientId: string;
  readonly tokenVersion: string;
  readonly appOnly: boolean;
  readonly guest: boolean;
  readonly name?: string;
  readonly username?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

/** The outcome of a verification, or why there was none. */
export type Verdict =
  | { readonly status: 'valid'; readonly principal: PrincipalSummary }
  | {
      readonly status: 'refused';
      readonly reason: AzureAuthReason;
      /** The HTTP status the API would answer with. */
      readonly httpStatus: AzureAuthStatus;
      readonly description: string;
      readonly hint?: string;
    }
  | { readonly status: 'skipped'; readonly note: string }
  | { readonly status: 'misconfigured'; readonly message: string };

function summarize(principal: AzurePrincipal): PrincipalSummary {
  const { oid, tid, sub, clientId, tokenVersion, appOnly, guest, name, username, scopes, roles } = principal;
  return { oid, tid, sub, clientId, tokenVersion, appOnly, guest, name, username, scopes, roles };
}

/**
 * Verifies a token with the module itself, as the API configured with `options` would: a Nest
 * application context with `AzureAuthModule`, and its strategy run through passport. The token
 * goes nowhere: only Entra's public metadata and keys are fetched. A verdict of `valid` means
 * `AzureAuthGuard` lets the token through on a route without `@Scopes` / `@AppPermissions` /
 * `@Roles`; the caller policies (client allow-list, guests, tokens without permissions) are applied.
 */
export async function verifyToken(token: string, options: AzureAuthModuleOptions): Promise<Verdict> {
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(
      // One token, checked once: no cache; keys are fetched when the token needs them, not ahead.
      AzureAuthModule.forRoot({ ...options, warmUp: false, tokenCache: false }),
      { logger: false, abortOnError: false },
    );
  } catch (error) {
    if (error instanceof AzureAuthConfigurationError) return { status: 'misconfigured', message: error.message };
    throw error;
  }
  try {
    const principal = await authenticateWithPassport(app.get(AzureAdStrategy), { headers: { authorization: `Bearer ${token}` } });
    authorize(principal, {});
    return { status: 'valid', principal: summarize(principal) };
  } catch (failure) {
    const [error] = toAzureAuthError(failure);
    return { status: 'refused', reason: error.reason, httpStatus: error.status, description: error.description, hint: error.hint };
  } finally {
    await app.close();
  }
}
