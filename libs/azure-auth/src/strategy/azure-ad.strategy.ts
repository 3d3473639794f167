import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { extractBearerToken, type RequestWithHeaders } from '../guards/extract-bearer-token.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';

/**
 * passport-jwt's options for Entra: the bearer header only, RS256 only. passport-jwt is the base
 * for its extractor and its refusal of a request without a token; a token never reaches its key
 * provider, nor jsonwebtoken: {@link AzureAdStrategy.authenticate} hands every token to the
 * verifier, which decodes it once and checks its signature over those bytes.
 */
function buildJwtStrategyOptions(): StrategyOptionsWithRequest {
  return {
    jwtFromRequest: extractBearerToken as StrategyOptionsWithRequest['jwtFromRequest'],
    secretOrKeyProvider: (_request: unknown, _rawJwtToken: string, done: (error: unknown) => void) => done(AzureAuthErrors.tokenRejected()),
    passReqToCallback: true,
    algorithms: ['RS256'],
  };
}

/**
 * The passport strategy (named `'azure-ad'` unless `strategyName` says otherwise), for
 * `AzurePassportAuthGuard`, `AuthGuard('azure-ad')` and `passport.authenticate`: the bearer token
 * through the same verifier, rules and cache as `AzureAuthGuard` (`AzureTokenVerifier`), its
 * answer given to passport as success or failure, at once when nothing had to be fetched.
 */
@Injectable()
export class AzureAdStrategy extends PassportStrategy(JwtStrategy) {
  /** This strategy alone, under its name, for {@link authenticateWithPassport}: passport's own names are global to the process. */
  readonly authenticator = new passport.Passport();

  constructor(
    @Inject(AZURE_AUTH_OPTIONS) options: ResolvedAzureAuthOptions,
    private readonly verifier: AzureTokenVerifier,
  ) {
    super(buildJwtStrategyOptions());
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
    // No token: passport-jwt's own refusal.
    if (token === null) return super.authenticate(request, options);
    let answer: AzurePrincipal | Promise<AzurePrincipal>;
    try {
      answer = this.verifier.verify(token);
    } catch (error) {
      return this.refuse(error);
    }
    if (answer instanceof Promise) {
      answer.then(
        (principal) => this.success(principal),
        (error: unknown) => this.refuse(error),
      );
    } else {
      this.success(answer);
    }
  }

  /** Never called: {@link authenticate} answers every token itself (`PassportStrategy` requires one). */
  validate(): [false, AzureAuthError] {
    return [false, AzureAuthErrors.tokenRejected()];
  }

  /** A refusal is a passport failure carrying the module's error, not an error, which `AuthGuard` would turn into a 500; only a fault of the module's own is one. */
  private refuse(error: unknown): void {
    if (error instanceof AzureAuthError) this.fail(error as never, 401);
    else this.error(error as Error);
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
