/**
 * Child process of the HTTP benchmark: the bench Nest app on one adapter, on loopback. Started
 * with IPC by `http.mjs`; reports its URL, closes the app when told to stop.
 * argv: express | fastify. env: BENCH_AUTHORITY_HOST, BENCH_TENANT_ID, BENCH_CLIENT_ID, and
 * BENCH_MODULE_OPTIONS (JSON, more module options), BENCH_PORT (default: any free port), and
 * BENCH_REFERENCE_TIMING=1 (the module's verification of each new token timed within its request
 * and back to back, as in `reference-server.mjs`: `check-timer.mjs`).
 * In a `node:cluster` worker it reports to the primary, which listens on its behalf.
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AzureTokenVerifier } from 'nestjs-azure-auth';
import { benchModule } from './bench-app.mjs';
import { checkTimer, timeNewTokens } from './check-timer.mjs';

const adapter = process.argv[2];
if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`adapter must be express or fastify, got ${adapter}`);
const entra = {
  authorityHost: process.env.BENCH_AUTHORITY_HOST,
  tenantId: process.env.BENCH_TENANT_ID,
  clientId: process.env.BENCH_CLIENT_ID,
};
const module = benchModule(entra, JSON.parse(process.env.BENCH_MODULE_OPTIONS ?? '{}'));
const app =
  adapter === 'fastify'
    ? await NestFactory.create(module, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(module, { logger: false });
const timer = process.env.BENCH_REFERENCE_TIMING === '1' ? checkTimer() : undefined;
if (timer) {
  // The guard's verifier is this one instance: its verify, timed for new tokens.
  const verifier = app.get(AzureTokenVerifier, { strict: false });
  verifier.verify = timeNewTokens(verifier, timer);
}
await app.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1');
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
process.on('message', async (message) => {
  if (message === 'stop') {
    timer?.report(`the module's verify, ${adapter}`);
    await app.close();
    process.disconnect();
  }
});
process.send({ url, pid: process.pid, worker: cluster.isWorker });
