import { HttpException } from '@nestjs/common';
import type { AzureAuthError } from './azure-auth.error.js';
import { buildErrorBody } from './www-authenticate.js';

/** GraphQL's names for the statuses of a refusal, as Apollo's driver gives them over HTTP. */
const GRAPHQL_CODES: Readonly<Record<number, string>> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 503: 'SERVICE_UNAVAILABLE' };

/** The HTTP form of an {@link AzureAuthError}: status 401/403/503 and the JSON body with `reason`. */
export class AzureAuthException extends HttpException {
  constructor(readonly error: AzureAuthError) {
    super(buildErrorBody(error), error.status, { cause: error });
  }

  get reason(): AzureAuthError['reason'] {
    return this.error.reason;
  }

  /**
   * What a GraphQL error made of this refusal carries in its `extensions`: graphql-js copies an
   * original error's own, so transports that format no errors themselves (Mercurius' subscriptions)
   * still say the reason. `code` as Apollo names the status, `originalError` the JSON body.
   */
  get extensions(): { code: string; originalError: object } {
    return { code: GRAPHQL_CODES[this.getStatus()], originalError: this.getResponse() as object };
  }
}
