import { AzureAuthError } from './azure-auth.error.js';
import { AzureAuthErrors } from './messages.js';

/**
 * Turns whatever a refusal carries into our one error type: the verifier's own `AzureAuthError`
 * (every door hands tokens to it, the passport strategy included), passport-jwt's refusal of a
 * request without a token, or anything unforeseen. The second value is true when the failure was
 * not foreseen (to be logged as an error).
 */
export function toAzureAuthError(failure: unknown): [AzureAuthError, boolean] {
  if (failure instanceof AzureAuthError) return [failure, false];
  // passport-jwt's words when its extractor found no token
  if (failure === undefined || (failure instanceof Error && failure.message === 'No auth token')) return [AzureAuthErrors.tokenMissing(), false];
  return [AzureAuthErrors.tokenRejected(), true];
}
