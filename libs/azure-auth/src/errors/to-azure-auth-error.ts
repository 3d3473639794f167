import { AzureAuthError } from './azure-auth.error.js';
import { AzureAuthErrors } from './messages.js';

interface JwtLibraryError {
  name?: unknown;
  message?: unknown;
  expiredAt?: unknown;
  date?: unknown;
}

/**
 * Turns whatever passport / passport-jwt / jsonwebtoken reported into our one error type. The
 * second value is true when the failure was not foreseen (to be logged as an error).
 */
export function toAzureAuthError(failure: unknown, nowMs: number = Date.now()): [AzureAuthError, boolean] {
  if (failure instanceof AzureAuthError) return [failure, false];
  const error = (failure ?? {}) as JwtLibraryError;
  const message = typeof error.message === 'string' ? error.message : '';
  switch (error.name) {
    case 'TokenExpiredError': {
      const expiredAt = error.expiredAt instanceof Date ? error.expiredAt.getTime() : nowMs;
      return [AzureAuthErrors.expired(Math.max(0, Math.floor((nowMs - expiredAt) / 1000))), false];
    }
    case 'NotBeforeError': {
      const date = error.date instanceof Date ? error.date.getTime() : nowMs;
      return [AzureAuthErrors.notYetValid(Math.max(0, Math.ceil((date - nowMs) / 1000))), false];
    }
    case 'JsonWebTokenError':
      if (message === 'invalid signature') return [AzureAuthErrors.invalidSignature(), false];
      if (/\balgorithm\b/.test(message)) return [AzureAuthErrors.unsupportedAlgorithm(undefined), false];
      if (/\bexp\b/.test(message)) return [AzureAuthErrors.invalidClaims('exp'), false];
      if (/\bnbf\b/.test(message)) return [AzureAuthErrors.invalidClaims('nbf'), false];
      return [AzureAuthErrors.malformed('not a verifiable JWS'), false];
  }
  // passport-jwt's words when its extractor found no token
  if (message === 'No auth token' || failure === undefined) return [AzureAuthErrors.tokenMissing(), false];
  return [AzureAuthErrors.tokenRejected(), true];
}
