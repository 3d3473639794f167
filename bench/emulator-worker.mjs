/**
 * The Entra emulator in a worker thread. Minting thousands of tokens in the thread that is being
 * measured changes how V8 later places that thread's short-lived objects (allocation-site
 * pretenuring after many surviving allocations) and made the passport-based rows up to three times
 * slower; here minting happens on another heap and tokens arrive as one string per batch.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { BENCH_SCOPES, ENTRA_EXTRA_CLAIMS } from './tokens.mjs';
import { workerExecArgv } from './warnings.mjs';

/** Tokens of a batch travel as one string, split by the receiver (one allocation, not thousands). */
const SEPARATOR = '\n';

function mintOptions() {
  return { scopes: [...BENCH_SCOPES], claims: { ...ENTRA_EXTRA_CLAIMS } };
}

if (parentPort) {
  const entra = await EntraEmulator.start();
  parentPort.on('message', async ({ id, command, count }) => {
    try {
      let result;
      if (command === 'mint') {
        const tokens = new Array(count);
        for (let i = 0; i < count; i++) tokens[i] = entra.mintAccessToken(mintOptions());
        result = tokens.join(SEPARATOR);
      } else if (command === 'forge') {
        // The published kid, signed by a key nobody publishes: the signature cannot verify.
        const stranger = entra.createUnpublishedKey();
        result = entra.mintAccessToken({ ...mintOptions(), privateKey: stranger.privateKey, kid: entra.signingKid });
      } else if (command === 'count-fetches') {
        // Metadata and key-set requests since the last count: what replicas cost Entra.
        result = { metadata: entra.requestCount('metadata'), keys: entra.requestCount('keys') };
        entra.resetRequests();
      } else if (command === 'stop') {
        await entra.stop();
        result = true;
      }
      parentPort.postMessage({ id, result });
    } catch (error) {
      parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  parentPort.postMessage({
    id: 0,
    result: {
      authorityHost: entra.authorityHost,
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      signingKid: entra.signingKid,
      v2Issuer: entra.v2Issuer(),
      v2MetadataUrl: entra.v2MetadataUrl(),
    },
  });
}

/**
 * Starts the emulator in a worker thread. The returned object has the emulator's coordinates
 * (`authorityHost`, `tenantId`, `clientId`, `signingKid`, `v2Issuer()`, `v2MetadataUrl()`) and
 * mints asynchronously.
 */
export async function startEmulatorWorker() {
  const worker = new Worker(new URL(import.meta.url), { execArgv: workerExecArgv() });
  const pending = new Map();
  let nextId = 1;
  const ready = new Promise((resolve, reject) => {
    pending.set(0, { resolve, reject });
    worker.once('error', reject);
  });
  worker.on('message', ({ id, result, error }) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (error) waiter.reject(new Error(error));
    else waiter.resolve(result);
  });
  const call = (command, count) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, command, count });
    });
  const info = await ready;
  return {
    ...info,
    /** The coordinates as plain data, for other threads (see `entraAt` in micro-contenders.mjs). */
    coordinates: info,
    v2Issuer: () => info.v2Issuer,
    v2MetadataUrl: () => info.v2MetadataUrl,
    /** `count` distinct valid tokens, as one string per token (split from one batch string). */
    async mintTokens(count) {
      const tokens = [];
      for (let done = 0; done < count; done += 5000) {
        const batch = await call('mint', Math.min(5000, count - done));
        tokens.push(...batch.split(SEPARATOR));
      }
      return tokens;
    },
    /** One batch of `count` tokens joined by newlines (for a process that splits it itself). */
    mintBatch: (count) => call('mint', count),
    mintForged: () => call('forge'),
    /** `{ metadata, keys }`: the emulator's requests of each kind since the last call (or start). */
    countFetches: () => call('count-fetches'),
    async stop() {
      await call('stop');
      await worker.terminate();
    },
  };
}
