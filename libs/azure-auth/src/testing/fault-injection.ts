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
}

/** Which routes a fault applies to: `all` means both metadata and keys. */
export type EmulatorFaultTarget = EntraEndpointKind | 'all';

function validateFault(fault: EmulatorFault): EmulatorFault {
  const { status, delayMs, destroy } = fault;
  if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new Error(`EmulatorFault.status must be an HTTP status code, got ${String(status)}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new Error(`EmulatorFault.delayMs must be a number of milliseconds >= 0, got ${String(delayMs)}`);
  }
  return Object.freeze({ status, delayMs, destroy });
}

/**
 * The faults set on metadata and keys, and the answers they hold back. Faults model the discovery
 * an API depends on; the sign-in endpoints never go through here.
 *
 * @internal
 */
export class FaultInjector {
  private readonly faults: Record<EntraEndpointKind, EmulatorFault | null> = { metadata: null, keys: null };
  private readonly delayedAnswers = new Set<NodeJS.Timeout>();

  set(target: EmulatorFaultTarget, fault: EmulatorFault | null): void {
    if (target !== 'metadata' && target !== 'keys' && target !== 'all') {
      throw new Error(`EntraEmulator.setFault: kind must be 'metadata', 'keys' or 'all', got ${String(target)}`);
    }
    const validated = fault === null ? null : validateFault(fault);
    if (target === 'metadata' || target === 'all') {
      this.faults.metadata = validated;
    }
    if (target === 'keys' || target === 'all') {
      this.faults.keys = validated;
    }
  }

  /**
   * Answers a request of `kind` with `answer`, unless its fault says otherwise. The fault is taken
   * now, as the request arrives, so that changing it does not affect answers already delayed.
   */
  answer(kind: EntraEndpointKind, request: IncomingMessage, response: ServerResponse, answer: () => void): void {
    const fault = this.faults[kind];
    const respond = (): void => {
      if (fault?.destroy) {
        request.socket.destroy();
      } else if (fault?.status !== undefined) {
        sendJson(response, fault.status, { error: 'emulated_fault', error_description: `EntraEmulator.setFault answered ${fault.status}` });
      } else {
        answer();
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
