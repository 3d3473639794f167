/**
 * Micro benchmark: the same Entra-shaped RS256 token verified by each contender in one process,
 * in interleaved rounds (every contender once per round, order rotated), median ops/s per contender.
 * Every contender is checked first to accept a valid token and refuse a forged one, so that no row
 * measures a failure path.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { importJWK, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import azureAd from 'passport-azure-ad';
import passportJwt from 'passport-jwt';
import { authenticateWith, startModulePath } from './module-path.mjs';
import { startTlsFront } from './tls-front.mjs';
import { bearerHeaders } from './tokens.mjs';

const CHECK_EVERY = 32;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs `op` over `inputs` (cycling from `cursor.at`) for about `seconds` of wall time. Returns
 * operations per second of this process's CPU time (user + system, all threads), which equals
 * wall-clock throughput on an idle machine and is far less disturbed by other processes on a busy
 * one; wall-clock ops/s are kept too.
 */
async function measure(op, inputs, cursor, seconds, isAsync) {
  // The garbage of the previous contender is collected before the clock starts, so that it is not
  // billed to this one (run with --expose-gc; `npm run bench` does).
  globalThis.gc?.();
  const length = inputs.length;
  let at = cursor.at;
  let count = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const deadline = started + seconds * 1000;
  if (isAsync) {
    do {
      for (let k = 0; k < CHECK_EVERY; k++) {
        await op(inputs[at]);
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
  cursor.at = at;
  return { cpu: count / ((cpu.user + cpu.system) / 1e6), wall: count / ((performance.now() - started) / 1000) };
}

async function accepts(op, token) {
  await op(token);
}

async function refuses(op, token) {
  try {
    await op(token);
  } catch {
    return;
  }
  throw new Error('accepted a forged token');
}

/**
 * The contenders. Each `setup` returns the operation (input) => result|Promise, throwing or
 * rejecting when the token is refused; `inputs` says whether it gets distinct tokens or one
 * repeated token; passport strategies (`takes: 'header'`) get whole `Authorization` header values.
 */
function contenders(entra) {
  const issuer = entra.v2Issuer();
  const audience = entra.clientId;
  let jwksUri;
  let jwk;
  async function keyMaterial() {
    if (!jwk) {
      const metadata = await (await fetch(entra.v2MetadataUrl())).json();
      jwksUri = metadata.jwks_uri;
      const { keys } = await (await fetch(jwksUri)).json();
      jwk = keys.find((key) => key.kid === entra.signingKid);
    }
    const keyObject = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    return { jwk, jwksUri, keyObject, pem: keyObject.export({ type: 'spki', format: 'pem' }) };
  }
  const jsonwebtokenOptions = { algorithms: ['RS256'], audience, issuer };

  return [
    {
      id: 'raw-crypto-verify',
      name: 'raw `crypto.verify` (ready KeyObject) — the limit',
      inputs: 'distinct',
      async setup() {
        const { keyObject } = await keyMaterial();
        return (token) => {
          const dot = token.lastIndexOf('.');
          const ok = cryptoVerify('sha256', Buffer.from(token.slice(0, dot)), keyObject, Buffer.from(token.slice(dot + 1), 'base64url'));
          if (!ok) throw new Error('invalid signature');
          return ok;
        };
      },
    },
    {
      id: 'jsonwebtoken-pem',
      name: 'jsonwebtoken `verify` (PEM)',
      inputs: 'distinct',
      async setup() {
        const { pem } = await keyMaterial();
        return (token) => jsonwebtoken.verify(token, pem, jsonwebtokenOptions);
      },
    },
    {
      id: 'jsonwebtoken-keyobject',
      name: 'jsonwebtoken `verify` (KeyObject)',
      inputs: 'distinct',
      async setup() {
        const { keyObject } = await keyMaterial();
        return (token) => jsonwebtoken.verify(token, keyObject, jsonwebtokenOptions);
      },
    },
    {
      id: 'jose',
      name: 'jose `jwtVerify` (imported key)',
      inputs: 'distinct',
      async setup() {
        const key = await importJWK((await keyMaterial()).jwk, 'RS256');
        const options = { algorithms: ['RS256'], audience, issuer };
        return (token) => jwtVerify(token, key, options);
      },
    },
    {
      id: 'fast-jwt',
      name: 'fast-jwt verifier (PEM, no cache)',
      inputs: 'distinct',
      async setup() {
        const { pem } = await keyMaterial();
        return createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: audience, allowedIss: issuer });
      },
    },
    {
      id: 'fast-jwt-cache-repeated',
      name: 'fast-jwt verifier with its cache, repeated token',
      inputs: 'repeated',
      async setup() {
        const { pem } = await keyMaterial();
        return createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: audience, allowedIss: issuer, cache: true });
      },
    },
    {
      id: 'passport-jwt-jwks-rsa',
      name: 'passport-jwt + jwks-rsa `passportJwtSecret` (the usual recipe)',
      inputs: 'distinct',
      takes: 'header',
      async setup() {
        await keyMaterial();
        const strategy = new passportJwt.Strategy(
          {
            jwtFromRequest: passportJwt.ExtractJwt.fromAuthHeaderAsBearerToken(),
            secretOrKeyProvider: jwksRsa.passportJwtSecret({ jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
            algorithms: ['RS256'],
            audience,
            issuer,
          },
          (payload, done) => done(null, payload),
        );
        return (token) => authenticateWith(strategy, token);
      },
    },
    {
      id: 'passport-azure-ad',
      name: 'passport-azure-ad `BearerStrategy`',
      inputs: 'distinct',
      takes: 'header',
      async setup(cleanup) {
        const front = await startTlsFront(entra);
        cleanup.push(front.stop);
        const strategy = new azureAd.BearerStrategy(
          {
            identityMetadata: front.v2MetadataUrl,
            clientID: entra.clientId,
            audience,
            validateIssuer: true,
            issuer,
            loggingLevel: 'error',
            loggingNoPII: true,
          },
          (token, done) => done(null, token),
        );
        return (token) => authenticateWith(strategy, token);
      },
    },
    {
      id: 'module-distinct',
      name: '**nestjs-azure-auth** strategy via `passport.authenticate`, distinct tokens (cold cache)',
      inputs: 'distinct',
      takes: 'header',
      shared: 'authenticate',
    },
    {
      id: 'module-repeated',
      name: '**nestjs-azure-auth** strategy via `passport.authenticate`, repeated token (warm cache)',
      inputs: 'repeated',
      takes: 'header',
      shared: 'authenticate',
    },
    {
      id: 'guard-distinct',
      name: '**nestjs-azure-auth** `AzureAuthGuard.canActivate`, distinct tokens (cold cache)',
      inputs: 'distinct',
      takes: 'header',
      shared: 'guard',
    },
    {
      id: 'guard-repeated',
      name: '**nestjs-azure-auth** `AzureAuthGuard.canActivate`, repeated token (warm cache)',
      inputs: 'repeated',
      takes: 'header',
      shared: 'guard',
    },
  ];
}

/**
 * Runs the micro benchmark. `entra` is the emulator worker (`emulator-worker.mjs`); `pool` holds
 * distinct valid tokens, more than the module's cache bound so that cycling through them never
 * hits the cache.
 */
export async function runMicro(entra, pool, { rounds, seconds, warmUpSeconds, log }) {
  if (typeof globalThis.gc !== 'function') log('  warning: run with node --expose-gc, or one contender\'s garbage is billed to the next');
  const repeated = await entra.mintTokens(1);
  const forged = await entra.mintForged();
  const inputsFor = {
    token: { distinct: pool, repeated, forged },
    header: { distinct: bearerHeaders(pool), repeated: bearerHeaders(repeated), forged: bearerHeaders([forged])[0] },
  };
  const cleanup = [];
  // The passport rows and the guard rows each get their own application context (own cache), so
  // that one cursor through the pool never finds tokens the other one verified.
  const modulePath = await startModulePath(entra, inputsFor.header.repeated[0]);
  cleanup.push(modulePath.close);
  const guardPath = await startModulePath(entra, inputsFor.header.repeated[0]);
  cleanup.push(guardPath.close);
  const shared = { authenticate: modulePath.authenticate, guard: guardPath.guard };
  const active = [];
  const unavailable = [];
  try {
    const only = process.env.BENCH_MICRO_ONLY?.split(',').filter(Boolean);
    for (const contender of contenders(entra)) {
      if (only && contender.id !== 'raw-crypto-verify' && !only.includes(contender.id)) {
        unavailable.push({ id: contender.id, name: contender.name, inputs: contender.inputs, reason: 'not selected (BENCH_MICRO_ONLY)' });
        continue;
      }
      try {
        const op = contender.shared ? shared[contender.shared] : await contender.setup(cleanup);
        const given = inputsFor[contender.takes ?? 'token'];
        const inputs = given[contender.inputs];
        await accepts(op, inputs[0]);
        await refuses(op, given.forged);
        const probe = op(inputs[0]);
        // The guard answers a cached token synchronously and a new one with a promise: always await it,
        // or the distinct-token rows would count verifications they never waited for.
        const isAsync = contender.shared === 'guard' || typeof probe?.then === 'function';
        if (isAsync) await probe;
        active.push({ ...contender, op, input: inputs, isAsync, cursor: { at: 0 }, samples: [] });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log(`  ${contender.id}: n/a (${reason})`);
        unavailable.push({ id: contender.id, name: contender.name, inputs: contender.inputs, reason });
      }
    }
    log(`  warm-up ${warmUpSeconds} s per contender`);
    for (const contender of active) await measure(contender.op, contender.input, contender.cursor, warmUpSeconds, contender.isAsync);
    for (let round = 0; round < rounds; round++) {
      const order = active.map((_, i) => active[(i + round) % active.length]);
      for (const contender of order) {
        contender.samples.push(await measure(contender.op, contender.input, contender.cursor, seconds, contender.isAsync));
      }
      log(`  round ${round + 1}/${rounds}: ${active.map((c) => `${c.id} ${Math.round(c.samples.at(-1).cpu)}`).join(', ')}`);
    }
    const cacheSize = modulePath.verifier.cache.size;
    const rawSamples = active.find((c) => c.id === 'raw-crypto-verify').samples;
    const limit = median(rawSamples.map((sample) => sample.cpu));
    const wallLimit = median(rawSamples.map((sample) => sample.wall));
    const rows = contenders(entra).map(({ id, name, inputs }) => {
      const measured = active.find((c) => c.id === id);
      if (!measured) return { id, name, inputs, opsPerSec: null, ratio: null, reason: unavailable.find((u) => u.id === id)?.reason };
      const opsPerSec = median(measured.samples.map((sample) => sample.cpu));
      const wallOpsPerSec = median(measured.samples.map((sample) => sample.wall));
      return {
        id,
        name,
        inputs,
        opsPerSec,
        ratio: opsPerSec / limit,
        wallOpsPerSec,
        wallRatio: wallOpsPerSec / wallLimit,
        bestOpsPerSec: Math.max(...measured.samples.map((sample) => sample.cpu)),
        samples: measured.samples.map((sample) => Math.round(sample.cpu)),
        wallSamples: measured.samples.map((sample) => Math.round(sample.wall)),
      };
    });
    return { rows, moduleCacheEntries: cacheSize };
  } finally {
    for (const stop of cleanup.reverse()) await stop();
  }
}
