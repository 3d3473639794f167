import type { ServerResponse } from 'node:http';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a JSON answer. CORS headers are not written here: the router sets them on the response
 * first, from the request's `Origin`, so that every answer (faults and errors included) has them.
 *
 * @internal
 */
export function sendJson(response: ServerResponse, status: number, body: unknown, cacheControl = 'no-store'): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': cacheControl,
  });
  response.end(text);
}

/**
 * A `302` back to the client. Never cached: the location carries a single-use code.
 *
 * @internal
 */
export function sendRedirect(response: ServerResponse, location: string): void {
  response.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  response.end();
}
