import http, { type Agent } from 'node:http';
import https from 'node:https';

/** Options of one fetch of a public Entra document. */
export interface FetchJsonOptions {
  readonly timeoutMs: number;
  readonly agent?: Agent;
  /** Refuse bodies larger than this; metadata documents are a few KB. */
  readonly maxBytes?: number;
}

/** A fetch that failed; carries no response body, only what went wrong. */
export class FetchJsonError extends Error {
  override readonly name = 'FetchJsonError';
}

/**
 * GETs a JSON document over http(s) with a hard deadline and a size cap. Node's own `http` is used
 * (not `fetch`) so that an agent, such as a proxy agent, can be given.
 */
export function fetchJson(url: string, options: FetchJsonOptions): Promise<unknown> {
  const maxBytes = options.maxBytes ?? 1_048_576;
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (error: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(value);
    };
    const request = transport.get(target, { agent: options.agent, headers: { accept: 'application/json' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        response.resume();
        finish(new FetchJsonError(`HTTP ${status} from ${target.origin}${target.pathname}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          request.destroy();
          finish(new FetchJsonError(`response from ${target.origin}${target.pathname} exceeds ${maxBytes} bytes`));
        } else {
          chunks.push(chunk);
        }
      });
      response.on('end', () => {
        try {
          finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          finish(new FetchJsonError(`response from ${target.origin}${target.pathname} is not JSON`));
        }
      });
      response.on('error', (error) => finish(new FetchJsonError(error.message)));
    });
    const deadline = setTimeout(() => {
      request.destroy();
      finish(new FetchJsonError(`no answer from ${target.origin}${target.pathname} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    deadline.unref();
    request.on('error', (error) => finish(new FetchJsonError(`${target.origin}${target.pathname}: ${error.message}`)));
  });
}
