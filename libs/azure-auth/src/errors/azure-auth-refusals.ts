import { Inject, Injectable, Logger } from '@nestjs/common';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { AzureAuthFailureEvent } from '../azure-auth.options.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthException } from './azure-auth.exception.js';
import { toAzureAuthError } from './to-azure-auth-error.js';
import { buildWwwAuthenticate } from './www-authenticate.js';
import type { AzurePrincipal } from '../token/azure-principal.js';
import { decodeJwt } from '../token/decode-jwt.js';

/** Claims as written in a token: short strings only, without control characters (they end up in logs). */
function loggable(value: unknown): string | undefined {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length <= 256 ? value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '') : undefined;
}

/** The answer to a refusal: the exception (status and JSON body) and the headers to send with it. */
export interface AzureAuthRefusal {
  readonly exception: AzureAuthException;
  /** `WWW-Authenticate` (RFC 6750) and, for a 503, `Retry-After`. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/**
 * Turns any failure into the answer: the exception with its JSON body, the `WWW-Authenticate`
 * and `Retry-After` headers, a log line with the reason (never the token), and the
 * `onAuthFailure` hook. The transport (where headers go) is the guards' business.
 * @internal
 */
@Injectable()
export class AzureAuthRefusals {
  private readonly logger = new Logger('AzureAuth');

  constructor(@Inject(AZURE_AUTH_OPTIONS) private readonly options: ResolvedAzureAuthOptions) {}

  /**
   * `token`: what the call carried, if anything (its claims, unverified, go to `onAuthFailure`);
   * `verified`: the caller, when the token verified and a permission or policy refused it.
   */
  refuse(failure: unknown, token: string | null, verified?: AzurePrincipal): AzureAuthRefusal {
    const [error, unexpected] = toAzureAuthError(failure);
    if (unexpected) {
      const cause = failure instanceof Error ? `${failure.name}: ${failure.message}` : typeof failure;
      this.logger.error(`Token check failed unexpectedly (${cause}); answering 401`);
    } else {
      this.logger.debug(`Refused ${error.status} ${error.reason}: ${error.description}${error.hint ? ` (${error.hint})` : ''}`);
    }
    const headers: Array<readonly [string, string]> = [];
    const challenge = buildWwwAuthenticate(error, this.options.realm);
    if (challenge) headers.push(['WWW-Authenticate', challenge]);
    if (error.retryAfterSeconds !== undefined) headers.push(['Retry-After', String(error.retryAfterSeconds)]);
    if (this.options.onAuthFailure) this.notify(error, token, verified);
    return { exception: new AzureAuthException(error), headers };
  }

  private notify(error: AzureAuthFailureEvent['error'], token: string | null, verified: AzurePrincipal | undefined): void {
    let payload: Record<string, unknown> | undefined = verified?.claims;
    if (!payload) {
      if (token && token.length <= this.options.maxTokenBytes) {
        try {
          payload = decodeJwt(token).payload;
        } catch {
          payload = undefined;
        }
      }
    }
    const claims: AzureAuthFailureEvent['claims'] = payload && {
      verified: verified !== undefined,
      tid: loggable(payload.tid),
      oid: loggable(payload.oid),
      clientId: loggable(payload.azp) ?? loggable(payload.appid),
      aud: loggable(payload.aud),
      iss: loggable(payload.iss),
      ver: loggable(payload.ver),
    };
    try {
      this.options.onAuthFailure?.({ error, claims });
    } catch (hookError) {
      this.logger.warn(`onAuthFailure threw: ${hookError instanceof Error ? hookError.message : String(hookError)}`);
    }
  }
}
