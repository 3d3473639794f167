/**
 * Micro benchmark: the same Entra-shaped RS256 token verified by each contender in one process,
 * in interleaved rounds (every contender once per round, order rotated), median ops/s per contender.
 * Each contender runs in its own worker thread (`micro-worker.mjs`): one process, one isolate per
 * contender. Every contender is checked first to accept a valid token and refuse a forged one, so
 * that no row measures a failure path.
 */
import { Worker } from 'node:worker_threads';
import { contenders, entraAt } from './micro-contenders.mjs';
import { median } from './tokens.mjs';

/** A contender in its own worker thread: `measure(seconds)` resolves to one sample. */
async function startContender(id, workerData) {
  const worker = new Worker(new URL('./micro-worker.mjs', import.meta.url), { workerData: { id, ...workerData } });
  let answer;
  const next = () =>
    new Promise((resolve, reject) => {
      answer = resolve;
      worker.once('error', reject);
    });
  worker.on('message', (message) => answer?.(message));
  const first = await next();
  if (first.failed) {
    await worker.terminate();
    throw new Error(first.failed);
  }
  return {
    async measure(seconds) {
      const reply = next();
      worker.postMessage({ seconds });
      return (await reply).sample;
    },
    async close() {
      const reply = next();
      worker.postMessage('close');
      const { cacheEntries } = await reply;
      await worker.terminate();
      return cacheEntries;
    },
  };
}

/**
 * Runs the micro benchmark. `entra` is the emulator worker (`emulator-worker.mjs`); `pool` holds
 * distinct valid tokens, more than the module's cache bound so that cycling through them never
 * hits the cache.
 */
export async function runMicro(entra, pool, { rounds, seconds, warmUpSeconds, log }) {
  if (typeof globalThis.gc !== 'function') log('  warning: run with node --expose-gc, or one round\'s garbage is billed to the next');
  const workerData = {
    entra: entra.coordinates,
    // Tokens travel as one string per worker, split there (one allocation, not thousands).
    pool: pool.join('\n'),
    repeated: (await entra.mintTokens(1))[0],
    forged: await entra.mintForged(),
  };
  const all = contenders(entraAt(workerData.entra));
  const active = [];
  const unavailable = [];
  const measuredContenders = [];
  let moduleCacheEntries;
  try {
    const only = process.env.BENCH_MICRO_ONLY?.split(',').filter(Boolean);
    for (const { id, name, inputs } of all) {
      if (only && id !== 'raw-crypto-verify' && !only.includes(id)) {
        unavailable.push({ id, name, inputs, reason: 'not selected (BENCH_MICRO_ONLY)' });
        continue;
      }
      try {
        active.push({ id, worker: await startContender(id, workerData), samples: [] });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log(`  ${id}: n/a (${reason})`);
        unavailable.push({ id, name, inputs, reason });
      }
    }
    log(`  warm-up ${warmUpSeconds} s per contender`);
    for (const contender of active) await contender.worker.measure(warmUpSeconds);
    for (let round = 0; round < rounds; round++) {
      const order = active.map((_, i) => active[(i + round) % active.length]);
      for (const contender of order) contender.samples.push(await contender.worker.measure(seconds));
      log(`  round ${round + 1}/${rounds}: ${active.map((c) => `${c.id} ${Math.round(c.samples.at(-1).cpu)}`).join(', ')}`);
    }
    // How many entries the passport path's cache holds after cycling the pool: its bound.
    for (const contender of active.splice(0)) {
      const entries = await contender.worker.close();
      if (contender.id === 'module-distinct') moduleCacheEntries = entries;
      measuredContenders.push(contender);
    }
    const rawSamples = measuredContenders.find((c) => c.id === 'raw-crypto-verify').samples;
    // Ratios pair each round's sample with the limit's sample of the same round, then take the
    // median: a slow minute of a shared machine then moves both sides of a ratio, not one.
    const ratioOf = (samples, field) => median(samples.map((sample, round) => sample[field] / rawSamples[round][field]));
    const rows = all.map(({ id, name, inputs }) => {
      const measured = measuredContenders.find((c) => c.id === id);
      if (!measured) return { id, name, inputs, opsPerSec: null, ratio: null, reason: unavailable.find((u) => u.id === id)?.reason };
      const opsPerSec = median(measured.samples.map((sample) => sample.cpu));
      const wallOpsPerSec = median(measured.samples.map((sample) => sample.wall));
      return {
        id,
        name,
        inputs,
        opsPerSec,
        ratio: ratioOf(measured.samples, 'cpu'),
        wallOpsPerSec,
        wallRatio: ratioOf(measured.samples, 'wall'),
        bestOpsPerSec: Math.max(...measured.samples.map((sample) => sample.cpu)),
        samples: measured.samples.map((sample) => Math.round(sample.cpu)),
        wallSamples: measured.samples.map((sample) => Math.round(sample.wall)),
      };
    });
    return { rows, moduleCacheEntries };
  } finally {
    for (const contender of active) await contender.worker.close();
  }
}
