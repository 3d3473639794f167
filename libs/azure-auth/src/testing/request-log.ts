import type { EntraEndpointKind } from './entra-documents.js';

/**
 * What a request was for: Entra metadata, a keys document, the sign-in endpoints (`signin`:
 * `oauth2/v2.0/authorize` and `oauth2/v2.0/token`, preflights included), or anything else (answered 404).
 */
export type EmulatorRequestKind = EntraEndpointKind | 'signin' | 'other';

/**
 * One request the emulator received, recorded before any fault applied to it, and before it was
 * refused for its `Host` or `Origin`: a test sees what reached the emulator, answered or not.
 */
export interface EmulatorRequest {
  /** HTTP method. */
  readonly method: string;
  /** The request target as sent: path and query (so `?appid=` is visible). */
  readonly path: string;
  /** What the request was for. */
  readonly kind: EmulatorRequestKind;
  /** When it arrived (`Date.now()`). */
  readonly at: number;
}

/**
 * The requests one emulator received, oldest first: what resilience and caching tests count.
 *
 * @internal
 */
export class RequestLog {
  private readonly entries: EmulatorRequest[] = [];

  record(method: string, path: string, kind: EmulatorRequestKind): void {
    this.entries.push(Object.freeze({ method, path, kind, at: Date.now() }));
  }

  /** A copy, so that a test holding it does not see later requests arrive. */
  snapshot(): EmulatorRequest[] {
    return [...this.entries];
  }

  count(kind?: EmulatorRequestKind): number {
    return kind === undefined ? this.entries.length : this.entries.filter((entry) => entry.kind === kind).length;
  }

  reset(): void {
    this.entries.length = 0;
  }
}
