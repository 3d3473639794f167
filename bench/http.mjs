/**
 * HTTP benchmark: the bench Nest app in a child process (Express, then Fastify), loaded by
 * autocannon from this process over loopback: the open route (without a token, and with the bearer
 * header it ignores), then `/api/me` and `/api/todolist` with one repeated token and with distinct
 * tokens (more than the cache holds, so every one is verified). Then the reference, a bare
 * node:http server (`reference-server.mjs`): its open route and one raw RSA check per request.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { LIMIT, contenderData, startContender } from './micro.mjs';
import { median } from './tokens.mjs';

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
/** The reference "adapter": a bare node:http server doing the limit's RSA check per request (`reference-server.mjs`). */
export const REFERENCE = 'node:http';
/** The same bare server checking each token with the module's `AzureTokenVerifier` (no Nest HTTP pipeline): for `http-profile.mjs`, and `BENCH_HTTP_ADAPTERS` on request. */
export const REFERENCE_WITH_VERIFIER = 'node:http+verifier';
const REFERENCE_SERVER = fileURLToPath(new URL('./reference-server.mjs', import.meta.url));
/** Whether an adapter name is one of the bare reference servers (`reference-server.mjs`, route `/api/verify`). */
export const isReferenceServer = (adapter) => adapter === REFERENCE || adapter === REFERENCE_WITH_VERIFIER;

/**
 * A server process (`script`, default the bench app on `adapter`) against the emulator; resolves
 * once it reports its URL. `env` adds to its environment.
 */
