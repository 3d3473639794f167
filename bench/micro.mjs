/**
 * Micro benchmark: the same Entra-shaped RS256 token verified by each contender in one process.
 * Each contender runs in its own worker thread (`micro-worker.mjs`): one process, one isolate per
 * contender. Every contender is checked first to accept a valid token and refuse a forged one, so
 * that no row measures a failure path.
 *
 * A round measures every contender once (order rotated), each side by side with the limit (raw
 * `crypto.verify`): the two alternate in short slices, limit first then contender, then contender
 * first, and so on, so that both sample the same seconds of the machine. A ratio is the median over
 * rounds of these pairs.
 */
import { Worker } from 'node:worker_threads';
import { contenders, entraAt } from './micro-contenders.mjs';
import { formatRatio } from './report.mjs';
import { median } from './tokens.mjs';
import { workerExecArgv } from './warnings.mjs';

/** A contender in its own worker thread: `measure(seconds)` resolves to one sample. */
export async function startContender(id, workerData) {
  const worker = new Worker(new URL('./micro-worker.mjs', import.meta.url), { workerData: { id, ...workerData }, execArgv: workerExecArgv() });
  // One listener of each kind for the worker's life: the pending reply is the one they settle.
  let pending;
  const next = () => new Promise((resolve, reject) => (pending = { resolve, reject }));
  worker.on('message', (message) => pending?.resolve(message));
  worker.on('error', (error) => pending?.reject(error));
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

/** The contender every other is compared with. */
export const LIMIT = 'raw-crypto-verify';

/**
 * Slices per side of a pair. This machine's throughput moves between levels for seconds at a time
 * (the limit alone: 26k or 39k verifications/s): two samples taken seconds apart can differ by half
 * for reasons neither side caused. Slices alternate limit-contender, contender-limit, …, so a level
 * change meets both sides alike.
 */
const SLICES_PER_PAIR = 4;

/** ops/s of a measurement or of several summed, by CPU time and by wall time. */
function rates(...parts) {
  const sum = (field) => parts.reduce((total, part) => total + part[field], 0);
  return { cpu: sum('count') / sum('cpuSeconds'), wall: sum('count') / sum('wallSeconds') };
}

/**
 * The limit and a contender measured in alternating slices, `seconds` each in all. The contender
 * first runs half as long untimed: its isolate sat idle while the others were measured, and V8 has
 * reduced its heap meanwhile (memory reducer); a busy server's heap is what is measured. (The limit
 * is measured in every pair, so it never sits idle for long.)
 */
async function measurePair(limit, contender, seconds) {
  const limitParts = [];
  const contenderParts = [];
  const slice = seconds / SLICES_PER_PAIR;
  await contender.measure(seconds / 2);
  for (let i = 0; i < SLICES_PER_PAIR; i++) {
    if (i % 2 === 0) {
      limitParts.push(await limit.measure(slice));
      contenderParts.push(await contender.measure(slice));
    } else {
      contenderParts.push(await contender.measure(slice));
      limitParts.push(await limit.measure(slice));
    }
  }
  return { limit: rates(...limitParts), contender: rates(...contenderParts) };
}

/** What a contender's worker thread is given: the emulator's coordinates and the tokens it cycles through. */
export async function contenderData(entra, pool) {
  return {
    entra: entra.coordinates,
    // Tokens travel as one string per worker, split there (one allocation, not thousands).
    pool: pool.join('\n'),
    repeated: (await entra.mintTokens(1))[0],
    forged: await entra.mintForged(),
  };
}

/**
 * Runs the micro benchmark. `entra` is the emulator worker (`emulator-worker.mjs`); `pool` holds
 * distinct valid tokens, more than the module's cache bound so that cycling through them never
 * hits the cache.
 */
export async function runMicro(entra, pool, { rounds, seconds, warmUpSeconds, log }) {
  const workerData = await contenderData(entra, pool);
  const all = contenders(entraAt(workerData.entra));
  const active = [];
  const unavailable = [];
  const measuredContenders = [];
  let moduleCacheEntries;
  try {
    const only = process.env.BENCH_MICRO_ONLY?.split(',').filter(Boolean);
    // A diagnostic row runs, and is reported, only when named.
    const listed = ({ id, diagnostic }) => !diagnostic || only?.includes(id);
    for (const { id, name, inputs } of all.filter(listed)) {
      if (only && id !== LIMIT && !only.includes(id)) {
        unavailable.push({ id, name, inputs, reason: 'not selected (BENCH_MICRO_ONLY)' });
        continue;
      }
      try {
        active.push({ id, worker: await startContender(id, workerData), samples: [], ratios: [] });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log(`  ${id}: n/a (${reason})`);
        unavailable.push({ id, name, inputs, reason });
      }
    }
    log(`  warm-up ${warmUpSeconds} s per contender`);
    for (const contender of active) await contender.worker.measure(warmUpSeconds);
    const limit = active.find((contender) => contender.id === LIMIT);
    const others = active.filter((contender) => contender !== limit);
    for (let round = 0; round < rounds; round++) {
      const order = others.map((_, i) => others[(i + round) % others.length]);
      for (const contender of order) {
        const pair = await measurePair(limit.worker, contender.worker, seconds);
        limit.samples.push(pair.limit);
        contender.samples.push(pair.contender);
        contender.ratios.push({ cpu: pair.contender.cpu / pair.limit.cpu, wall: pair.contender.wall / pair.limit.wall });
      }
      if (others.length === 0) limit.samples.push(rates(await limit.worker.measure(seconds)));
      log(`  round ${round + 1}/${rounds}: ${others.map((c) => `${c.id} ${formatRatio(c.ratios.at(-1).cpu)}`).join(', ')}`);
    }
    // How many entries the passport path's cache holds after cycling the pool: its bound.
    for (const contender of active.splice(0)) {
      const entries = await contender.worker.close();
      if (contender.id === 'module-distinct') moduleCacheEntries = entries;
      measuredContenders.push(contender);
    }
    // The limit against itself is 1 by definition; every other ratio is the median of its pairs.
    const ratioOf = (contender, field) => (contender === limit ? 1 : median(contender.ratios.map((ratio) => ratio[field])));
    const rows = all.filter(listed).map(({ id, name, inputs }) => {
      const measured = measuredContenders.find((c) => c.id === id);
      if (!measured) return { id, name, inputs, opsPerSec: null, ratio: null, reason: unavailable.find((u) => u.id === id)?.reason };
      const opsPerSec = median(measured.samples.map((sample) => sample.cpu));
      const wallOpsPerSec = median(measured.samples.map((sample) => sample.wall));
      return {
        id,
        name,
        inputs,
        opsPerSec,
        ratio: ratioOf(measured, 'cpu'),
        wallOpsPerSec,
        wallRatio: ratioOf(measured, 'wall'),
        bestOpsPerSec: Math.max(...measured.samples.map((sample) => sample.cpu)),
        samples: measured.samples.map((sample) => Math.round(sample.cpu)),
        wallSamples: measured.samples.map((sample) => Math.round(sample.wall)),
        ratioSamples: measured.ratios.map((ratio) => Number(ratio.cpu.toFixed(3))),
      };
    });
    return { rows, moduleCacheEntries };
  } finally {
    for (const contender of active) await contender.worker.close();
  }
}
