import { decodeJwtUnverified, hasValidSignature, type DecodedJwt } from './jwt.js';
import type { KeyStore } from './key-store.js';

/** Why a token the emulator was shown is not one of its own valid tokens. */
export type IssuedTokenProblem = 'malformed' | 'signature' | 'expired' | 'not_yet_valid';

/**
 * Checks a token that claims to come from the emulator, as Entra and Microsoft Graph check theirs:
 * signed (RS256) by a key the emulator publishes, within its lifetime. What the token is for
 * (audience, caller) is for the endpoint that received it to decide.
 *
 * @internal
 */
export function verifyIssuedToken(token: string, keys: KeyStore, nowSeconds = Date.now() / 1000): { token: DecodedJwt } | { problem: IssuedTokenProblem } {
  let decoded: DecodedJwt;
  try {
    decoded = decodeJwtUnverified(token);
  } catch {
    return { problem: 'malformed' };
  }
  const { header, payload } = decoded;
  const key = typeof header.kid === 'string' ? keys.publishedTenantKey(header.kid) : undefined;
  if (header.alg !== 'RS256' || key === undefined || !hasValidSignature(token, key)) {
    return { problem: 'signature' };
  }
  if (typeof payload.exp !== 'number' || payload.exp <= nowSeconds) {
    return { problem: 'expired' };
  }
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) {
    return { problem: 'not_yet_valid' };
  }
  return { token: decoded };
}
