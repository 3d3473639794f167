/**
 * Our module's request path without HTTP, two ways: the `AzureAdStrategy` of a real Nest
 * application context run through `passport.authenticate(…, { session: false }, callback)` as
 * `AzureAuthGuard` runs it; and `AzureAuthGuard.canActivate` itself for `GET /api/me`, with the
 * execution context Nest builds per request.
 */
import passport from 'passport';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { AzureAdStrategy, AzureAuthGuard, AzureTokenVerifier } from 'nestjs-azure-auth';
import { BenchController, benchModule } from './bench-app.mjs';

/**
 * Authenticates one `Authorization` header value with a passport strategy; rejects when refused.
 * Like `AzureAuthGuard`, it hands passport an object derived from the strategy: passport attaches
 * the request's callbacks to the object it is given.
 */
export function authenticateWith(strategy, authorization) {
  return new Promise((resolve, reject) => {
    const request = { headers: { authorization } };
    const middleware = passport.authenticate(Object.create(strategy), { session: false }, (error, user, info) => {
      if (error) reject(error);
      else if (!user) reject(info instanceof Error ? info : new Error(`refused: ${JSON.stringify(info)}`));
      else resolve(user);
    });
    middleware(request, {}, reject);
  });
}

/**
 * Starts the module against the emulator (`authorityHost`, `tenantId`, `clientId`) and waits until
 * its metadata and keys are loaded, by authenticating `warmHeader`.
 */
export async function startModulePath(entra, warmHeader, extra = {}) {
  const context = await NestFactory.createApplicationContext(benchModule(entra, extra), { logger: false });
  const strategy = context.get(AzureAdStrategy, { strict: false });
  const verifier = context.get(AzureTokenVerifier, { strict: false });
  const guard = context.get(AzureAuthGuard, { strict: false });
  const handler = BenchController.prototype.me;
  await authenticateWith(strategy, warmHeader);
  return {
    strategy,
    verifier,
    /** Takes an `Authorization` header value. */
    authenticate: (authorization) => authenticateWith(strategy, authorization),
    /** `AzureAuthGuard.canActivate` for `GET /api/me`; rejects when refused. */
    guard: (authorization) => guard.canActivate(new ExecutionContextHost([{ headers: { authorization } }, {}, undefined], BenchController, handler)),
    close: () => context.close(),
  };
}
