/**
 * Run by `bench-warnings.e2e-spec.ts`: collects warnings as `bench/run.mjs` does, then has this
 * process, a worker thread and a forked child each emit one, and prints what `finish()` returned.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { collectWarnings, workerExecArgv } from '../../bench/warnings.mjs';

const role = process.argv[2];
if (role === 'child' || role === 'worker') {
  process.emitWarning(`from the ${role}`, 'BenchFixtureWarning');
} else {
  const warnings = collectWarnings();
  process.emitWarning('from the bench process', 'BenchFixtureWarning');
  const script = fileURLToPath(import.meta.url);
  await new Promise((resolve, reject) => {
    const worker = new Worker(script, { argv: ['worker'], execArgv: workerExecArgv() });
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  await new Promise((resolve, reject) => {
    const child = fork(script, ['child'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  // The bench process's own warning arrives on the next tick of its event loop.
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write(JSON.stringify(warnings.finish(() => undefined)));
}
