import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The monorepo root: where `npm run build:lib` runs and `libs/azure-auth/dist` appears. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
export const LIB_DIR = join(REPO_ROOT, 'libs', 'azure-auth');

/** What a child process left behind. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs a command without blocking the event loop (an emulator in this process must keep
 * answering), feeding `input` on stdin, and collects its output.
 */
export function runProcess(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** npm settings of this process that its children keep: the cache, to be reused, and the registry. */
const KEPT_NPM_SETTINGS: ReadonlySet<string> = new Set(['npm_config_cache', 'npm_config_registry']);

/**
 * The environment of this process without what must not leak into a child: Jest's NODE_OPTIONS,
 * Azure settings, and the `npm_*` variables of `npm test` (`npm_config_local_prefix` would point
 * an `npm install` in a throwaway app at this repository).
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'NODE_OPTIONS' || name.startsWith('AZURE_')) continue;
    if (name.toLowerCase().startsWith('npm_') && !KEPT_NPM_SETTINGS.has(name.toLowerCase())) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

// Every suite that builds into libs/azure-auth/dist takes this lock (the sample-app suites use the
// same directory name), so that no tsc rewrites dist while another suite builds or packs it: tsc
// truncates each file before writing it.
const LOCK_DIR = join(tmpdir(), `sample-app-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
/** Longer than any build and pack; a lock older than this was left by a killed run. */
const STALE_LOCK_MS = 180_000;

async function withDistLock<T>(work: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = await stat(LOCK_DIR).then((info) => Date.now() - info.mtimeMs, () => 0);
    if (age > STALE_LOCK_MS) await rm(LOCK_DIR, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`timed out waiting for another build (lock ${LOCK_DIR})`);
    else await sleep(250);
  }
  try {
    return await work();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

const OUTPUTS = ['esm', 'cjs'].flatMap((build) => ['index.js', 'index.d.ts', 'testing/index.js', 'cli/main.js'].map((file) => join(LIB_DIR, 'dist', build, file)));
const INPUTS_DIR = join(LIB_DIR, 'src');
const CONFIGS = [join(LIB_DIR, 'tsconfig.lib.json'), join(LIB_DIR, 'tsconfig.lib.cjs.json'), join(REPO_ROOT, 'tsconfig.json')];

async function isDistFresh(): Promise<boolean> {
  const outputs = await Promise.all(OUTPUTS.map((file) => stat(file).then((info) => info.mtimeMs, () => -Infinity)));
  const inputs = await Promise.all(
    [...CONFIGS, ...(await readdir(INPUTS_DIR, { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts')).map((file) => join(INPUTS_DIR, file))].map(
      (file) => stat(file).then((info) => info.mtimeMs),
    ),
  );
  return Math.min(...outputs) > Math.max(...inputs);
}

/** How the library build went. */
export interface LibraryBuild {
  /** False when dist was already newer than every source, as `npm run build:lib` would leave it. */
  readonly built: boolean;
  readonly durationMs: number;
}

/**
 * `npm run build:lib` (skipped when dist is newer than every source), then `next` while no other
 * suite may rebuild. Fails with tsc's output when the build fails.
 */
export function buildLibrary<T = void>(next?: () => Promise<T>): Promise<LibraryBuild & { readonly next: T }> {
  return withDistLock(async () => {
    const started = Date.now();
    let built = false;
    if (!(await isDistFresh())) {
      const result = await runProcess('npm', ['run', 'build:lib'], { env: cleanEnv(), timeoutMs: STALE_LOCK_MS });
      if (result.code !== 0) throw new Error(`npm run build:lib exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
      built = true;
    }
    const durationMs = Date.now() - started;
    return { built, durationMs, next: (await next?.()) as T };
  });
}
