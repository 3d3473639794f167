import http, { type Agent, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** A request to Entra (a document, the token endpoint) or to a downstream API. */
export interface HttpExchangeRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The module's agent (a proxy agent, or one that trusts a private certificate authority). */
  readonly agent: Agent | undefined;
  /** Deadline of the whole exchange, from connecting to the last byte of the answer. */
  readonly timeoutMs: number;
  /** Answers larger than this fail. */
  readonly maxResponseBytes: number;
}

/** A complete answer. */
export interface HttpExchangeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Nothing usable came back in time: the connection failed, timed out, or the answer was too large. Carries no body. */
export class HttpExchangeError extends Error {
  override readonly name = 'HttpExchangeError';
}

/**
 * One HTTP(S) exchange (metadata and keys documents, token requests, downstream calls) with a hard deadline and a size cap, through Node's own `http`/`https`
 * so that the module's agent applies (`fetch` takes no agent): certificate checks stay Node's,
 * with `NODE_EXTRA_CA_CERTS` or the agent's `ca`, never turned off.
 *
 * @internal
 */
export function httpExchange(url: URL, request: HttpExchangeRequest): Promise<HttpExchangeAnswer> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const where = `${url.origin}${url.pathname}`;
    let settled = false;
    const finish = (error: Error | undefined, answer?: HttpExchangeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(answer!);
    };
    const outgoing = transport.request(url, { method: request.method, headers: request.headers, agent: request.agent }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxResponseBytes) {
          outgoing.destroy();
          finish(new HttpExchangeError(`the answer of ${where} exceeds ${request.maxResponseBytes} bytes`));
        } else {
          chunks.push(chunk);
        }
      });
      response.on('end', () => finish(undefined, { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (error) => finish(new HttpExchangeError(`${where}: ${error.message}`)));
    });
    const deadline = setTimeout(() => {
      outgoing.destroy();
      finish(new HttpExchangeError(`no answer from ${where} within ${request.timeoutMs} ms`));
    }, request.timeoutMs);
    deadline.unref();
    outgoing.on('error', (error) => finish(new HttpExchangeError(`${where}: ${error.message}`)));
    outgoing.end(request.body);
  });
}
