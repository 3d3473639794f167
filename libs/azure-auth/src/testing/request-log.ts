import type { EntraEndpointKind } from './entra-documents.js';

/**
 * What a request was for: Entra metadata, a keys document, the sign-in endpoints (`signin`:
 * `oauth2/v2.0/authorize` and `oauth2/v2.0/token`, preflights included; a token request's grant
 * is in {@link EmulatorRequest.grantType}), the emulated Microsoft Graph (`graph`, `/v1.0/…`), or
 * anything else (answered 404).
 */
export type EmulatorRequestKind = EntraEndpointKind | 'signin' | 'graph' | 'other';

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
  /**
   * Token requests: the `grant_type` of the form (`urn:ietf:params:oauth:grant-type:jwt-bearer`
   * for on-behalf-of, `client_credentials`, `authorization_code`), once the body was read.
   */
  readonly grantType?: string;
}

/**
 * The requests one emulator received, oldest first: what resilience and caching tests count.
 *
 * @internal
 */
export class RequestLog {
  private readonly entries: EmulatorRequest[] = [];

  /** Records a request and returns its entry, for {@link noteGrantType}. */
  record(method: string, path: string, kind: EmulatorRequestKind): EmulatorRequest {
    const entry = Object.freeze({ method, path, kind, at: Date.now() });
    this.entries.push(entry);
    return entry;
  }

  /** Adds the grant type of a token request once its body was read; entries stay frozen, so a copy replaces it (unless the log was reset meanwhile). */
  noteGrantType(entry: EmulatorRequest, grantType: string): void {
    const position = this.entries.indexOf(entry);
    if (position >= 0) this.entries[position] = Object.freeze({ ...entry, grantType });
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
