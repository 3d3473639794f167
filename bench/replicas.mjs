/**
 * Replicas benchmark (`npm run bench -- replicas`, not part of the default run): what running many
 * replicas of an API with the module costs, on this machine, against the bench's emulator.
 *
 * - cold start: a fresh server process (Fastify), the module with `warmUp: false` and with the
 *   default warm-up; the time of its first open request, of its first guarded request (with
 *   `warmUp: false`: discovery, key-set fetch and the verification), and of a warm guarded request.
 * - fetches per replica per day: the module's default refresh periods, and a replica run for a
 *   while with those periods scaled down, its metadata and key-set requests counted at the emulator
 *   and scaled back up.
 * - `node:cluster`: 2 workers beside 1 on the open route and on `/api/me` with a repeated token,
 *   in alternating slices.
 */
import { fileURLToPath } from 'node:url';
import { expectStatus, scenario, startServer } from './http.mjs';
import { median } from './tokens.mjs';

const CLUSTER = fileURLToPath(new URL('./cluster-server.mjs', import.meta.url));

/** The module's defaults (`azure-auth.options.resolve.ts`): seconds between refreshes while traffic comes. */
export const DEFAULT_REFRESH = Object.freeze({ metadataRefreshSeconds: 43_200, keysMaxAgeSeconds: 86_400 });

async function timed(url, token) {
  const started = performance.now();
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return performance.now() - started;
}

/** One fresh replica: its first open request, first guarded request, and the median warm guarded request. */
async function coldStart(entra, token, moduleOptions) {
  await entra.countFetches();
  const server = await startServer(entra, 'fastify', { env: { BENCH_MODULE_OPTIONS: JSON.stringify(moduleOptions) } });
  try {
    const firstOpenMs = await timed(`${server.url}/api/open`);
    const firstGuardedMs = await timed(`${server.url}/api/me`, token);
    const fetchesOnStart = await entra.countFetches();
    const warm = [];
    for (let i = 0; i < 200; i++) warm.push(await timed(`${server.url}/api/me`, token));
    return { firstOpenMs, firstGuardedMs, warmGuardedMs: median(warm), fetchesOnStart };
  } finally {
    await server.stop();
  }
}

/**
 * A replica with the refresh periods divided by `speedUp`, fed new tokens (a token in the cache
 * touches no key source) for `seconds`; its fetches counted at the emulator, scaled to a day.
 */
async function fetchesPerDay(entra, tokens, seconds, speedUp) {
  const scaled = {
    metadataRefreshSeconds: DEFAULT_REFRESH.metadataRefreshSeconds / speedUp,
    keysMaxAgeSeconds: DEFAULT_REFRESH.keysMaxAgeSeconds / speedUp,
  };
  const server = await startServer(entra, 'fastify', { env: { BENCH_MODULE_OPTIONS: JSON.stringify(scaled) } });
  try {
    await expectStatus(`${server.url}/api/me`, tokens[0], 200);
    await entra.countFetches();
    const gapMs = (seconds * 1000) / tokens.length;
    const started = performance.now();
    for (let i = 1; i < tokens.length; i++) {
      await expectStatus(`${server.url}/api/me`, tokens[i], 200);
      const wait = started + gapMs * i - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const measuredSeconds = (performance.now() - started) / 1000;
    const counted = await entra.countFetches();
    const perDay = (count) => (count / measuredSeconds) * (86_400 / speedUp);
    return { scaled, measuredSeconds, counted, metadataPerDay: perDay(counted.metadata), keysPerDay: perDay(counted.keys) };
  } finally {
    await server.stop();
  }
}

/** 1 and 2 cluster workers side by side: on each route, slices alternate between the two. */
async function clusterThroughput(entra, token, adapter, { seconds, slices, connections }) {
  const one = await startServer(entra, adapter, { script: CLUSTER, env: { BENCH_CLUSTER_WORKERS: '1' } });
  const two = await startServer(entra, adapter, { script: CLUSTER, env: { BENCH_CLUSTER_WORKERS: '2' } });
  try {
    const rows = [];
    for (const [route, tokens] of [
      ['/api/open', undefined],
      ['/api/me', [token]],
    ]) {
      const sides = [scenario(one.url, route, tokens, 'repeated'), scenario(two.url, route, tokens, 'repeated')];
      for (const side of sides) for (let warm = 0; warm < 2; warm++) await side.run(1, connections, false);
      const ratios = [];
      for (let slice = 0; slice < slices; slice++) {
        const order = slice % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) await side.run(seconds / slices, connections);
        ratios.push(sides[1].sliceRates.at(-1) / sides[0].sliceRates.at(-1));
      }
      const [single, double] = sides.map((side) => side.summary());
      rows.push({ adapter, route, tokens: tokens ? 'repeated' : 'none', oneWorker: single, twoWorkers: double, ratio: median(ratios) });
    }
    return rows;
  } finally {
    await one.stop();
    await two.stop();
  }
}

export async function runReplicas(entra, { seconds, slices, connections, log }) {
  const [token] = await entra.mintTokens(1);
  const starts = 5;
  const cold = {};
  for (const [label, options] of [
    ['warmUp: false', { warmUp: false }],
    ['default (warm-up at start)', {}],
  ]) {
    const runs = [];
    for (let i = 0; i < starts; i++) runs.push(await coldStart(entra, token, options));
    cold[label] = {
      starts,
      firstOpenMs: median(runs.map((run) => run.firstOpenMs)),
      firstGuardedMs: median(runs.map((run) => run.firstGuardedMs)),
      warmGuardedMs: median(runs.map((run) => run.warmGuardedMs)),
      fetchesOnStart: runs[0].fetchesOnStart,
    };
    log(`  cold start, ${label}: first open ${cold[label].firstOpenMs.toFixed(1)} ms, first guarded ${cold[label].firstGuardedMs.toFixed(1)} ms, warm guarded ${cold[label].warmGuardedMs.toFixed(2)} ms`);
  }
  // Periods of 5 s (metadata) and 10 s (keys) instead of 12 h and 24 h; 20 new tokens a second.
  const refreshSeconds = 30;
  const speedUp = 8_640;
  const refresh = await fetchesPerDay(entra, await entra.mintTokens(refreshSeconds * 20), refreshSeconds, speedUp);
  log(`  fetches: ${JSON.stringify(refresh.counted)} in ${refresh.measuredSeconds.toFixed(1)} s at periods / ${speedUp}`);
  const cluster = [];
  for (const adapter of (process.env.BENCH_HTTP_ADAPTERS ?? 'express,fastify').split(',')) {
    for (const row of await clusterThroughput(entra, token, adapter, { seconds, slices, connections })) {
      cluster.push(row);
      log(`  cluster ${adapter} ${row.route}: 1 worker ${Math.round(row.oneWorker.requestsPerSec)} req/s, 2 workers ${Math.round(row.twoWorkers.requestsPerSec)} req/s (${row.ratio.toFixed(2)}×)`);
    }
  }
  return { cold, refresh, defaults: DEFAULT_REFRESH, cluster };
}
