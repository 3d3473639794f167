import { extractBearerToken } from '../guards/extract-bearer-token.js';

/** The parts of a WebSocket handshake a token may come in (socket.io's handshake, or the ws upgrade request). */
export interface WebSocketHandshake {
  readonly headers?: Record<string, string | string[] | undefined>;
  /** socket.io's `auth` object (`io(url, { auth: { token } })`). */
  readonly auth?: Record<string, unknown>;
  /** socket.io's parsed query. */
  readonly query?: Record<string, unknown>;
  /** The request URL (ws), whose query is read only when allowed. */
  readonly url?: string;
}

/** The subprotocol that announces a token as the next subprotocol (browsers cannot set headers on a WebSocket). */
export const ACCESS_TOKEN_SUBPROTOCOL = 'access_token';
/** The query parameter of RFC 6750 §2.3, read only with `allowQueryToken`. */
const QUERY_PARAMETER = 'access_token';

/** A token as a client may hand it over: bare, or as `Bearer <token>`. @internal */
export function bareToken(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return extractBearerToken({ headers: { authorization: value } }) ?? (/\s/.test(value) ? null : value);
}

function subprotocolToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const protocols = header.split(',').map((protocol) => protocol.trim());
  const marker = protocols.indexOf(ACCESS_TOKEN_SUBPROTOCOL);
  return marker === -1 ? null : bareToken(protocols[marker + 1]);
}

function queryToken(handshake: WebSocketHandshake): string | null {
  if (handshake.query) return bareToken(handshake.query[QUERY_PARAMETER]);
  if (!handshake.url) return null;
  try {
    return bareToken(new URL(handshake.url, 'http://localhost').searchParams.get(QUERY_PARAMETER));
  } catch {
    // A request target no URL parser accepts carries no token.
    return null;
  }
}

/**
 * The token of a WebSocket handshake, from the first place that has one: socket.io's
 * `auth.token`; the `Authorization: Bearer` header; the subprotocols `access_token, <token>`;
 * and only when `allowQueryToken` is set, the `access_token` query parameter (URLs end up in logs).
 * @internal
 */
export function handshakeToken(handshake: WebSocketHandshake, allowQueryToken: boolean): string | null {
  return (
    bareToken(handshake.auth?.token) ??
    extractBearerToken(handshake) ??
    subprotocolToken(handshake.headers?.['sec-websocket-protocol']) ??
    (allowQueryToken ? queryToken(handshake) : null)
  );
}
