import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { base64UrlEncode } from './signing-keys.js';

/**
 * A JWT header or payload: an object is JSON-encoded; a string is encoded byte for byte, so that
 * hostile-token tests can sign text that is not JSON at all.
 */
export type JwtSegment = Record<string, unknown> | string;

/** A token split into its parts, without any check of its signature. */
export interface DecodedJwt {
  /** The parsed JOSE header. */
  header: Record<string, unknown>;
  /** The parsed claims. */
  payload: Record<string, unknown>;
  /** The base64url signature, as found in the token. */
  signature: string;
  /** `header.payload` as found in the token: the bytes the signature covers. */
  signingInput: string;
}

function encodeSegment(segment: JwtSegment): string {
  return base64UrlEncode(typeof segment === 'string' ? segment : JSON.stringify(segment));
}

/**
 * Signs with RS256 (RSASSA-PKCS1-v1_5 over SHA-256) whatever the header says, so a test can put a
 * lying `alg` in the header and still get a token that is otherwise well formed.
 */
export function signRs256(header: JwtSegment, payload: JwtSegment, privateKey: KeyObject): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Whether a compact JWS carries a valid RS256 or PS256 signature by `publicKey` (the two
 * algorithms Entra takes in client assertions: MSAL signs PS256 with a SHA-256 thumbprint).
 */
export function hasValidSignature(token: string, publicKey: KeyObject): boolean {
  const { header, signature, signingInput } = decodeJwtUnverified(token);
  const data = Buffer.from(signingInput, 'ascii');
  const bytes = Buffer.from(signature, 'base64url');
  if (header.alg === 'RS256') return verify('sha256', data, publicKey, bytes);
  if (header.alg === 'PS256') {
    return verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, bytes);
  }
  return false;
}

function parseSegment(segment: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`JWT ${name} is not base64url-encoded JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`JWT ${name} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reads a compact JWT's header and claims WITHOUT verifying it. For assertions in tests only:
 * nothing decoded here may be trusted.
 *
 * @example
 * const { header, payload } = decodeJwtUnverified(entra.mintAccessToken());
 * expect(header.kid).toBe(entra.signingKid);
 */
export function decodeJwtUnverified(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new Error(`A compact JWT has 3 dot-separated parts, this one has ${parts.length}`);
  }
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: parseSegment(header, 'header'),
    payload: parseSegment(payload, 'payload'),
    signature,
    signingInput: `${header}.${payload}`,
  };
}

/**
 * Shallow-merges `overrides` into a copy of `base`; an override whose value is `undefined` removes
 * the key, which is how tests build tokens that lack a claim or header field.
 */
export function mergeRemovingUndefined(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) {
      delete merged[key];
    } else {
      merged[key] = value;
    }
  }
  return merged;
}
