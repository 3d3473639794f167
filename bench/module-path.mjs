/**
 * Our module's request path without HTTP, two ways: the `AzureAdStrategy` of a real Nest
 * application context run through `passport.authenticate(name, { session: false }, callback)`, as
 * route middleware and `AzurePassportAuthGuard` run it; and `AzureAuthGuard.canActivate` itself for `GET /api/me`, with the
 * execution context Nest builds per request.
 */
import passport from 'passport';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { AzureAdStrategy, AzureAuthGuard, AzureTokenVerifier, extractBearerToken } from 'nestjs-azure-auth';
import { BenchController, benchModule } from './bench-app.mjs';

/** What a strategy's `fail` was given, as the error a bench operation rejects with. */
function refusal(challenge) {
  return challenge instanceof Error ? challenge : new Error(`refused: ${JSON.stringify(challenge)}`);
}

/**
 * `passport.authenticate(name, { session: false }, callback)` for one strategy, as an app's route
 * middleware (or `AzurePassportAuthGuard`) calls it: by name, from a `Passport` instance of its own
 * (passport's names are global to the process). The returned function authenticates one
 * `Authorization` header value and rejects when refused. (Handing passport a fresh object derived
 * from the strategy per request, as this bench once did, made every request's strategy a prototype
 * of its own: V8 then built maps per request, a quarter of the module's cold-token time.)
 */
export function passportAuthenticator(strategy) {
  const authenticator = new passport.Passport();
  const name = 'bench';
  authenticator.use(name, strategy);
  return (authorization) =>
    new Promise((resolve, reject) => {
      const request = { headers: { authorization } };
      const middleware = authenticator.authenticate(name, { session: false }, (error, user, info) => {
        if (error) reject(error);
        else if (!user) reject(refusal(info));
        else resolve(user);
      });
      middleware(request, {}, reject);
    });
}

/**
 * An object derived from the strategy with the action functions passport attaches per request:
 * `succeed` gets the caller, `refuse` the error for a failure or an error.
 */
function derivedAttempt(strategy, succeed, refuse) {
  const attempt = Object.create(strategy);
  attempt.success = succeed;
  attempt.fail = (challenge) => refuse(refusal(challenge));
  attempt.error = refuse;
  return attempt;
}

/** See `strategyReused` below. */
function reusedAttempt(strategy) {
  let user;
  let refused;
  const attempt = derivedAttempt(
    strategy,
    (caller) => (user = caller),
    (error) => (refused = error),
  );
  return (authorization) => {
    user = refused = undefined;
    attempt.authenticate({ headers: { authorization } });
    if (refused !== undefined) throw refused;
    if (user === undefined) throw new Error('the strategy did not answer at once');
    return user;
  };
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
  const authenticate = passportAuthenticator(strategy);
  await authenticate(warmHeader);
  return {
    strategy,
    verifier,
    /** Takes an `Authorization` header value. */
    authenticate,
    /**
     * The strategy's own `authenticate` without passport: on an object derived from the strategy
     * with the action functions (`success`, `fail`, `error`) attached, as passport does per
     * request, but none of passport's middleware. Takes an `Authorization` header value.
     */
    strategyAlone: (authorization) =>
      new Promise((resolve, reject) => derivedAttempt(strategy, resolve, reject).authenticate({ headers: { authorization } })),
    /**
     * The strategy's own `authenticate`, called directly on one object derived from the strategy
     * once, whose action functions keep the answer: the strategy's code alone, without the objects
     * passport makes per request. Answers at once; throws when refused. Takes an `Authorization`
     * header value.
     */
    strategyReused: reusedAttempt(strategy),
    /**
     * `passport.authenticate` (as `authenticate` above) around a plain strategy object that hands
     * the bearer token to the same verifier and nothing else: passport's cost around the module's
     * check, without the module's strategy class. Takes an `Authorization` header value.
     */
    verifierThroughPassport: passportAuthenticator({
      authenticate(request) {
        let caller;
        try {
          caller = verifier.verify(extractBearerToken(request));
        } catch (error) {
          return this.fail(error);
        }
        if (caller instanceof Promise) caller.then((user) => this.success(user), (error) => this.fail(error));
        else this.success(caller);
      },
    }),
    /** `AzureAuthGuard.canActivate` for `GET /api/me`; rejects when refused. */
    guard: (authorization) => guard.canActivate(new ExecutionContextHost([{ headers: { authorization } }, {}, undefined], BenchController, handler)),
    close: () => context.close(),
  };
}
