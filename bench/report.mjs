/** The benchmark's Markdown tables and target lines, from the results object. */

const MIB = 1024 * 1024;

function formatInteger(value) {
  return value === null || value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

export function formatRatio(value) {
  return value === null || value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
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
    '| adapter | route | token | req/s | p50 ms | p99 ms | × open |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of http.rows) {
    const failed = row.failed ? ` (${row.failed} non-2xx/errors)` : '';
    lines.push(
      `| ${row.adapter} | \`${row.route}\` | ${row.tokens} | ${formatInteger(row.requestsPerSec)}${failed} | ${row.p50Ms ?? 'n/a'} | ${row.p99Ms ?? 'n/a'} | ${formatRatio(row.ratioToOpen)} |`,
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

/** The targets, judged from this run's figures. Never an exit status: machines differ. */
export function judgeTargets(results) {
  const targets = [];
  const micro = results.micro?.rows;
  if (micro) {
    const ratioOf = (id) => micro.find((row) => row.id === id)?.ratio ?? null;
    for (const [path, prefix] of [['passport.authenticate', 'module'], ['AzureAuthGuard', 'guard']]) {
      const distinct = ratioOf(`${prefix}-distinct`);
      const repeated = ratioOf(`${prefix}-repeated`);
      targets.push({ target: `module path (${path}), distinct tokens ≥ 0.75 × raw crypto.verify`, measured: formatRatio(distinct), met: distinct !== null && distinct >= 0.75 });
      targets.push({ target: `module path (${path}), repeated token ≥ 5 × raw crypto.verify`, measured: formatRatio(repeated), met: repeated !== null && repeated >= 5 });
    }
  }
  for (const adapter of ['express', 'fastify']) {
    const rows = results.http?.rows.filter((r) => r.adapter === adapter) ?? [];
    const me = rows.find((r) => r.route === '/api/me' && r.tokens === 'repeated');
    const openWithToken = rows.find((r) => r.route === '/api/open' && r.tokens !== 'none');
    if (me) {
      const beside = openWithToken ? ` (${formatRatio(me.requestsPerSec / openWithToken.requestsPerSec)} of the open route sent the same header)` : '';
      targets.push({ target: `HTTP ${adapter}, repeated token: /api/me ≥ 0.85 × open route`, measured: `${formatRatio(me.ratioToOpen)}${beside}`, met: me.ratioToOpen >= 0.85 });
    }
  }
  if (results.memory) {
    const growth = results.memory.rssGrowth;
    targets.push({
      target: `memory: RSS after ${formatInteger(results.memory.tokens)} distinct tokens within 64 MiB of RSS after ${formatInteger(results.memory.firstTokens)}`,
      measured: formatMiB(growth),
      met: growth <= 64 * MIB,
    });
  }
  return targets;
}

export function targetLines(targets) {
  return targets.map(({ target, measured, met }) => `- ${met ? 'MET   ' : 'MISSED'} ${target}: ${measured}`).join('\n');
}
