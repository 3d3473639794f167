import { spawn, type ChildProcess } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLibrary, cleanEnv, LIB_DIR, REPO_ROOT, runProcess, type ProcessResult } from './support/packaging/build-library.js';

/*
 * Packs libs/azure-auth as it would be published and installs the tarball into two throwaway apps
 * (a Nest 12 ESM app and a Nest 11 CommonJS app) built from test/support/packaging/. Slow and
 * uses the npm registry (through the local npm cache first).
 */

const SUITE_TIMEOUT_MS = 600_000;
const FIXTURES = join(import.meta.dirname, 'support', 'packaging');
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface AppFixture {
  readonly label: string;
  readonly fixture: string;
  readonly nestMajor: number;
  /** Entry points, after the type check (which also emits for the TypeScript app). */
  readonly main: string;
  readonly emulator: string;
}

const APPS: readonly AppFixture[] = [
  { label: 'Nest 12 ESM app (TypeScript)', fixture: 'nest12-esm', nestMajor: 12, main: 'dist/main.js', emulator: 'dist/emulator.js' },
  { label: 'Nest 11 CommonJS app (require)', fixture: 'nest11-cjs', nestMajor: 11, main: 'main.js', emulator: 'emulator.js' },
];

interface EmulatorHandout {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  tokens: { valid: string; expired: string; withoutScope: string };
}

interface PackedFile {
  path: string;
}

const durations: Record<string, number> = {};
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    durations[name] = Date.now() - started;
  }
}

function expectSuccess(what: string, result: ProcessResult): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
}

/** Copies a fixture app, naming `*.fixture.json` back to `*.json` and pointing it at the tarball. */
async function createApp(fixture: string, directory: string, tarball: string): Promise<void> {
  await cp(join(FIXTURES, fixture), directory, { recursive: true });
  for (const entry of await readdir(directory, { recursive: true })) {
    if (!entry.endsWith('.fixture.json')) continue;
    const target = join(directory, entry.replace(/\.fixture\.json$/, '.json'));
    await rename(join(directory, entry), target);
    await writeFile(target, (await readFile(target, 'utf8')).replace('"__TARBALL__"', JSON.stringify(`file:${tarball}`)));
  }
}

