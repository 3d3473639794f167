import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { extractBearerToken, type RequestWithHeaders } from '../guards/extract-bearer-token.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';

/**
 * passport-jwt's options for Entra: the bearer header only, RS256 only, the key chosen by the
 * verifier from the module's key source (never by `jku`, `x5u`, `jwk` or `x5c`).
 * @internal
 */
export function buildJwtStrategyOptions(verifier: AzureTokenVerifier): StrategyOptionsWithRequest {
  return {
    jwtFromRequest: extractBearerToken as StrategyOptionsWithRequest['jwtFromRequest'],
    secretOrKeyProvider: (_request: unknown, rawJwtToken: string, done: (error: unknown, key?: string) => void) => {
      // jsonwebtoken takes the KeyObject as it is: parsed once per key set, not per request.
      verifier.signingKeyFor(rawJwtToken).then((key) => done(null, key as unknown as string), done);
    },
    passReqToCallback: true,
    algorithms: ['RS256'],
    // The lifetime is Entra's rule, with the module's skew: the verifier checks it before it hands
    // over the key and again after the signature. jsonwebtoken checks the signature only.
    jsonWebTokenOptions: { algorithms: ['RS256'], ignoreExpiration: true, ignoreNotBefore: true },
  };
}

/**
 * The passport strategy (named `'azure-ad'` unless `strategyName` says otherwise), for
 * `AzurePassportAuthGuard`, `AuthGuard('azure-ad')` and `passport.authenticate`: passport-jwt, with
 * the key from the module's key source and jsonwebtoken checking the signature, then the same
 * rules and cache as `AzureAuthGuard` (`AzureTokenVerifier`). A token that verified before skips
 * passport-jwt.
 */
@Injectable()
export class AzureAdStrategy extends PassportStrategy(JwtStrategy) {
  /** This strategy alone, under its name, for {@link authenticateWithPassport}: passport's own names are global to the process. */
  readonly authenticator = new passport.Passport();

  constructor(
    @Inject(AZURE_AUTH_OPTIONS) options: ResolvedAzureAuthOptions,
    private readonly verifier: AzureTokenVerifier,
  ) {
    super(buildJwtStrategyOptions(verifier));
    this.name = options.strategyName;
    passport.use(this.name, this);
    this.authenticator.use(this.name, this);
  }

  /** Registration waits for the constructor (above), where the configured name is known. */
  getPassportInstance(): passport.PassportStatic {
    return { use: () => undefined } as unknown as passport.PassportStatic;
  }

  override authenticate(request: Parameters<JwtStrategy['authenticate']>[0], options?: object): void {
    const token = extractBearerToken(request as RequestWithHeaders);
    if (token !== null) {
      let cached: AzurePrincipal | undefined;
      try {
        cached = this.verifier.fromCache(token);
      } catch (error) {
        return this.fail(error as never, 401);
      }
      if (cached) return this.success(cached);
    }
    super.authenticate(request, options);
  }

  /**
   * After jsonwebtoken verified the signature: the verifier's rules on the same token. A refusal is
   * a passport failure carrying the module's error (`[false, error]`), never an error, which
   * `AuthGuard` would turn into a 500.
   */
  async validate(request: RequestWithHeaders): Promise<AzurePrincipal | [false, AzureAuthError]> {
    try {
      return await this.verifier.verifySignedByPassport(extractBearerToken(request) ?? '');
    } catch (error) {
      if (error instanceof AzureAuthError) return [false, error];
      throw error;
    }
  }
}

/**
 * Runs a request through the strategy with passport, as `passport.authenticate` middleware would,
 * and answers with the caller, or rejects with what passport reported (the module's error for
 * every refusal the verifier made). Shared by `AzurePassportAuthGuard` and the token doctor.
 * @internal
 */
export function authenticateWithPassport(strategy: AzureAdStrategy, request: object, response: object = {}): Promise<AzurePrincipal> {
  return new Promise((resolve, reject) => {
    const middleware = strategy.authenticator.authenticate(strategy.name, { session: false }, (error: unknown, user: AzurePrincipal | false, info: unknown) => {
      if (error) reject(error);
      else if (!user) reject(info);
      else resolve(user);
    });
    middleware(request, response, (error: unknown) => reject(error));
  });
}
