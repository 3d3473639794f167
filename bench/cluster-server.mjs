/**
 * Child process of the replicas benchmark: a `node:cluster` primary that runs the bench app
 * (`http-server.mjs`) in BENCH_CLUSTER_WORKERS workers on one port (the primary accepts and hands
 * connections round-robin, Node's default on Linux). Reports its URL once every worker listens;
 * stops them when told to stop. argv: express | fastify; env as for `http-server.mjs`.
 */
import cluster from 'node:cluster';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { envNumber } from './tokens.mjs';

const workers = Math.floor(envNumber('BENCH_CLUSTER_WORKERS', 2));

async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

const port = await freePort();
cluster.setupPrimary({ exec: fileURLToPath(new URL('./http-server.mjs', import.meta.url)), args: process.argv.slice(2) });
const started = [];
for (let i = 0; i < workers; i++) {
  const worker = cluster.fork({ BENCH_PORT: String(port) });
  started.push(
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('exit', (code) => reject(new Error(`cluster worker exited with ${code}`)));
    }),
  );
}
const [{ url }] = await Promise.all(started);
for (const worker of Object.values(cluster.workers)) worker.removeAllListeners('exit');
process.on('message', async (message) => {
  if (message !== 'stop') return;
  const exits = Object.values(cluster.workers).map((worker) => once(worker, 'exit'));
  for (const worker of Object.values(cluster.workers)) worker.send('stop');
  await Promise.all(exits);
  process.disconnect();
});
process.send({ url });
