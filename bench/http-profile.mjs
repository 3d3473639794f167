/**
 * Where a server spends a request: the bench app on one adapter under autocannon (10 connections,
 * 10 s), with V8's CPU profiler on in the server process. Prints the server's CPU time per request
 * (from /proc, all its threads) and, from the profile, its main thread's time per request: in the
 * socket write (`writev`, the loopback send), node:crypto's verify, GC and idle, and the rest by
 * whose code it is (this module with lru-cache, Nest, the adapter, Node). Not part of
 * `npm run bench`; Linux only.
 *
 *   node bench/http-profile.mjs express|fastify open|repeated|distinct
 *
 * `open`: `/api/open` without a token; `repeated`: `/api/me` with one token; `distinct`: `/api/me`
 * with a new token on every request. The profile stays in bench/results/http-<adapter>-<load>.cpuprofile.tmp.
 */
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulatorWorker } from './emulator-worker.mjs';
import { scenario, startServer } from './http.mjs';

const [adapter = 'fastify', load = 'distinct'] = process.argv.slice(2);
if (!['express', 'fastify'].includes(adapter) || !['open', 'repeated', 'distinct'].includes(load)) {
  throw new Error('usage: node bench/http-profile.mjs express|fastify open|repeated|distinct');
}

const entra = await startEmulatorWorker();
const pool = await entra.mintTokens(load === 'distinct' ? 60_000 : 1);
const profileDir = mkdtempSync(join(tmpdir(), 'http-profile-'));
process.env.BENCH_SERVER_EXEC_ARGV = `--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-interval=200`;
const server = await startServer(entra, adapter);
const serverPid = Number(readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(' ').at(-1));
/** The server's user + system CPU seconds so far, all threads (clock ticks of 1/100 s). */
function serverCpuSeconds() {
  const fields = readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const run =
  load === 'open'
    ? scenario(server.url, '/api/open', undefined, 'none')
    : scenario(server.url, '/api/me', pool, load, { next: 0 });
await run.run(2, 10);
const cpuStarted = serverCpuSeconds();
await run.run(8, 10);
const cpuPerRequest = (serverCpuSeconds() - cpuStarted) / (run.sliceRates.at(-1) * 8);
const { requests, requestsPerSec, failed } = run.summary();
await server.stop();
await entra.close?.();

const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
const saved = fileURLToPath(new URL(`./results/http-${adapter}-${load}.cpuprofile.tmp`, import.meta.url));
renameSync(join(profileDir, file), saved);
rmSync(profileDir, { recursive: true, force: true });
const profile = JSON.parse(readFileSync(saved, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
/** Where a sample's own time goes: the named native frames apart, else the package its script belongs to. */
function room({ functionName, url }) {
  if (['writev', 'verify', '(garbage collector)', '(idle)'].includes(functionName)) return functionName;
  if (/\/(libs\/azure-auth|nestjs-azure-auth)\/|\/lru-cache\//.test(url)) return 'nestjs-azure-auth and lru-cache';
  const dependency = url.match(/node_modules\/((?:@nestjs\/)|(?:@[^/]+\/)?[^/]+)/)?.[1];
  if (dependency === '@nestjs/') return 'Nest (@nestjs/*)';
  if (dependency) return ['fastify', 'express', 'find-my-way', 'router', 'body-parser'].includes(dependency) ? `${adapter} and its router` : 'other packages';
  return url.startsWith('node:') ? 'Node (node:*)' : 'V8, native, other';
}
const microseconds = new Map();
profile.samples.forEach((id, at) => {
  const name = room(byId.get(id).callFrame);
  microseconds.set(name, (microseconds.get(name) ?? 0) + (profile.timeDeltas[at + 1] ?? 0));
});
// Every recorded request, warm-up included: the profile covers both.
console.log(`${adapter} ${load}: ${Math.round(requestsPerSec)} req/s${failed ? `, ${failed} failed` : ''}`);
console.log(`server CPU per request (all threads, last 8 s): ${(cpuPerRequest * 1e6).toFixed(1)} µs`);
console.log('main thread, µs per request (profile):');
for (const [name, total] of [...microseconds].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(34)} ${(total / requests).toFixed(1)}`);
console.log(`profile: ${saved}`);
process.exit(0);
