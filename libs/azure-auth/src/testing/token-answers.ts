import { randomUUID } from 'node:crypto';

/** `client_assertion_type` of a client assertion (RFC 7523): a certificate-signed JWT or a federated token. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What the emulator answers a sign-in or token request with; writing it to the socket is the router's job. */
export type SignInAnswer =
  | { readonly type: 'redirect'; readonly location: string }
  | { readonly type: 'json'; readonly status: number; readonly body: Record<string, unknown> };

/**
 * Entra's error body: the OAuth `error` and `error_description`, with its tracing fields.
 *
 * @internal
 */
export function entraError(error: string, description: string, code?: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    error,
    error_description: code === undefined ? description : `AADSTS${code}: ${description}`,
    ...(code === undefined ? {} : { error_codes: [code] }),
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
    ...extra,
  };
}

/** @internal */
export function jsonError(status: number, error: string, description: string, code?: number, extra?: Record<string, unknown>): SignInAnswer {
  return { type: 'json', status, body: entraError(error, description, code, extra) };
}

/** @internal */
export function missingParameter(name: string): SignInAnswer {
  return jsonError(400, 'invalid_request', `The request body must contain the following parameter: '${name}'.`, 900144);
}

/** A token answer of the v2 endpoint. @internal */
export function tokenAnswer(accessToken: string, lifetimeSeconds: number, extra: Record<string, unknown> = {}): SignInAnswer {
  return {
    type: 'json',
    status: 200,
    body: { token_type: 'Bearer', ...extra, expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: accessToken },
  };
}

/**
 * `Authorization: Basic base64(client_id:client_secret)` (client_secret_basic), each part form-encoded.
 *
 * @internal
 */
export function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}
