import { createVerify, type KeyObject } from 'node:crypto';
import { AzureAuthErrors } from '../errors/messages.js';
import { decodeBase64UrlInto, scratchBuffer, type DecodedJwt } from './decode-jwt.js';

/**
 * Checks an RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) over the very
 * bytes that were decoded, with node:crypto. `key` is an `rsa` KeyObject built from
 * the JWKS (never `rsa-pss`), for which PKCS#1 v1.5 is node:crypto's padding; the header's `alg`
 * was checked to be RS256 before the key was chosen, and `decodeJwt` checked every segment.
 */
export function checkRs256Signature(token: string, decoded: DecodedJwt, key: KeyObject): void {
  const signed = decoded.signedLength;
  const signature = token.slice(signed + 1);
  // Signing input and signature side by side in the reused buffer; base64url text is longer than its bytes.
  const bytes = scratchBuffer(signed + signature.length);
  // The signing input passed the canonical base64url check, so it is ASCII: latin1 writes its bytes.
  bytes.write(token, 0, signed, 'latin1');
  const signatureLength = decodeBase64UrlInto(signature, 'signature', bytes, signed);
  // A Verify object rather than one-shot crypto.verify: on OpenSSL 3 its set-up per call is lighter.
  const verifier = createVerify('sha256');
  verifier.update(bytes.subarray(0, signed));
  if (!verifier.verify(key, bytes.subarray(signed, signed + signatureLength))) throw AzureAuthErrors.invalidSignature();
}
