import { AzureAuthErrors } from '../errors/messages.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';

/** A compact JWS split and decoded, not yet verified. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  readonly payload: AzureAccessTokenClaims;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Decodes base64url, refusing any spelling but the canonical one (one token, one encoding). Node's
 * decoder skips characters outside the alphabet and accepts `+`, `/` and `=`: a skipped character
 * shortens the output, so the length check catches it; `+` and `/` are refused by name; and the
 * unused low bits of the last character must be zero.
 */
function decodeBase64Url(segment: string, name: string): Buffer {
  const length = segment.length;
  const bytes = Buffer.from(segment, 'base64url');
  const tail = length % 4;
  const unusedBits = tail === 2 ? 0x0f : tail === 3 ? 0x03 : 0;
  if (
    length === 0 ||
    tail === 1 ||
    bytes.length !== Math.floor((length * 3) / 4) ||
    segment.includes('+') ||
    segment.includes('/') ||
    (BASE64URL_ALPHABET.indexOf(segment[length - 1]) & unusedBits) !== 0
  ) {
    throw AzureAuthErrors.malformed(`${name} is not canonical base64url`);
  }
  return bytes;
}

/**
 * Whether a JSON object (already known to parse) names a top-level member twice. `JSON.parse`
 * silently keeps the last one, so `{"alg":"none","alg":"RS256"}` would mean different things to
 * different parsers (RFC 7515 section 4: refuse it).
 */
export function hasDuplicateMembers(json: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      while (json.charCodeAt(end) !== 0x22) {
        if (json.charCodeAt(end) === 0x5c /* \ */) {
          escaped = true;
          end += 2;
        } else {
          end++;
        }
      }
      if (depth === 1 && expectName) {
        const name = escaped ? (JSON.parse(json.slice(i, end + 1)) as string) : json.slice(i + 1, end);
        if (seen.has(name)) return true;
        seen.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      expectName = depth === 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectName = true;
    }
  }
  return false;
}

function decodeSegment(segment: string, name: string): Record<string, unknown> {
  const text = decodeBase64Url(segment, name).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw AzureAuthErrors.malformed(`${name} is not JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw AzureAuthErrors.malformed(`${name} is not a JSON object`);
  }
  if (hasDuplicateMembers(text)) throw AzureAuthErrors.malformed(`${name} names a member twice`);
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
  decodeBase64Url(token.slice(second + 1), 'signature');
  return {
    header: decodeSegment(token.slice(0, first), 'header') as JwtHeader,
    payload: decodeSegment(token.slice(first + 1, second), 'payload') as AzureAccessTokenClaims,
  };
}
