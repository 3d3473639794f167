/** The benchmark's Markdown tables and target lines, from the results object. */

const MIB = 1024 * 1024;

function formatInteger(value) {
  return value === null || value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

export function formatRatio(value) {
  return value === null || value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

function formatPercent(value) {
  return `${Math.round(value * 100)}%`;
}

function formatMiB(bytes) {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

export function microTable(micro) {
  const lines = [
    '| contender | tokens | ops/s (CPU time) | × raw `crypto.verify` | ops/s (wall) | × raw (wall) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of micro.rows) {
    if (row.opsPerSec === null) {
      lines.push(`| ${row.name} | ${row.inputs} | n/a (${row.reason}) | n/a | n/a | n/a |`);
      continue;
    }
    lines.push(
      `| ${row.name} | ${row.inputs} | ${formatInteger(row.opsPerSec)} | ${formatRatio(row.ratio)} | ${formatInteger(row.wallOpsPerSec)} | ${formatRatio(row.wallRatio)} |`,
    );
  }
  return lines.join('\n');
}

export function httpTable(http) {
  const lines = [
    '| adapter | route | token | req/s | p50 ms | p99 ms | × open | limit (× open) | share of the limit |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of http.rows) {
    const failed = row.failed ? ` (${row.failed} non-2xx/errors)` : '';
    const limit = row.limit === undefined ? '' : formatRatio(row.limit);
    const share = row.shareOfLimit === undefined ? '' : formatPercent(row.shareOfLimit);
    lines.push(
      `| ${row.adapter} | \`${row.route}\` | ${row.tokens} | ${formatInteger(row.requestsPerSec)}${failed} | ${row.p50Ms ?? 'n/a'} | ${row.p99Ms ?? 'n/a'} | ${formatRatio(row.ratioToOpen)} | ${limit} | ${share} |`,
    );
  }
  return lines.join('\n');
}

export function memoryTable(memory) {
  const lines = ['| after | RSS | heap used | cached tokens |', '| --- | ---: | ---: | ---: |'];
  for (const point of memory.series) {
    lines.push(`| ${formatInteger(point.tokens)} distinct tokens | ${formatMiB(point.rss)} | ${formatMiB(point.heapUsed)} | ${formatInteger(point.cacheEntries)} |`);
  }
  lines.push(`| growth from ${formatInteger(memory.firstTokens)} to ${formatInteger(memory.tokens)} | ${formatMiB(memory.rssGrowth)} | ${formatMiB(memory.heapGrowth)} | |`);
  return lines.join('\n');
}

export function replicasTables(replicas) {
  const ms = (value) => `${value.toFixed(1)} ms`;
  const cold = ['| fresh Fastify replica | first open request | first guarded request | warm guarded request (median of 200) | fetches before the first guarded answer |', '| --- | ---: | ---: | ---: | --- |'];
  for (const [label, row] of Object.entries(replicas.cold)) {
    cold.push(`| ${label}, median of ${row.starts} starts | ${ms(row.firstOpenMs)} | ${ms(row.firstGuardedMs)} | ${row.warmGuardedMs.toFixed(2)} ms | ${row.fetchesOnStart.metadata} metadata, ${row.fetchesOnStart.keys} key set |`);
  }
  const { refresh, defaults } = replicas;
  // Documents per discovery, as counted on a cold start (a single tenant reads its v1 and v2 metadata).
  const documents = Object.values(replicas.cold)[0].fetchesOnStart.metadata;
  const fetches = [
    '| per replica per day, under steady traffic | metadata | key set |',
    '| --- | ---: | ---: |',
    `| from the defaults: a discovery (${documents} metadata documents) every ${defaults.metadataRefreshSeconds / 3600} h, the key set every ${defaults.keysMaxAgeSeconds / 3600} h; as many again at start | ${(86_400 / defaults.metadataRefreshSeconds) * documents} (+${documents}) | ${86_400 / defaults.keysMaxAgeSeconds} (+1) |`,
    `| counted at the emulator: periods ${refresh.scaled.metadataRefreshSeconds} s / ${refresh.scaled.keysMaxAgeSeconds} s for ${refresh.measuredSeconds.toFixed(0)} s (${refresh.counted.metadata} / ${refresh.counted.keys} fetches), scaled to a day | ${refresh.metadataPerDay.toFixed(1)} | ${refresh.keysPerDay.toFixed(1)} |`,
  ];
  const cluster = ['| `node:cluster` | route | 1 worker req/s, p99 | 2 workers req/s, p99 | 2 ÷ 1 |', '| --- | --- | ---: | ---: | ---: |'];
  for (const row of replicas.cluster) {
    cluster.push(
      `| ${row.adapter} | \`${row.route}\` (${row.tokens === 'none' ? 'no token' : 'repeated token'}) | ${formatInteger(row.oneWorker.requestsPerSec)}, ${row.oneWorker.p99Ms} ms | ${formatInteger(row.twoWorkers.requestsPerSec)}, ${row.twoWorkers.p99Ms} ms | ${formatRatio(row.ratio)} |`,
    );
  }
  return [cold, fetches, cluster].map((lines) => lines.join('\n')).join('\n\n');
}

/** The targets, judged from this run's figures. Never an exit status: machines differ. */
export function judgeTargets(results) {
  const targets = [];
  const add = (target, measured, met) => targets.push({ target, measured, met });
  const micro = results.micro?.rows;
  if (micro) {
    const ratioOf = (id) => micro.find((row) => row.id === id)?.ratio ?? null;
    const atLeast = (value, floor) => value !== null && floor !== null && value >= floor;
    const guardDistinct = ratioOf('guard-distinct');
    const fastJwt = ratioOf('fast-jwt');
    add('AzureAuthGuard, distinct tokens ≥ fast-jwt without cache', `${formatRatio(guardDistinct)} vs ${formatRatio(fastJwt)}`, atLeast(guardDistinct, fastJwt));
    add('AzureAuthGuard, distinct tokens ≥ 0.9 × raw crypto.verify', formatRatio(guardDistinct), atLeast(guardDistinct, 0.9));
    const passportDistinct = ratioOf('module-distinct');
    const jsonwebtoken = ratioOf('jsonwebtoken-keyobject');
    const floor = jsonwebtoken === null ? null : 0.9 * jsonwebtoken;
    add('passport strategy, distinct tokens ≥ 0.9 × jsonwebtoken (KeyObject)', `${formatRatio(passportDistinct)} vs ${formatRatio(floor)}`, atLeast(passportDistinct, floor));
    const passportRepeated = ratioOf('module-repeated');
    add('passport strategy, repeated token ≥ 20 × raw crypto.verify', formatRatio(passportRepeated), atLeast(passportRepeated, 20));
  }
  for (const adapter of ['express', 'fastify']) {
    const rows = results.http?.rows.filter((r) => r.adapter === adapter) ?? [];
    for (const row of rows.filter((r) => r.tokens === 'repeated')) {
      add(`HTTP ${adapter} ${row.route}, repeated token ≥ 0.9 × open route`, formatRatio(row.ratioToOpen), row.ratioToOpen >= 0.9);
    }
    for (const row of rows.filter((r) => r.tokens === 'distinct')) {
      add(
        `HTTP ${adapter} ${row.route}, distinct tokens ≥ 90% of the limit 1 / (1 + open ÷ raw verify)`,
        `${formatPercent(row.shareOfLimit)} of ${formatRatio(row.limit)}`,
        row.shareOfLimit >= 0.9,
      );
    }
    if (rows.length) add(`HTTP ${adapter}, p99 on every row`, rows.every((r) => r.p99Ms !== null) ? 'yes' : 'no', rows.every((r) => r.p99Ms !== null));
  }
  if (results.memory) {
    const growth = results.memory.rssGrowth;
    add(`memory: RSS after ${formatInteger(results.memory.tokens)} distinct tokens within 32 MiB of RSS after ${formatInteger(results.memory.firstTokens)}`, formatMiB(growth), growth <= 32 * MIB);
  }
  if (results.durationSeconds !== undefined) {
    add('whole run within 10 minutes', `${(results.durationSeconds / 60).toFixed(1)} min`, results.durationSeconds <= 600);
  }
  add('no warnings in any process or thread of the run', String(results.warnings.length), results.warnings.length === 0);
  return targets;
}

export function targetLines(targets) {
  return targets.map(({ target, measured, met }) => `- ${met ? 'MET   ' : 'MISSED'} ${target}: ${measured}`).join('\n');
}
