import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EntraEndpointKind } from './entra-documents.js';
import { sendJson } from './http-answers.js';

/** A failure to inject into the emulator's answers, to test how an API survives Entra being unwell. */
export interface EmulatorFault {
  /** Answer with this HTTP status (for example `500` or `503`) and a JSON error body instead of the document. */
  status?: number;
  /** Wait this many milliseconds before answering (or failing), to exercise the caller's timeouts. */
  delayMs?: number;
  /** Destroy the connection without answering, as a reset would: `fetch` rejects. */
  destroy?: boolean;
  /**
   * `token` only: answer on-behalf-of requests as Entra does when the user (or an administrator)
   * has not consented to the downstream scopes: `invalid_grant`, `AADSTS65001`, suberror `consent_required`.
   */
  consentRequired?: boolean;
  /**
   * A claims challenge, the JSON of the claims to ask for (e.g.
   * `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`). `token`: on-behalf-of requests
   * get `interaction_required` (`AADSTS50079`, Conditional Access wants more) with these claims.
   * `graph`: Graph answers 401 with a continuous access evaluation challenge, `WWW-Authenticate:
   * Bearer … error="insufficient_claims", claims="<base64 of this JSON>"`.
   */
  claimsChallenge?: string;
}

/**
 * Which routes a fault applies to: `metadata`, `keys`, `token` (the token endpoint, every grant),
 * `graph` (the emulated Microsoft Graph); `all` means metadata and keys, the discovery an API
 * depends on to check tokens.
 */
export type EmulatorFaultTarget = EmulatorFaultKind | 'all';

/** The routes that can fail one by one. */
export type EmulatorFaultKind = EntraEndpointKind | 'token' | 'graph';

const FAULT_KINDS: readonly EmulatorFaultKind[] = ['metadata', 'keys', 'token', 'graph'];

function validateFault(kind: EmulatorFaultTarget, fault: EmulatorFault): EmulatorFault {
  const { status, delayMs, destroy, consentRequired, claimsChallenge } = fault;
  if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new Error(`EmulatorFault.status must be an HTTP status code, got ${String(status)}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new Error(`EmulatorFault.delayMs must be a number of milliseconds >= 0, got ${String(delayMs)}`);
  }
  if (consentRequired !== undefined && kind !== 'token') {
    throw new Error(`EmulatorFault.consentRequired applies to the token endpoint ('token'), not '${kind}'`);
  }
  if (claimsChallenge !== undefined) {
    if (kind !== 'token' && kind !== 'graph') {
      throw new Error(`EmulatorFault.claimsChallenge applies to 'token' and 'graph', not '${kind}'`);
    }
    try {
      JSON.parse(claimsChallenge);
    } catch {
      throw new Error(`EmulatorFault.claimsChallenge must be the JSON of the claims, such as '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}', got ${JSON.stringify(claimsChallenge)}`);
    }
  }
  return Object.freeze({ status, delayMs, destroy, consentRequired, claimsChallenge });
}

/**
 * The faults set on each kind of route, and the answers they hold back. The authorize endpoint
 * never goes through here.
 *
 * @internal
 */
export class FaultInjector {
  private readonly faults: Record<EmulatorFaultKind, EmulatorFault | null> = { metadata: null, keys: null, token: null, graph: null };
  private readonly delayedAnswers = new Set<NodeJS.Timeout>();

  set(target: EmulatorFaultTarget, fault: EmulatorFault | null): void {
    if (target !== 'all' && !FAULT_KINDS.includes(target)) {
      throw new Error(`EntraEmulator.setFault: kind must be 'metadata', 'keys', 'token', 'graph' or 'all', got ${String(target)}`);
    }
    const validated = fault === null ? null : validateFault(target, fault);
    for (const kind of target === 'all' ? (['metadata', 'keys'] as const) : [target]) {
      this.faults[kind] = validated;
    }
  }

  /**
   * Answers a request of `kind` with `answer`, unless its fault says otherwise (`answer` is given
   * the fault, for the faults that change an answer rather than replace it). The fault is taken
   * now, as the request arrives, so that changing it does not affect answers already delayed.
   */
  answer(kind: EmulatorFaultKind, request: IncomingMessage, response: ServerResponse, answer: (fault: EmulatorFault | null) => void): void {
    const fault = this.faults[kind];
    const respond = (): void => {
      if (fault?.destroy) {
        request.socket.destroy();
      } else if (fault?.status !== undefined) {
        sendJson(response, fault.status, { error: 'emulated_fault', error_description: `EntraEmulator.setFault answered ${fault.status}` });
      } else {
        answer(fault);
      }
    };
    if (!fault?.delayMs) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      this.delayedAnswers.delete(timer);
      respond();
    }, fault.delayMs);
    // A pending fault must never be what keeps a test process alive.
    timer.unref();
    this.delayedAnswers.add(timer);
  }

  /** At stop: a held-back answer would otherwise fire on a closed server. */
  cancelDelayedAnswers(): void {
    for (const timer of this.delayedAnswers) {
      clearTimeout(timer);
    }
    this.delayedAnswers.clear();
  }
}
