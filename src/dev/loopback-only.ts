import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../config/loopback.js';

/** The request path as a router may understand it: decoded, lower case (routes match any case), single slashes. */
function routedPath(url: string): string | undefined {
  try {
    return decodeURIComponent(url.replace(/[?#].*$/s, ''))
      .toLowerCase()
      .replace(/\/{2,}/g, '/');
  } catch {
    return undefined;
  }
}

/**
 * Middleware answering 404 to every request for `/{path}…` (Swagger UI, `/{path}-json`,
 * `/{path}-yaml`) that does not come from this machine. In dev mode that document names the
 * emulator's sign-in endpoints and client, which only a browser on this machine can use, and
 * tells whoever reads it that this API trusts an emulator. The peer is the socket's: headers such
 * as X-Forwarded-For and Host are the caller's to write.
 */
export function loopbackOnly(path: string): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  const prefix = `/${path.toLowerCase()}`;
  return (request, response, next) => {
    const target = routedPath(request.url ?? '/');
    if (isLoopback(request.socket.remoteAddress ?? '') || (target !== undefined && !target.startsWith(prefix))) {
      next();
      return;
    }
    response.statusCode = 404;
    response.end();
  };
}
