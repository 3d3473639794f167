/** A request as far as token extraction cares: Express, Fastify and raw Node requests all fit. */
export interface RequestWithHeaders {
  headers?: Record<string, string | string[] | undefined>;
}

const BEARER = 'bearer';
const SPACE = 0x20;
const TAB = 0x09;

function isWhitespace(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * The token of an `Authorization: Bearer` header (scheme case-insensitive, RFC 7235), or null.
 * Only the header: never the query string or body (RFC 6750 discourages both; URLs get logged).
 * Whitespace is what HTTP says it is, space and horizontal tab: anything else (U+00A0, other
 * Unicode spaces, line breaks) stays part of the token, which then fails as malformed.
 */
export function extractBearerToken(request: RequestWithHeaders): string | null {
  const header = request?.headers?.authorization;
  if (typeof header !== 'string' || header.length < 8 || header.charCodeAt(6) !== SPACE) return null;
  // "Bearer" in any case, compared in place (no string per request).
  for (let i = 0; i < 6; i++) if ((header.charCodeAt(i) | 0x20) !== BEARER.charCodeAt(i)) return null;
  let start = 7;
  let end = header.length;
  while (start < end && isWhitespace(header.charCodeAt(start))) start++;
  while (end > start && isWhitespace(header.charCodeAt(end - 1))) end--;
  return end > start ? (start === 7 && end === header.length ? header.slice(7) : header.slice(start, end)) : null;
}
