import { HttpException } from '@nestjs/common';
import type { AzureAuthError } from './azure-auth.error.js';
import { buildErrorBody } from './www-authenticate.js';

/** The HTTP form of an {@link AzureAuthError}: status 401/403/503 and the JSON body with `reason`. */
export class AzureAuthException extends HttpException {
  constructor(readonly error: AzureAuthError) {
    super(buildErrorBody(error), error.status, { cause: error });
  }

  get reason(): AzureAuthError['reason'] {
    return this.error.reason;
  }
}
