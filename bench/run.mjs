/**
 * `npm run bench`: micro, memory and HTTP benchmarks of nestjs-azure-auth against its peers, on
 * loopback against the local Entra emulator. Prints Markdown tables and the targets, and
 * writes bench/results/latest.json. A missed target is reported, never an exit status.
 *
 *   node --expose-gc bench/run.mjs [micro] [memory] [http] [replicas]
 *
 * (default: micro, memory and http; a partial run does not overwrite latest.json; replicas runs
 * only when named).
 *
 * Environment: BENCH_MICRO_ROUNDS (7), BENCH_MICRO_SECONDS (1), BENCH_POOL (12000 distinct tokens,
 * more than the module's default cache bound of 10000), BENCH_HTTP_SECONDS (10),
 * BENCH_HTTP_SLICES (5), BENCH_HTTP_CONNECTIONS (10), BENCH_MEMORY_TOKENS (100000); see bench/README.md.
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runHttp } from './http.mjs';
import { runMicro } from './micro.mjs';
import { runReplicas } from './replicas.mjs';
import { httpTable, judgeTargets, memoryTable, microTable, replicasTables, targetLines } from './report.mjs';
import { startEmulatorWorker } from './emulator-worker.mjs';
import { envNumber } from './tokens.mjs';
import { collectWarnings } from './warnings.mjs';

const PARTS = ['micro', 'memory', 'http', 'replicas'];
/** What `npm run bench` runs without arguments (replicas is asked for by name). */
const DEFAULT_PARTS = ['micro', 'memory', 'http'];
const RESULTS_DIR = new URL('./results/', import.meta.url);

const requested = process.argv.slice(2);
for (const part of requested) {
  if (!PARTS.includes(part)) throw new Error(`unknown part "${part}"; choose from ${PARTS.join(', ')}`);
}
const parts = requested.length > 0 ? PARTS.filter((part) => requested.includes(part)) : DEFAULT_PARTS;
const fullRun = DEFAULT_PARTS.every((part) => parts.includes(part));

const config = {
  microRounds: Math.max(3, Math.floor(envNumber('BENCH_MICRO_ROUNDS', 7))),
  microSecondsPerRound: envNumber('BENCH_MICRO_SECONDS', 1),
  distinctTokenPool: Math.floor(envNumber('BENCH_POOL', 12_000)),
  httpSeconds: envNumber('BENCH_HTTP_SECONDS', 10),
  httpSlices: Math.floor(envNumber('BENCH_HTTP_SLICES', 5)),
  httpConnections: Math.floor(envNumber('BENCH_HTTP_CONNECTIONS', 10)),
  memoryTokens: Math.floor(envNumber('BENCH_MEMORY_TOKENS', 100_000)),
};

const log = (line) => process.stderr.write(`${line}\n`);
const startedMs = performance.now();
const warnings = collectWarnings();

/** The module's default `tokenCache.maxEntries`: a smaller pool would measure cache hits as "distinct". */
const DEFAULT_CACHE_BOUND = 10_000;
if (config.distinctTokenPool <= DEFAULT_CACHE_BOUND && (parts.includes('micro') || parts.includes('http'))) {
  log(`warning: BENCH_POOL ${config.distinctTokenPool} ≤ the cache bound ${DEFAULT_CACHE_BOUND}: "distinct" rows will mostly hit the cache`);
}

function gitCommit() {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The memory benchmark in a child process; this process mints its tokens, batch by batch. */
function runMemoryChild(entra) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./memory.mjs', import.meta.url)), [], {
      execArgv: ['--expose-gc'],
      env: {
        ...process.env,
        BENCH_MEMORY_TOKENS: String(config.memoryTokens),
        BENCH_AUTHORITY_HOST: entra.authorityHost,
        BENCH_TENANT_ID: entra.tenantId,
        BENCH_CLIENT_ID: entra.clientId,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    let minted = 0;
    child.on('message', (message) => {
      if (message.want) {
        entra.mintBatch(message.want).then((joined) => {
          minted += message.want;
          if (minted % 10_000 === 0) log(`  ${minted} tokens`);
          if (child.connected) child.send(joined);
        }, reject);
      } else if (message.result) {
        result = message.result;
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`memory benchmark exited with ${code}`))));
  });
}

