/**
 * One micro-benchmark contender in a worker thread of the benchmark's process: its own V8 isolate,
 * so no other contender's JIT feedback, allocation-site pretenuring or garbage reaches it. (Run
 * side by side in one isolate, our two module paths share library code, and the passport path's
 * longer-lived objects made V8 pretenure allocations that the guard path then paid for in old-space
 * garbage: up to a fifth of its throughput.) Started by `micro.mjs`; measures on request.
 *
 * workerData: { id, entra (the emulator's coordinates), pool (joined tokens), repeated, forged }.
 * Messages in: { seconds } to measure, 'close' to clean up. Out: { ready | sample | closed | failed }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { contenders, entraAt } from './micro-contenders.mjs';
import { bearerHeaders } from './tokens.mjs';

const CHECK_EVERY = 32;

/**
 * Runs `op` over `inputs` (cycling from `cursor.at`) for about `seconds` of wall time, awaiting
 * every answer (`async`), only answers that are promises (`when-promise`), or none (`sync`). Returns
 * the operations done and the process's CPU time they took (user + system, all threads: the other
 * contenders' threads wait meanwhile), which equals wall-clock time on an idle machine and is far
 * less disturbed by other processes on a busy one; wall-clock time is kept too.
 */
async function measure(op, inputs, cursor, seconds, mode) {
  const length = inputs.length;
  let at = cursor.at;
  let count = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const deadline = started + seconds * 1000;
  if (mode === 'async') {
    do {
      for (let k = 0; k < CHECK_EVERY; k++) {
        await op(inputs[at]);
        at = at + 1 === length ? 0 : at + 1;
      }
      count += CHECK_EVERY;
    } while (performance.now() < deadline);
  } else if (mode === 'when-promise') {
    do {
      for (let k = 0; k < CHECK_EVERY; k++) {
        const answer = op(inputs[at]);
        if (answer instanceof Promise) await answer;
        at = at + 1 === length ? 0 : at + 1;
      }
      count += CHECK_EVERY;
    } while (performance.now() < deadline);
  } else {
    do {
      for (let k = 0; k < CHECK_EVERY; k++) {
        op(inputs[at]);
        at = at + 1 === length ? 0 : at + 1;
      }
      count += CHECK_EVERY;
    } while (performance.now() < deadline);
  }
  const cpu = process.cpuUsage(cpuStarted);
  const wall = performance.now() - started;
  cursor.at = at;
  await settle();
  return { count, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall / 1000 };
}

/** Idle time after a slice, for background work the slice started (concurrent GC) to finish. */
const SETTLE_MS = 20;

/**
 * After a slice, untimed, a moment idle: CPU time is the process's, so GC work this isolate's slice
 * left running on helper threads would otherwise be billed to the contender measured next. No full
 * GC is forced here: V8 shrinks the young generation after a forced GC, and a slice that starts
 * from a shrunk young generation measures a heap no busy server has (many more scavenges until it
 * grows back; a fifth of the module path's throughput). Garbage a slice leaves is collected by
 * this isolate's own allocations in its next slice, so it is billed to the contender that made it.
 */
async function settle() {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

async function refuses(op, token) {
  try {
    await op(token);
  } catch {
    return;
  }
  throw new Error('accepted a forged token');
}

const { id, entra: coordinates, pool, repeated, forged } = workerData;
const entra = entraAt(coordinates);
const cleanup = [];

try {
  const contender = contenders(entra).find((candidate) => candidate.id === id);
  const tokens = { distinct: pool.split('\n'), repeated: [repeated], forged };
  const headers = { distinct: bearerHeaders(tokens.distinct), repeated: bearerHeaders(tokens.repeated), forged: bearerHeaders([forged])[0] };
  const given = contender.takes === 'header' ? headers : tokens;
  const inputs = given[contender.inputs];
  const op = await contender.setup(cleanup, headers.repeated[0]);
  // Every contender accepts a valid token and refuses a forged one first: no row measures a failure path.
  await op(inputs[0]);
  await refuses(op, given.forged);
  const probe = op(inputs[0]);
  const mode = contender.answers ?? (typeof probe?.then === 'function' ? 'async' : 'sync');
  await probe;
  const cursor = { at: 0 };
  parentPort.on('message', async (message) => {
    if (message === 'close') {
      const cacheEntries = op.cacheSize?.();
      for (const stop of cleanup.reverse()) await stop();
      parentPort.postMessage({ closed: true, cacheEntries });
      parentPort.close();
      return;
    }
    parentPort.postMessage({ sample: await measure(op, inputs, cursor, message.seconds, mode) });
  });
  parentPort.postMessage({ ready: true });
} catch (error) {
  for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
  parentPort.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  parentPort.close();
}
