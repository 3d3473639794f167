import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { AZURE_AD_STRATEGY, AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureTokenVerifier, type PendingToken } from '../token/azure-token-verifier.js';
import type { AzureAccessTokenClaims } from '../token/claims.js';
import { extractBearerToken } from './extract-bearer-token.js';

/** Where the key provider leaves its decision for `validate` on the same request. */
const PENDING = Symbol('azure-auth:pending');

interface RequestWithPending {
  [PENDING]?: PendingToken;
}

/**
 * passport-jwt's options for Entra: the bearer header only, RS256 only, the key chosen by the
 * verifier (never by `jku`, `x5u`, `jwk` or `x5c`), lifetime with the configured skew.
 * @internal
 */
export function buildJwtStrategyOptions(options: ResolvedAzureAuthOptions, verifier: AzureTokenVerifier): StrategyOptionsWithRequest {
  return {
    jwtFromRequest: extractBearerToken as StrategyOptionsWithRequest['jwtFromRequest'],
    secretOrKeyProvider: (request: unknown, rawJwtToken: string, done: (error: unknown, key?: string) => void) => {
      new Promise<PendingToken>((resolve) => resolve(verifier.selectKey(rawJwtToken))).then(
        (pending) => {
          (request as RequestWithPending)[PENDING] = pending;
          // jsonwebtoken takes a KeyObject as it is: parsed once per key set, not per request.
          done(null, pending.key.publicKey as unknown as string);
        },
        (error: unknown) => done(error),
      );
    },
    passReqToCallback: true,
    algorithms: ['RS256'],
    jsonWebTokenOptions: { algorithms: ['RS256'], clockTolerance: options.clockToleranceSeconds },
  };
}

/**
 * The passport strategy `'azure-ad'` (for `AzurePassportAuthGuard`, `AuthGuard('azure-ad')` and
 * `passport.authenticate`): passport-jwt, with jsonwebtoken checking the signature against the key
 * set's `KeyObject`, Entra's rules around it, and a fast path for tokens that verified before.
 * `AzureAuthGuard` runs the same rules without passport, in one pass (`AzureTokenVerifier.verify`).
 */
@Injectable()
export class AzureAdStrategy extends PassportStrategy(JwtStrategy, AZURE_AD_STRATEGY) {
  constructor(
    @Inject(AZURE_AUTH_OPTIONS) options: ResolvedAzureAuthOptions,
    private readonly verifier: AzureTokenVerifier,
  ) {
    super(buildJwtStrategyOptions(options, verifier));
  }

  override authenticate(request: Parameters<JwtStrategy['authenticate']>[0], options?: object): void {
    const token = extractBearerToken(request as never);
    if (token !== null) {
      let cached: AzurePrincipal | undefined;
      try {
        cached = this.verifier.fromCache(token);
      } catch (error) {
        return this.fail(error as never, 401);
      }
      if (cached) return this.success(cached);
    }
    // A refusal found after the signature check (in validate) fails this request; passport-jwt
    // would report it as an error, which AuthGuard('azure-ad') turns into a 500. `this` is the
    // object passport derived for this request, so the override is this request's alone.
    const error = this.error.bind(this);
    this.error = (failure: Error) => (failure instanceof AzureAuthError ? this.fail(failure as never, failure.status) : error(failure));
    super.authenticate(request, options);
  }

  /**
   * After jsonwebtoken verified the signature. The claims checked are those decoded when the key
   * was chosen: the same bytes (duplicate members are refused, so both parsers read them alike).
   */
  validate(request: RequestWithPending, _payload: AzureAccessTokenClaims): AzurePrincipal | Promise<AzurePrincipal> {
    const pending = request[PENDING];
    request[PENDING] = undefined;
    if (!pending) throw new Error('validate() ran without a key decision');
    return this.verifier.complete(pending);
  }
}