const cpus = os.cpus();
const results = {
  date: new Date().toISOString(),
  commit: gitCommit(),
  machine: {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpuModel: cpus[0]?.model?.trim(),
    cpuCount: cpus.length,
    loadAverageAtStart: os.loadavg().map((value) => Number(value.toFixed(2))),
  },
  config,
};

const entra = await startEmulatorWorker();
try {
  let pool;
  if (parts.includes('micro') || parts.includes('http')) {
    log(`minting ${config.distinctTokenPool} distinct tokens (not timed)…`);
    pool = await entra.mintTokens(config.distinctTokenPool);
    results.tokenBytes = Buffer.byteLength(pool[0]);
  }
  if (parts.includes('micro')) {
    log(`micro: ${config.microRounds} rounds, each contender beside the limit for ${config.microSecondsPerRound} s a side`);
    results.micro = await runMicro(entra, pool, {
      rounds: config.microRounds,
      seconds: config.microSecondsPerRound,
      warmUpSeconds: Math.min(0.5, config.microSecondsPerRound),
      log,
    });
  }
  if (parts.includes('memory')) {
    log(`memory: ${config.memoryTokens} distinct tokens through the module in a child process (minting dominates)…`);
    results.memory = await runMemoryChild(entra);
  }
  if (parts.includes('http')) {
    log(`http: ${config.httpSeconds} s per scenario in ${config.httpSlices} interleaved slices, ${config.httpConnections} connections`);
    results.http = await runHttp(entra, pool, { seconds: config.httpSeconds, slices: config.httpSlices, connections: config.httpConnections, log });
  }
  if (parts.includes('replicas')) {
    log(`replicas: cold starts, fetches per day, node:cluster 2 workers beside 1 (${config.httpSeconds} s per route in ${config.httpSlices} slices)`);
    results.replicas = await runReplicas(entra, { seconds: config.httpSeconds, slices: config.httpSlices, connections: config.httpConnections, log });
  }
} finally {
  await entra.stop();
}
results.machine.loadAverageAtEnd = os.loadavg().map((value) => Number(value.toFixed(2)));
results.warnings = warnings.finish(log);
if (fullRun) results.durationSeconds = Math.round((performance.now() - startedMs) / 1000);
results.targets = judgeTargets(results);

const sections = [
  `Node ${results.machine.node}, ${results.machine.cpuModel} (${results.machine.cpuCount} CPUs), ${results.date}` +
    (results.tokenBytes ? `, token ${results.tokenBytes} bytes` : ''),
];
if (results.micro) sections.push(`### Micro (one process, median of ${config.microRounds} rounds)\n\n${microTable(results.micro)}`);
if (results.http) {
  sections.push(
    `### HTTP (autocannon, ${config.httpConnections} connections, ${config.httpSeconds} s per scenario in ${config.httpSlices} interleaved slices)\n\n${httpTable(results.http)}`,
  );
}
if (results.memory) sections.push(`### Memory (default cache bound)\n\n${memoryTable(results.memory)}`);
if (results.replicas) sections.push(`### Replicas\n\n${replicasTables(results.replicas)}`);
sections.push(`### Targets\n\n${targetLines(results.targets)}`);
const markdown = sections.join('\n\n');
results.markdown = markdown;
process.stdout.write(`${markdown}\n`);

if (fullRun) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const target = new URL('latest.json', RESULTS_DIR);
  const temporary = new URL('latest.json.tmp', RESULTS_DIR);
  writeFileSync(temporary, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(temporary, target);
  log(`wrote ${fileURLToPath(target)}`);
} else {
  log('partial run: bench/results/latest.json left as it was');
}
