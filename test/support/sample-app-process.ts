import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root: the sample app is built and run from there, as `npm start` does. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(REPO_ROOT, 'dist/src/main.js');
const OUTPUTS = [MAIN, join(REPO_ROOT, 'libs/azure-auth/dist/esm/index.js'), join(REPO_ROOT, 'libs/azure-auth/dist/esm/testing/index.js'), join(REPO_ROOT, 'libs/azure-auth/dist/cjs/package.json')];
const SOURCE_DIRS = [join(REPO_ROOT, 'src'), join(REPO_ROOT, 'libs/azure-auth/src')];
const BUILD_CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'libs/azure-auth/tsconfig.lib.json', 'libs/azure-auth/tsconfig.lib.cjs.json'].map((file) => join(REPO_ROOT, file));

/** Generous: two tsc runs on a busy two-core machine. */
export const BUILD_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

const ANSI = /\u001b\[[0-9;]*m/g;

function newestSourceMtime(): number {
  let newest = Math.max(...BUILD_CONFIGS.map((file) => statSync(file).mtimeMs));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  SOURCE_DIRS.forEach(walk);
  return newest;
}

function oldestOutputMtime(): number {
  try {
    return Math.min(...OUTPUTS.map((file) => statSync(file).mtimeMs));
  } catch {
    return -Infinity;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// Several suites (in parallel Jest workers) need the build: one builds, the others wait for it,
// so that no suite starts the app while another tsc is rewriting dist/.
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `sample-app-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than a build can take was left by a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > BUILD_TIMEOUT_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for another build (lock ${lock})`);
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let build: Promise<void> | undefined;

/**
 * Builds the library and the sample app (`npm run build`, the first half of `npm start`) unless
 * dist/ is newer than every source. Call from `beforeAll` with {@link BUILD_TIMEOUT_MS}.
 */
export function ensureSampleAppBuilt(): Promise<void> {
  // Once per worker: a suite's second describe must not build again, nor retry a build that failed.
  build ??= withBuildLock(async () => {
    if (oldestOutputMtime() > newestSourceMtime()) return;
    try {
      await promisify(execFile)('npm', ['run', 'build'], { cwd: REPO_ROOT, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm run build failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
    }
  });
  return build;
}

/** A running sample app. */
export interface SampleApp {
  /** Base URL from the app's `Listening on …` line: the address it really bound (`0.0.0.0` or `[::]` for every interface). */
  readonly url: string;
  /** Everything it printed so far on stdout and stderr, without colours. */
  output(): string;
  /** SIGTERM, then SIGKILL if it does not exit in time; resolves with how it ended. */
  stop(): Promise<SampleAppExit>;
}

/** How a process that was expected to exit ended. */
export interface SampleAppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

const running = new Set<ChildProcess>();
// If the Jest worker goes away (a crash, a timeout), its children must not outlive it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Only what the app is told, plus PATH: the test's own NODE_ENV and NODE_OPTIONS must not leak in. */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', ...env };
}

function spawnApp(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<SampleAppExit> } {
  const child = spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env: childEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const output = () => text.replace(ANSI, '');
  const exited = new Promise<SampleAppExit>((done) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      done({ code, signal, output: output() });
    });
  });
  return { child, output, exited };
}

async function stopChild(child: ChildProcess, exited: Promise<SampleAppExit>): Promise<SampleAppExit> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `node dist/src/main.js` with exactly `env` (plus PATH) and resolves once it prints
 * `Listening on http://…`, the app's last start-up line. Rejects with the output if it exits first.
 */
export async function startSampleApp(env: Record<string, string>): Promise<SampleApp> {
  const { child, output, exited } = spawnApp(env);
  const stop = () => stopChild(child, exited);
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`sample app did not start within ${START_TIMEOUT_MS} ms:\n${output()}`)), START_TIMEOUT_MS);
    const check = () => {
      const listening = /Listening on (http:\/\/\S+)/.exec(output());
      if (listening) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        done(listening[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((exit) => {
      clearTimeout(timer);
      fail(new Error(`sample app exited (code ${exit.code}, signal ${exit.signal}) before listening:\n${exit.output}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, output, stop };
}

/** Runs the app with `env` and waits for it to exit on its own (a refused configuration); kills it after `timeoutMs`. */
export async function runSampleAppToExit(env: Record<string, string>, timeoutMs = 20_000): Promise<SampleAppExit> {
  const { child, exited } = spawnApp(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every sample app this worker started and has not seen exit: for `afterAll`. */
export async function stopAllSampleApps(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((done) => {
          child.once('close', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * An IPv4 address of this machine beyond loopback: calling the app there, the app sees a peer that
 * is not loopback, as a caller from the network would be. `undefined` on a machine without one.
 */
export function addressBeyondLoopback(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
}