export function startServer(entra, adapter, { script = isReferenceServer(adapter) ? REFERENCE_SERVER : SERVER, env = {} } = {}) {
  const child = fork(script, [adapter], {
    env: {
      ...process.env,
      BENCH_AUTHORITY_HOST: entra.authorityHost,
      BENCH_TENANT_ID: entra.tenantId,
      BENCH_CLIENT_ID: entra.clientId,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.env.BENCH_SERVER_EXEC_ARGV ? process.env.BENCH_SERVER_EXEC_ARGV.split(' ') : [],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${adapter} server exited with ${code}`)));
    child.once('message', ({ url }) => {
      child.removeAllListeners('exit');
      resolve({
        url,
        stop: () =>
          new Promise((done) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.send('stop');
          }),
      });
    });
  });
}

export async function expectStatus(url, token, status) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await response.arrayBuffer();
  if (response.status !== status) throw new Error(`GET ${url} answered ${response.status}, expected ${status}`);
}

/**
 * One scenario: its autocannon options are rebuilt for every slice, but the cursor through the
 * distinct tokens carries on, and is shared by every scenario of the same pool (one server, one
 * cache), so that a slice never meets tokens an earlier one left in the cache.
 */
export function scenario(url, route, tokens, label, cursor = { next: 0 }) {
  const latencies = [];
  let requests = 0;
  let seconds = 0;
  let failed = 0;
  const sliceRates = [];
  return {
    route,
    tokens: label,
    sliceRates,
    async run(duration, connections, record = true) {
      const options = { url: `${url}${route}`, connections, duration };
      if (tokens?.length === 1) {
        options.headers = { authorization: `Bearer ${tokens[0]}` };
      } else if (tokens) {
        options.requests = [
          {
            setupRequest: (request) => {
              const token = tokens[cursor.next];
              cursor.next = cursor.next + 1 === tokens.length ? 0 : cursor.next + 1;
              return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
            },
          },
        ];
      }
      const instance = autocannon(options);
      // autocannon's own histogram keeps whole milliseconds; loopback latencies are below one.
      instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
        if (record && statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
      });
      const result = await instance;
      if (!record) return;
      requests += result['2xx'];
      seconds += result.duration;
      sliceRates.push(result['2xx'] / result.duration);
      failed += result.non2xx + result.errors + result.timeouts;
    },
    summary() {
      latencies.sort((a, b) => a - b);
      const percentile = (p) => (latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))], 3) : null);
      return { requestsPerSec: requests / seconds, p50Ms: percentile(50), p99Ms: percentile(99), requests, failed };
    },
  };
}

/**
 * The best a distinct-token route can do beside the open route: each of its requests costs the
 * open route's work plus one RSA verification, so its rate is at most 1 / (1/open + 1/raw), that
 * is `1 / (1 + open ÷ raw)` of the open route. `share` is how much of that limit a pair achieved.
 */
function distinctLimit(openPerSec, rawVerifyPerSec, distinctPerSec) {
  const limit = 1 / (1 + openPerSec / rawVerifyPerSec);
  return { rawVerifyPerSec, limit, share: distinctPerSec / openPerSec / limit };
}

function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Runs every scenario on both adapters. Each guarded scenario gets `seconds` in total, as `slices`
 * runs, each beside a run of the open route of the same length; its ratio to the open route is
 * the median of these pairs. (Scenarios measured one after the other, seconds apart, paired a busy
 * moment of the machine on one side with a quiet one on the other.)
 */
export async function runHttp(entra, pool, { seconds, slices, connections, log }) {
  const repeated = await entra.mintTokens(1);
  const rows = [];
  // Raw crypto.verify on one core, measured right after each distinct-token pair: what a request
  // that must be verified adds to the open route's work at best.
  const rawVerify = await startContender(LIMIT, await contenderData(entra, pool));
  const rawSeconds = Math.min(1, seconds / slices);
  try {
    for (const adapter of (process.env.BENCH_HTTP_ADAPTERS ?? `express,fastify,${REFERENCE}`).split(',')) {
      const reference = isReferenceServer(adapter);
      const server = await startServer(entra, adapter);
      try {
        const guarded = reference ? ['/api/verify'] : ['/api/me', '/api/todolist'];
        await expectStatus(`${server.url}/api/open`, undefined, 200);
        await expectStatus(`${server.url}${guarded[0]}`, undefined, 401);
        for (const route of guarded) await expectStatus(`${server.url}${route}`, repeated[0], 200);
        const distinct = { next: 0 };
        const open = scenario(server.url, '/api/open', undefined, 'none');
        const scenarios = reference
          ? [open, scenario(server.url, '/api/verify', pool, 'distinct', distinct)]
          : [
              open,
              // The same route with the bearer header it ignores: what carrying 1.5 KB per request costs.
              scenario(server.url, '/api/open', repeated, 'repeated (ignored)'),
              ...guarded.map((route) => scenario(server.url, route, repeated, 'repeated')),
              // Diagnostic, on request: /api/me's answer without the guard's check, and the check without that answer.
              ...(process.env.BENCH_HTTP_DIAGNOSTIC === '1'
                ? [
                    scenario(server.url, '/api/me-answer', repeated, "repeated (ignored), /api/me's answer"),
                    scenario(server.url, '/api/checked', repeated, "repeated, /api/open's answer"),
                  ]
                : []),
              ...guarded.map((route) => scenario(server.url, route, pool, 'distinct', distinct)),
            ];
        // JIT and connection warm-up on every scenario, not recorded.
        for (const each of scenarios) await each.run(1, connections, false);
        // Every other scenario is paired with the open route, run right before it or right after it
        // (alternately), so that both sides of a ratio sample the same seconds of the machine.
        const others = scenarios.slice(1);
        const pairRatios = new Map(others.map((each) => [each, []]));
        const pairLimits = new Map(others.map((each) => [each, []]));
        for (let slice = 0; slice < slices; slice++) {
          for (const each of others) {
            const order = slice % 2 === 0 ? [open, each] : [each, open];
            for (const side of order) await side.run(seconds / slices, connections);
            const openRate = open.sliceRates.at(-1);
            pairRatios.get(each).push(each.sliceRates.at(-1) / openRate);
            if (each.tokens === 'distinct') {
              const raw = await rawVerify.measure(rawSeconds);
              pairLimits.get(each).push(distinctLimit(openRate, raw.count / raw.cpuSeconds, each.sliceRates.at(-1)));
            }
          }
        }
        for (const each of scenarios) {
          const row = { adapter, route: each.route, tokens: each.tokens, ...each.summary() };
          row.ratioToOpen = each === open ? 1 : median(pairRatios.get(each));
          const limits = pairLimits.get(each);
          if (limits?.length) {
            row.rawVerifyPerSec = median(limits.map((pair) => pair.rawVerifyPerSec));
            row.limit = median(limits.map((pair) => pair.limit));
            row.shareOfLimit = median(limits.map((pair) => pair.share));
          }
          row.sliceRequestsPerSec = each.sliceRates.map((rate) => Math.round(rate));
          rows.push(row);
          const share = row.limit ? `, limit ${row.limit.toFixed(2)}× open (raw verify ${Math.round(row.rawVerifyPerSec)}/s), ${(row.shareOfLimit * 100).toFixed(0)}% of it` : '';
          log(`  ${adapter} ${row.route} (${row.tokens}): ${Math.round(row.requestsPerSec)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms${share}${row.failed ? `, ${row.failed} failed` : ''}`);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rawVerify.close();
  }
  return { rows };
}
