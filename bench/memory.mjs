/**
 * Memory benchmark, its own process run with `--expose-gc` by `run.mjs`: distinct valid tokens
 * through the module path with the default cache bound; RSS and heap used after the first
 * `BENCH_MEMORY_FIRST` tokens, at checkpoints, and after `BENCH_MEMORY_TOKENS`, each read after a
 * full GC. Tokens come from the parent in batches (it mints them), are used once and dropped, so
 * the figures are the module's, not the minter's.
 * env: BENCH_AUTHORITY_HOST, BENCH_TENANT_ID, BENCH_CLIENT_ID (the parent's emulator).
 */
import { startModulePath } from './module-path.mjs';
import { bearerHeaders, envNumber } from './tokens.mjs';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

const BATCH = 1000;

function settledMemory(tokens) {
  globalThis.gc();
  globalThis.gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { tokens, rss, heapUsed };
}

/** Asks the parent for the next batch of tokens (it answers with one newline-separated string). */
function nextBatch() {
  return new Promise((resolve) => {
    process.once('message', (joined) => resolve(joined.split('\n')));
    process.send({ want: BATCH });
  });
}

const total = Math.ceil(envNumber('BENCH_MEMORY_TOKENS', 100_000) / BATCH) * BATCH;
const first = BATCH;
const entra = {
  authorityHost: process.env.BENCH_AUTHORITY_HOST,
  tenantId: process.env.BENCH_TENANT_ID,
  clientId: process.env.BENCH_CLIENT_ID,
};
const checkpoints = new Set([first, 10_000, 20_000, 50_000, total].filter((count) => count <= total));
let batch = await nextBatch();
const modulePath = await startModulePath(entra, bearerHeaders([batch[0]])[0]);
const series = [];
let done = 0;
while (done < total) {
  const upcoming = done + BATCH < total ? nextBatch() : undefined;
  for (const header of bearerHeaders(batch)) await modulePath.authenticate(header);
  done += batch.length;
  batch = undefined;
  if (checkpoints.has(done)) series.push({ ...settledMemory(done), cacheEntries: modulePath.verifier.cache.size });
  if (upcoming) batch = await upcoming;
}
const afterFirst = series[0];
const afterAll = series.at(-1);
await modulePath.close();
process.send({
  result: {
    tokens: total,
    firstTokens: first,
    cacheEntries: afterAll.cacheEntries,
    afterFirst,
    afterAll,
    series,
    rssGrowth: afterAll.rss - afterFirst.rss,
    heapGrowth: afterAll.heapUsed - afterFirst.heapUsed,
  },
});
process.disconnect();
