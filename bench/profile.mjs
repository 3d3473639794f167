/**
 * Where the module path spends its time: runs it under V8's sampling profiler (after a warm-up)
 * and prints the share of samples per step. Not part of `npm run bench`.
 *
 *   node bench/profile.mjs cold|warm [authenticate|guard]
 *
 * `cold`: distinct tokens (more than the cache holds); `warm`: one repeated token.
 * `authenticate`: the strategy through `passport.authenticate`; `guard`: `AzureAuthGuard.canActivate`.
 * Writes the raw profile to bench/results/profile-<mode>-<path>.cpuprofile.tmp (open it in Chrome
 * DevTools). Shares come from the main thread only: GC helper threads do not appear.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { startEmulatorWorker } from './emulator-worker.mjs';
import { startModulePath } from './module-path.mjs';
import { bearerHeaders } from './tokens.mjs';

const [mode = 'cold', path = 'authenticate'] = process.argv.slice(2);
if (!['cold', 'warm'].includes(mode) || !['authenticate', 'guard'].includes(path)) {
  throw new Error('usage: node bench/profile.mjs cold|warm [authenticate|guard]');
}

/** Steps, tested from the sampled frame outwards; the first that matches takes the sample. */
const STEPS = [
  ['RSA signature check (node:crypto)', (name, url) => (url === 'node:internal/crypto/sig' && ['verify', 'Verify', 'update'].includes(name)) || ['run', 'SignJob', 'verifyOneShot'].includes(name)],
  ['sha256 digest of the token (verified-token-cache)', (name, url) => name === 'digest' && url.includes('verified-token-cache')],
  ['LRU cache (lru-cache)', (name, url) => url.includes('/lru-cache/')],
  ['decode-jwt: canonical base64url (of the signature too), JSON.parse, duplicate-member scan', (name, url) => url.includes('/token/decode-jwt')],
  ['signing input and signature into the buffer (rs256-signature)', (name, url) => url.includes('/token/rs256-signature')],
  ['the caller (createPrincipal)', (name, url) => url.includes('azure-principal')],
  ['fromCache: lifetime check', (name) => name === 'fromCache'],
  ["Entra's rules, key look-up (token-rules, key source)", (name, url) => /\/(token|keys|metadata)\//.test(url)],
  ['extractBearerToken', (name) => name === 'extractBearerToken'],
  ['passport-jwt Strategy', (name, url) => url.includes('/passport-jwt/')],
  ['@nestjs/passport mixin', (name, url) => url.includes('/@nestjs/passport/')],
  ['passport.authenticate', (name, url) => url.includes('/passport/lib/')],
  ['AzureAuthGuard (requirements, authorize, refusal)', (name, url) => url.includes('/guards/')],
  ['Nest execution context', (name, url) => url.includes('/@nestjs/core/')],
  ['bench harness (Promise, request object)', (name, url) => url.includes('/bench/')],
];

function shares(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const counts = new Map();
  for (const id of profile.samples) {
    let step;
    const leaf = byId.get(id).callFrame.functionName;
    if (leaf === '(garbage collector)') step = 'GC (main thread)';
    else if (leaf === '(idle)' || leaf === '(program)') step = leaf;
    for (let at = id; step === undefined && at !== undefined; at = parentOf.get(at)) {
      const { functionName, url } = byId.get(at).callFrame;
      step = STEPS.find(([, matches]) => matches(functionName, url))?.[0];
    }
    step ??= 'other (promises, microtasks, natives)';
    counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([step, count]) => [step, count / profile.samples.length]);
}

const entra = await startEmulatorWorker();
const size = mode === 'cold' ? 12_000 : 1;
const headers = bearerHeaders(await entra.mintTokens(size));
const modulePath = await startModulePath(entra, headers[0]);
const op = modulePath[path];
const count = mode === 'cold' ? 36_000 : 600_000;
for (let i = 0; i < Math.min(count, 20_000); i++) await op(headers[i % size]);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const started = performance.now();
const cpuStarted = process.cpuUsage();
for (let i = 0; i < count; i++) await op(headers[i % size]);
const cpu = process.cpuUsage(cpuStarted);
const wallMs = performance.now() - started;
const { profile } = await session.post('Profiler.stop');
session.disconnect();
await modulePath.close();
await entra.stop();

const file = fileURLToPath(new URL(`./results/profile-${mode}-${path}.cpuprofile.tmp`, import.meta.url));
writeFileSync(file, JSON.stringify(profile));
console.log(`${mode} ${path}: ${((wallMs * 1000) / count).toFixed(2)} µs/op wall, ${((cpu.user + cpu.system) / count).toFixed(2)} µs/op CPU (profiler on)\n`);
console.log('| step | share of main-thread samples |\n| --- | ---: |');
for (const [step, share] of shares(profile)) console.log(`| ${step} | ${(share * 100).toFixed(1)}% |`);
console.log(`\nprofile: ${file}`);
