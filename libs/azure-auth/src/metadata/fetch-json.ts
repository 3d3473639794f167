import type { Agent } from 'node:http';
import { httpExchange } from '../shared/http-exchange.js';

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

/** GETs a JSON document (metadata, a key set) through {@link httpExchange}: the module's agent, a deadline, a size cap. */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<unknown> {
  const target = new URL(url);
  const where = `${target.origin}${target.pathname}`;
  let answer;
  try {
    answer = await httpExchange(target, {
      method: 'GET',
      headers: { accept: 'application/json' },
      agent: options.agent,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: options.maxBytes ?? 1_048_576,
    });
  } catch (error) {
    throw new FetchJsonError((error as Error).message);
  }
  if (answer.status < 200 || answer.status >= 300) throw new FetchJsonError(`HTTP ${answer.status} from ${where}`);
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new FetchJsonError(`response from ${where} is not JSON`);
  }
}
