/**
 * What other work between two RSA checks does to the check: raw `crypto.verify` (a ready
 * `KeyObject`, a 2048-bit key, 1.1 KB signed like the bench's tokens) timed call by call, with
 * nothing between calls (the limit's tight loop) and with a stretch of memory touched before each
 * call, as a server's request handling touches its own. Prints the median time of a check per
 * stretch, each measured in alternation with the others over several rounds (this machine's speed
 * moves within a minute). Not part of `npm run bench`.
 *
 *   node bench/cache-pressure.mjs
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { median } from './tokens.mjs';

const KIB_BETWEEN_CHECKS = [0, 64, 256, 1024, 4096];
const ROUNDS = 5;
const CHECKS_PER_ROUND = 4000;

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signed = Array.from({ length: 2000 }, (_, i) => {
  const data = Buffer.from(`${'x'.repeat(1100)}${i}`);
  return { data, signature: sign('sha256', data, privateKey) };
});

// Larger than this machine's caches; walked one cache line (64 bytes) at a time.
const memory = new Uint8Array(64 << 20);
let cursor = 0;
function touch(kib) {
  for (let end = cursor + kib * 1024; cursor < end; cursor += 64) memory[cursor & (memory.length - 1)]++;
}

/** The median time of one check, in µs, with `kib` of memory touched before each. */
function checkMicros(kib) {
  const times = new Float64Array(CHECKS_PER_ROUND);
  for (let i = 0; i < CHECKS_PER_ROUND; i++) {
    const { data, signature } = signed[i % signed.length];
    touch(kib);
    const started = performance.now();
    if (!verify('sha256', data, publicKey, signature)) throw new Error('invalid signature');
    times[i] = performance.now() - started;
  }
  return median(times) * 1000;
}

for (const kib of KIB_BETWEEN_CHECKS) checkMicros(kib);
const rounds = new Map(KIB_BETWEEN_CHECKS.map((kib) => [kib, []]));
for (let round = 0; round < ROUNDS; round++) for (const kib of KIB_BETWEEN_CHECKS) rounds.get(kib).push(checkMicros(kib));

const tight = median(rounds.get(0));
console.log('| memory touched between two checks | median time of a check | × back to back |');
console.log('| --- | ---: | ---: |');
for (const [kib, micros] of rounds) {
  const value = median(micros);
  console.log(`| ${kib === 0 ? 'none (back to back)' : `${kib} KiB`} | ${value.toFixed(1)} µs | ${(value / tight).toFixed(2)} |`);
}
