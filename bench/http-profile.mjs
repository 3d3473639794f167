/**
 * Where a server spends a request: a bench server on one adapter under autocannon (10 connections,
 * 2 s, then 8 s measured), with V8's CPU profiler on in the server process. Prints, per request:
 * the server's CPU time (from /proc, all its threads); its main thread's time on a CPU, split into
 * user space and kernel, and runnable but waiting for a CPU (from /proc, the thread's stat and
 * schedstat); how often the load generator slept; and, from the profile, the main thread's samples
 * by whose code they were in (this module with lru-cache, Nest, the adapter, Node, V8), with the
 * socket write (`writev`), node:crypto's `verify`, GC and idle apart. Not part of `npm run bench`;
 * Linux only.
 *
 *   node bench/http-profile.mjs express|fastify|node:http|node:http+verifier open|repeated|distinct
 *
 * `open`: `/api/open` without a token; `repeated`: `/api/me` with one token; `distinct`: `/api/me`
 * with a new token on every request (`node:http`: the bare reference server, `/api/verify`, raw
 * `crypto.verify`; `node:http+verifier`: the same server, each token checked by the module's
 * `AzureTokenVerifier`, so the module's cost over HTTP shows without Nest's pipeline). The
 * profile stays in bench/results/http-<adapter>-<load>.cpuprofile.tmp.
 *
 * Read native frames in the profile with care: V8 bills a sample taken in native code to the last
 * native function entered from JavaScript, so `writev` can hold time spent elsewhere (under
 * distinct tokens it was billed more than the thread's whole kernel time). The /proc figures are
 * the measure; the profile says whose JavaScript ran.
 */
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulatorWorker } from './emulator-worker.mjs';
import { isReferenceServer, REFERENCE, REFERENCE_WITH_VERIFIER, scenario, startServer } from './http.mjs';

const [adapter = 'fastify', load = 'distinct'] = process.argv.slice(2);
if (!(['express', 'fastify'].includes(adapter) || isReferenceServer(adapter)) || !['open', 'repeated', 'distinct'].includes(load)) {
  throw new Error(`usage: node bench/http-profile.mjs express|fastify|${REFERENCE}|${REFERENCE_WITH_VERIFIER} open|repeated|distinct`);
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

/** The server's main thread: nanoseconds on a CPU, nanoseconds runnable but waiting for one, and switches it did not ask for. */
function mainThreadScheduling(pid = serverPid) {
  const [onCpu, waiting] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const switches = (kind) => Number(status.match(new RegExp(`^${kind}_ctxt_switches:\\s+(\\d+)`, 'm'))[1]);
  // utime and stime, in clock ticks of 1/100 s: the thread's time in user space and in the kernel.
  const [user, kernel] = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).map((ticks) => Number(ticks) * 1e7);
  return { onCpu, waiting, user, kernel, involuntary: switches('nonvoluntary'), voluntary: switches('voluntary') };
}

const run =
  load === 'open'
    ? scenario(server.url, '/api/open', undefined, 'none')
    : scenario(server.url, isReferenceServer(adapter) ? '/api/verify' : '/api/me', pool, load, { next: 0 });
await run.run(2, 10);
const cpuStarted = serverCpuSeconds();
const scheduledBefore = mainThreadScheduling();
const generatorBefore = mainThreadScheduling(process.pid);
await run.run(8, 10);
const measured = run.sliceRates.at(-1) * 8;
const cpuPerRequest = (serverCpuSeconds() - cpuStarted) / measured;
const scheduledAfter = mainThreadScheduling();
const generatorAfter = mainThreadScheduling(process.pid);
const perMeasuredRequest = (name) => (scheduledAfter[name] - scheduledBefore[name]) / measured;
const generatorSleepsPerRequest = (generatorAfter.voluntary - generatorBefore.voluntary) / measured;
const { requests, requestsPerSec, failed } = run.summary();
await server.stop();
await entra.close?.();

const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
const saved = fileURLToPath(new URL(`./results/http-${adapter.replace(/[:+]/g, '-')}-${load}.cpuprofile.tmp`, import.meta.url));
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
console.log(
  `main thread per request (last 8 s, /proc): ${(perMeasuredRequest('onCpu') / 1e3).toFixed(1)} µs on a CPU ` +
    `(${(perMeasuredRequest('user') / 1e3).toFixed(1)} in user space, ${(perMeasuredRequest('kernel') / 1e3).toFixed(1)} in the kernel), ` +
    `${(perMeasuredRequest('waiting') / 1e3).toFixed(1)} µs runnable but waiting for one, ${(perMeasuredRequest('involuntary') * 1000).toFixed(0)} involuntary switches per 1000 requests`,
);
// autocannon runs on this process's main thread: each voluntary switch is a sleep until the server answers, then a wake-up.
console.log(`load generator (autocannon, this process's main thread): ${(generatorSleepsPerRequest * 1000).toFixed(0)} sleeps per 1000 requests`);
console.log('main thread, µs per request (profile; native frames may hold time spent elsewhere):');
for (const [name, total] of [...microseconds].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(34)} ${(total / requests).toFixed(1)}`);
console.log(`profile: ${saved}`);
process.exit(0);
