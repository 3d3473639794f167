/** After a failed fetch, how long further fetches are refused outright. */
export const FAILURE_BACKOFF_MS = 1000;

/**
 * One fetch of a remote document at a time, shared by every caller that asks meanwhile, with a
 * back-off after a failure so that an outage is not hammered. Metadata documents and key sets both
 * load through it.
 * @internal
 */
export class SingleFlight<T> {
  private inflight: Promise<T> | undefined;
  private lastFailureAt: number | undefined;
  private closed = false;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly now: () => number,
  ) {}

  /** Whether a fetch is under way now. */
  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Whether the last fetch that ended failed. */
  get lastFailed(): boolean {
    return this.lastFailureAt !== undefined;
  }

  /** Starts a fetch, or joins the one under way. Rejects when it fails, is backing off, or was closed. */
  run(): Promise<T> {
    if (this.closed) return Promise.reject(new Error('closed'));
    if (!this.inflight && this.lastFailureAt !== undefined && this.now() - this.lastFailureAt < FAILURE_BACKOFF_MS) {
      return Promise.reject(new Error('the last fetch failed moments ago'));
    }
    this.inflight ??= this.load().then(
      (value) => {
        this.inflight = undefined;
        this.lastFailureAt = undefined;
        return value;
      },
      (error: unknown) => {
        this.inflight = undefined;
        this.lastFailureAt = this.now();
        throw error;
      },
    );
    return this.inflight;
  }

  /** Nothing new starts; a fetch under way finishes without effect on later calls. */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
