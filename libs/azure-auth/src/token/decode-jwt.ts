import { AzureAuthErrors } from '../errors/messages.js';
import type { AzureAccessTokenClaims, JwtHeader } from './claims.js';

/** A compact JWS split and decoded, not yet verified. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  readonly payload: AzureAccessTokenClaims;
  /** Length of the signing input, `header.payload` (the token up to its second dot). */
  readonly signedLength: number;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * One buffer reused for every decode: each use is synchronous (decode, then copy out as a string or
 * hand to node:crypto within the same call), so tokens cost no buffer allocation of their own.
 */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

/** The reused buffer, grown when a caller needs more than it holds (its earlier content is gone then). */
export function scratchBuffer(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafeSlow(bytes);
  return scratch;
}

/**
 * Decodes base64url into `target` at `offset` and returns the byte count, refusing any spelling but
 * the canonical one (one token, one encoding). Node's decoder skips characters outside the
 * alphabet and accepts `+`, `/` and `=`: a skipped character shortens the output, so the length
 * check catches it; `+` and `/` are refused by name; and the unused low bits of the last character
 * must be zero. `target` must have room for the decoded length from `offset`.
 */
export function decodeBase64UrlInto(segment: string, name: string, target: Buffer, offset: number): number {
  const length = segment.length;
  const tail = length % 4;
  const unusedBits = tail === 2 ? 0x0f : tail === 3 ? 0x03 : 0;
  if (
    length === 0 ||
    tail === 1 ||
    target.write(segment, offset, 'base64url') !== Math.floor((length * 3) / 4) ||
    segment.includes('+') ||
    segment.includes('/') ||
    (BASE64URL_ALPHABET.indexOf(segment[length - 1]) & unusedBits) !== 0
  ) {
    throw AzureAuthErrors.malformed(`${name} is not canonical base64url`);
  }
  return Math.floor((length * 3) / 4);
}

/** A canonical base64url segment's bytes as UTF-8 text. */
function decodeText(segment: string, name: string): string {
  const target = scratchBuffer(segment.length);
  return target.toString('utf8', 0, decodeBase64UrlInto(segment, name, target, 0));
}

/**
 * Whether a JSON object names a top-level member twice. `JSON.parse` silently keeps the last one,
 * so `{"alg":"none","alg":"RS256"}` would mean different things to different parsers (RFC 7515
 * section 4: refuse it). `JSON.parse` makes one own property per distinct name (`__proto__`
 * included), so a duplicate shows as more names in the text than keys in the result, whatever
 * escapes spell them. Strings are skipped with `indexOf`: the loop walks only the few characters
 * between them, one pass.
 */
export function hasDuplicateMembers(json: string, parsed: object = JSON.parse(json) as object): boolean {
  let names = 0;
  let depth = 0;
  let expectName = false;
  const length = json.length;
  let at = 0;
  while (at < length) {
    const c = json.charCodeAt(at);
    if (c === 0x22 /* " */) {
      if (expectName && depth === 1) names++;
      expectName = false;
      // The closing quote is the first one not escaped by an odd run of backslashes.
      let end = json.indexOf('"', at + 1);
      while (end > 0 && isEscaped(json, end)) end = json.indexOf('"', end + 1);
      if (end < 0) break;
      at = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      expectName = depth === 1 && c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      expectName = depth === 1;
    }
    at++;
  }
  return names > Object.keys(parsed).length;
}

/** Whether the character at `at` follows an odd number of backslashes. */
function isEscaped(json: string, at: number): boolean {
  if (json.charCodeAt(at - 1) !== 0x5c /* backslash */) return false;
  let backslashes = 1;
  while (json.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

function parseSegment(text: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw AzureAuthErrors.malformed(`${name} is not JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw AzureAuthErrors.malformed(`${name} is not a JSON object`);
  }
  if (hasDuplicateMembers(text, parsed)) throw AzureAuthErrors.malformed(`${name} names a member twice`);
  return parsed as Record<string, unknown>;
}

/** Entra's tokens share a handful of headers: the last one decoded is kept, frozen, and reused. */
let lastHeaderSegment = '';
let lastHeader: JwtHeader | undefined;

function decodeHeader(segment: string): JwtHeader {
  if (segment === lastHeaderSegment && lastHeader) return lastHeader;
  const header = Object.freeze(parseSegment(decodeText(segment, 'header'), 'header')) as JwtHeader;
  lastHeaderSegment = segment;
  lastHeader = header;
  return header;
}

/**
 * Splits and decodes a compact JWS without verifying it. Refuses anything that is not exactly three
 * non-empty base64url segments whose first two are JSON objects (so JWE, padding and stray
 * characters never reach the verifier).
 */
export function decodeJwt(token: string): DecodedJwt {
  // Node's base64url decoder reads a character above U+00FF by its low byte: 'Ł' (U+0141) would
  // pass for 'A', and one token have many spellings. A string with any non-ASCII character is
  // longer in UTF-8 than in characters (a native count; ASCII outside the alphabet is caught below).
  if (Buffer.byteLength(token, 'utf8') !== token.length) throw AzureAuthErrors.malformed('characters outside base64url');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw AzureAuthErrors.malformed('a JWS has three parts');
  }
  if (second === first + 1 || second === token.length - 1) {
    throw AzureAuthErrors.malformed('empty part');
  }
  const signature = token.slice(second + 1);
  decodeBase64UrlInto(signature, 'signature', scratchBuffer(signature.length), 0);
  const header = decodeHeader(token.slice(0, first));
  return {
    header,
    payload: parseSegment(decodeText(token.slice(first + 1, second), 'payload'), 'payload') as AzureAccessTokenClaims,
    signedLength: second,
  };
}

/**
 * The claims of a token that already passed `decodeJwt` and verification (the cache found its
 * digest): decoded again from the token itself, so that nothing of it has to be kept meanwhile.
 */
export function decodeVerifiedPayload(token: string): AzureAccessTokenClaims {
  const first = token.indexOf('.');
  return JSON.parse(decodeText(token.slice(first + 1, token.indexOf('.', first + 1)), 'payload')) as AzureAccessTokenClaims;
}
