/** A request as far as token extraction cares: Express, Fastify and raw Node requests all fit. */
export interface RequestWithHeaders {
  headers?: Record<string, string | string[] | undefined>;
}

const BEARER = 'bearer';

/**
 * The token of an `Authorization: Bearer` header (scheme case-insensitive, RFC 7235), or null.
 * Only the header: never the query string or body (RFC 6750 discourages both; URLs get logged).
 */
export function extractBearerToken(request: RequestWithHeaders): string | null {
  const header = request?.headers?.authorization;
  if (typeof header !== 'string' || header.length < 8 || header.charCodeAt(6) !== 32) return null;
  // "Bearer" in any case, compared in place (no string per request).
  for (let i = 0; i < 6; i++) if ((header.charCodeAt(i) | 0x20) !== BEARER.charCodeAt(i)) return null;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : null;
}
