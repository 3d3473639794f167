import { AzureAuthErrors } from '../errors/messages.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';

/** A compact JWS split and decoded, not yet verified. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  readonly payload: AzureAccessTokenClaims;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function decodeSegment(segment: string, name: string): Record<string, unknown> {
  if (!BASE64URL.test(segment)) throw AzureAuthErrors.malformed(`${name} is not base64url`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw AzureAuthErrors.malformed(`${name} is not JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw AzureAuthErrors.malformed(`${name} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWS without verifying it. Refuses anything that is not exactly three
 * non-empty base64url segments whose first two are JSON objects (so JWE, padding and stray
 * characters never reach the verifier).
 */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw AzureAuthErrors.malformed('a JWS has three parts');
  }
  if (second === first + 1 || second === token.length - 1) {
    throw AzureAuthErrors.malformed('empty part');
  }
  if (!BASE64URL.test(token.slice(second + 1))) throw AzureAuthErrors.malformed('signature is not base64url');
  return {
    header: decodeSegment(token.slice(0, first), 'header') as JwtHeader,
    payload: decodeSegment(token.slice(first + 1, second), 'payload') as AzureAccessTokenClaims,
  };
}