/** A process that runs until stopped, announcing itself with one JSON line on stdout. */
interface Service<T> {
  readonly announced: T;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function startService<T>(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Service<T>> {
  const child = spawn(process.execPath, [script], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const closed = new Promise<void>((done) => child.once('close', () => done()));
  void closed.then(() => running.delete(child));
  const output = () => `${stdout}${stderr}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} did not announce itself within 60 s:\n${output()}`));
    }, 60_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.indexOf('\n');
      if (line < 0) return;
      clearTimeout(timer);
      try {
        resolve({ announced: JSON.parse(stdout.slice(0, line)) as T, output, stop });
      } catch {
        void stop();
        reject(new Error(`${script} announced something that is not JSON:\n${output()}`));
      }
    });
    void closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${child.exitCode ?? child.signalCode}:\n${output()}`));
    });
  });
}

describe('packaging: the npm tarball of nestjs-azure-auth', () => {
  let workspace: string;
  let tarball: string;
  let packedFiles: string[];
  let packed: string;
  let manifest: Record<string, any>;
  const installs = new Map<string, { directory: string; install: ProcessResult; typeCheck: ProcessResult }>();

  beforeAll(async () => {
    const started = Date.now();
    workspace = await mkdtemp(join(tmpdir(), 'nestjs-azure-auth-packaging-'));
    // Packing under the build lock: no other suite rewrites dist while npm reads it.
    const { next: pack } = await timed('build:lib + pack', () =>
      buildLibrary(() => runProcess('npm', ['pack', '--json', '--pack-destination', workspace], { cwd: LIB_DIR, env: cleanEnv(), timeoutMs: 120_000 })),
    );
    expectSuccess('npm pack', pack);
    const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: PackedFile[] }>;
    tarball = join(workspace, report.filename);
    packedFiles = report.files.map((file) => file.path).sort();
    packed = join(workspace, 'extracted');
    await mkdir(packed);
    expectSuccess('tar', await runProcess('tar', ['-xzf', tarball, '-C', packed]));
    packed = join(packed, 'package');
    manifest = JSON.parse(await readFile(join(packed, 'package.json'), 'utf8'));

    await Promise.all(
      APPS.map(async (app) => {
        const directory = join(workspace, app.fixture);
        await createApp(app.fixture, directory, tarball);
        const install = await timed(`npm install (${app.fixture})`, () =>
          runProcess('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: directory, env: cleanEnv(), timeoutMs: 480_000 }),
        );
        expectSuccess(`npm install in the ${app.label}`, install);
        const typeCheck = await timed(`tsc (${app.fixture})`, () => runProcess(process.execPath, [TSC, '-p', directory], { cwd: directory, env: cleanEnv(), timeoutMs: 180_000 }));
        installs.set(app.fixture, { directory, install, typeCheck });
      }),
    );
    durations['prepare (total)'] = Date.now() - started;
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    const summary = Object.entries(durations).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`);
    process.stderr.write(`packaging durations: ${summary.join(', ')}\n`);
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  describe('the packed tarball', () => {
    it('holds the build output and the manifest only: no sources, no specs', () => {
      expect(packedFiles).toContain('package.json');
      for (const file of packedFiles) {
        expect(file).toMatch(/^(package\.json|README\.md|LICENSE(\.md)?|CHANGELOG\.md|dist\/.+)$/);
        expect(file).not.toMatch(/\.spec\.|e2e-spec|\.ts$(?<!\.d\.ts)|tsbuildinfo/);
      }
    });

    it('ships a .d.ts beside every module, with the JSDoc kept', async () => {
      const modules = packedFiles.filter((file) => file.endsWith('.js'));
      expect(modules).toEqual(expect.arrayContaining(['dist/index.js', 'dist/testing/index.js', 'dist/cli/main.js']));
      for (const module of modules) expect(packedFiles).toContain(module.replace(/\.js$/, '.d.ts'));
      const options = await readFile(join(packed, 'dist', 'azure-auth.options.d.ts'), 'utf8');
      expect(options).toMatch(/\/\*\*[^/]*Application \(client\) id[^/]*\*\/\s*clientId\??: string;/);
      const emulator = await readFile(join(packed, 'dist', 'testing', 'entra-emulator.d.ts'), 'utf8');
      expect(emulator).toMatch(/\/\*\*[\s\S]*@example[\s\S]*\*\/\s*export declare class EntraEmulator/);
    });

    it('is an ES module package whose exports map resolves to shipped files', async () => {
      expect(manifest.type).toBe('module');
      expect(manifest.exports).toMatchObject({
        '.': { types: './dist/index.d.ts', default: './dist/index.js' },
        './testing': { types: './dist/testing/index.d.ts', default: './dist/testing/index.js' },
      });
      for (const entry of Object.values(manifest.exports as Record<string, string | Record<string, string>>)) {
        for (const target of typeof entry === 'string' ? [entry] : Object.values(entry)) {
          await expect(access(join(packed, target))).resolves.toBeUndefined();
        }
      }
    });

    it('accepts Nest 11 and 12 as peers', () => {
      for (const peer of ['@nestjs/common', '@nestjs/core', '@nestjs/passport']) {
        const range = String(manifest.peerDependencies?.[peer]);
        const alternatives = range.split('||').map((part) => part.trim());
        expect({ peer, major11: alternatives.some((part) => /^\^11(\.0){0,2}$/.test(part)), major12: alternatives.some((part) => /^\^12(\.0){0,2}$/.test(part)) }).toEqual({
          peer,
          major11: true,
          major12: true,
        });
        expect(manifest.dependencies?.[peer]).toBeUndefined();
      }
    });

    it('declares the nestjs-azure-auth command, a node script', async () => {
      expect(manifest.bin).toEqual({ 'nestjs-azure-auth': expect.stringMatching(/^(\.\/)?dist\/cli\/main\.js$/) });
      const script = await readFile(join(packed, manifest.bin['nestjs-azure-auth']), 'utf8');
      expect(script.startsWith('#!/usr/bin/env node\n')).toBe(true);
    });
  });

  describe.each(APPS)('$label', (app) => {
    let directory: string;
    let emulator: Service<EmulatorHandout>;
    let api: Service<{ url: string }>;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      directory = installs.get(app.fixture)!.directory;
      emulator = await startService<EmulatorHandout>(app.emulator, directory, cleanEnv());
      const { authorityHost, tenantId, clientId } = emulator.announced;
      env = cleanEnv({ AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_AUTHORITY_HOST: authorityHost });
      api = await timed(`start (${app.fixture})`, () => startService<{ url: string }>(app.main, directory, env));
    }, 120_000);
    afterAll(async () => {
      await api?.stop();
      await emulator?.stop();
    });

    const todolist = (token?: string) => fetch(`${api.announced.url}/api/todolist`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    it(`installed the tarball with Nest ${app.nestMajor}`, async () => {
      const installed = async (name: string) => JSON.parse(await readFile(join(directory, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect((await installed('@nestjs/core')).version).toMatch(new RegExp(`^${app.nestMajor}\\.`));
      expect((await installed('@nestjs/passport')).version).toMatch(new RegExp(`^${app.nestMajor}\\.`));
      expect((await installed('nestjs-azure-auth')).version).toBe(manifest.version);
      // One copy of Nest: the package must use the app's, or its decorators and injection tokens would not match.
      await expect(access(join(directory, 'node_modules', 'nestjs-azure-auth', 'node_modules', '@nestjs'))).rejects.toThrow();
    });

    it('type-checks against the shipped .d.ts', () => {
      const { typeCheck } = installs.get(app.fixture)!;
      expect({ code: typeCheck.code, output: typeCheck.stdout + typeCheck.stderr }).toEqual({ code: 0, output: '' });
    });

    it('answers 401 with a Bearer challenge without a token', async () => {
      const answer = await todolist();
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api:\/\/[0-9a-f-]+"$/);
    });

    it('answers 200 with a valid token, the principal reaching the handler', async () => {
      const answer = await todolist(emulator.announced.tokens.valid);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ oid: expect.stringMatching(/^[0-9a-f-]{36}$/), scopes: ['Todolist.Read'] });
    });

    it('answers 401 token_expired for an expired token', async () => {
      const answer = await todolist(emulator.announced.tokens.expired);
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ reason: 'token_expired' });
      expect(answer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('answers 403 insufficient_scope when the route scope is missing', async () => {
      const answer = await todolist(emulator.announced.tokens.withoutScope);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", .*scope="Todolist\.Read"/);
    });

    it('lets @Public() routes through without a token', async () => {
      const answer = await fetch(`${api.announced.url}/api/health`);
      expect({ status: answer.status, body: await answer.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('runs the token doctor with npx: VALID exit 0, expired exit 1', async () => {
      const doctor = (token: string) => runProcess('npx', ['--no', '--', 'nestjs-azure-auth', 'inspect'], { cwd: directory, env, input: token });
      const valid = await doctor(emulator.announced.tokens.valid);
      expect({ code: valid.code, stderr: valid.stderr }).toEqual({ code: 0, stderr: '' });
      expect(valid.stdout).toMatch(/^Verdict: VALID$/m);
      const expired = await doctor(emulator.announced.tokens.expired);
      expect(expired.code).toBe(1);
      expect(expired.stdout).toMatch(/^Verdict: REFUSED \(token_expired;/m);
    });
  });
});
