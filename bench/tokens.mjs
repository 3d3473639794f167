/**
 * What the benchmark's tokens look like: v2 delegated tokens with the claims a real SPA token
 * carries (about 1.5 KB), minted by the emulator in `emulator-worker.mjs`. Minting is never timed.
 */

/** Claims Entra adds to a typical v2 delegated token beyond the emulator's defaults. */
export const ENTRA_EXTRA_CLAIMS = Object.freeze({
  wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509'],
  xms_cc: ['cp1'],
  xms_tcdt: 1600000000,
});

/** Scopes of the bench API: `/api/todolist` requires `Todolist.Read`. */
export const BENCH_SCOPES = Object.freeze(['Todolist.Read', 'Todolist.ReadWrite']);

/**
 * `Authorization` header values for tokens, built before any timing. They are split from one
 * string, as tokens are (see `emulator-worker.mjs`), rather than built one by one.
 */
export function bearerHeaders(tokens) {
  return `Bearer ${tokens.join('\nBearer ')}`.split('\n');
}

/** Reads a positive number from the environment, or the fallback. */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/** The median of some numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
