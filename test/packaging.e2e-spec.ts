import { existsSync } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EntraEmulator, entraEmulatorEnvironment } from 'nestjs-azure-auth/testing';
import { buildLibrary, cleanEnv, LIB_DIR, REPO_ROOT, runProcess, type ProcessResult } from './support/packaging/build-library.js';
import { Readme, type ReadmeCommand } from './support/packaging/readme.js';

/*
 * Packs libs/azure-auth as it would be published and installs the tarball into throwaway apps as
 * the starters write them (test/support/packaging/): a Nest 11 CommonJS app tested with Jest, and
 * a Nest 12 ES module app tested with Vitest and with Jest in ESM mode. It follows README.md as
 * written: the install commands, the configuration and the test itself are README's blocks marked
 * `<!-- read by test/packaging.e2e-spec.ts: … -->`, so README and this suite cannot drift apart.
 * Slow, and uses the npm registry (through the local npm cache first).
 */

const SUITE_TIMEOUT_MS = 480_000;
const INSTALL_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 120_000;
const FIXTURES = join(import.meta.dirname, 'support', 'packaging');
const ATTW = join(REPO_ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
const INSTALL_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline'];
const SUBPATHS = ['nestjs-azure-auth', 'nestjs-azure-auth/testing', 'nestjs-azure-auth/swagger', 'nestjs-azure-auth/health'];

/** A test runner of an app, set up as README says. */
interface Runner {
  readonly name: string;
  /** README block: the test packages to install. */
  readonly install: string;
  /** README block with the runner's configuration, written to `file` (or, from a starter, found there as it is). */
  readonly config: { readonly block: string; readonly file: string; readonly fromStarter: boolean };
  /** The command that runs the test, writing a Jest-shaped JSON report to `report`. */
  run(readme: Readme, report: string): ReadmeCommand;
}

interface AppFixture {
  readonly label: string;
  readonly fixture: string;
  readonly nestMajor: number;
  /** README block: the install line for this Nest major. */
  readonly install: string;
  /** How README tells this app to import its AppModule in the test. */
  readonly appModuleImport?: { readonly from: string; readonly to: string };
  readonly runners: readonly Runner[];
}

const npmRunTestE2e = (reporterArgs: string[]): ReadmeCommand => ({ env: {}, command: 'npm', args: ['run', 'test:e2e', '--', ...reporterArgs] });

const APPS: readonly AppFixture[] = [
  {
    label: 'Nest 11 CommonJS app (nest new, Nest 11)',
    fixture: 'nest11-cjs',
    nestMajor: 11,
    install: 'install nest11',
    appModuleImport: { from: "from '../src/app.module.js'", to: "from '../src/app.module'" },
    runners: [
      {
        name: 'Jest (CommonJS)',
        install: 'jest-cjs install',
        config: { block: 'jest-cjs config', file: 'test/jest-e2e.json', fromStarter: true },
        run: (_readme, report) => npmRunTestE2e(['--json', `--outputFile=${report}`]),
      },
    ],
  },
  {
    label: 'Nest 12 ES module app (nest new, ts-esm)',
    fixture: 'nest12-esm',
    nestMajor: 12,
    install: 'install nest12',
    runners: [
      {
        name: 'Vitest',
        install: 'vitest install',
        config: { block: 'vitest config', file: 'vitest.config.e2e.ts', fromStarter: true },
        run: (_readme, report) => npmRunTestE2e(['--reporter=json', `--outputFile=${report}`]),
      },
      {
        name: 'Jest (ESM mode)',
        install: 'jest-esm install',
        config: { block: 'jest-esm config', file: 'test/jest-e2e.json', fromStarter: false },
        run: (readme, report) => {
          const [command] = readme.commands('jest-esm run');
          return { ...command, args: [...command.args, '--json', `--outputFile=${report}`] };
        },
      },
    ],
  },
];

/** The part of a Jest (or Vitest `json` reporter) report this suite reads. */
interface RunnerReport {
  numFailedTests: number;
  testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
}

/** What `module-formats.cjs` prints: per subpath, the file `require` took and the exports that differ from `import`'s. */
interface ModuleFormats {
  version: string;
  subpaths: Record<string, { file: string; exports: string[]; imported: string[]; differing: string[] }>;
}

interface AppRun {
  readonly directory: string;
  readonly typeCheck: ProcessResult;
  readonly runs: ReadonlyMap<string, { readonly result: ProcessResult; readonly report: RunnerReport | undefined }>;
  /** `module-formats.cjs` as Node runs it by default (require(esm), `module-sync`). */
  readonly formats: ProcessResult;
  /** `module-formats.cjs` without require(esm), where `require` takes the CommonJS build. */
  readonly formatsWithoutRequireEsm: ProcessResult | undefined;
}

function expectSuccess(what: string, result: ProcessResult): ProcessResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Fails at once, saying why, when the registry cannot be reached: the installs would hang for minutes. */
async function assertRegistryReachable(): Promise<void> {
  const registry = (await runProcess('npm', ['config', 'get', 'registry'], { env: cleanEnv() })).stdout.trim();
  const ping = await runProcess('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=20000'], { env: cleanEnv(), timeoutMs: 40_000 });
  if (ping.code !== 0) {
    // npm's own words: "network timeout at: …", "request to … failed, reason: …", "404 Not Found - GET …".
    const said = ping.stderr.split('\n').find((line) => /^npm error (?!code |errno |syscall |A complete log)/.test(line));
    const reason = said?.replace(/^npm error /, '') ?? (ping.code === null ? 'no answer within 40 s' : `exit ${ping.code}`);
    throw new Error(`The npm registry ${registry} cannot be reached (npm ping: ${reason}). The packaging suite installs the packed library into throwaway apps from it.`);
  }
}

/** Runs a README command in an app; `npm install` gets the tarball for `nestjs-azure-auth`, and the cache first. */
function runReadmeCommand(command: ReadmeCommand, cwd: string, tarball: string, timeoutMs: number): Promise<ProcessResult> {
  const install = command.command === 'npm' && command.args[0] === 'install';
  const args = install ? [...command.args.map((arg) => (arg === 'nestjs-azure-auth' ? tarball : arg)), ...INSTALL_FLAGS] : command.args;
  return runProcess(command.command, args, { cwd, env: cleanEnv(command.env), timeoutMs });
}

/** The fixture app, with README's AppModule as src/app.module.ts and README's test as test/app.e2e-spec.ts. */
async function createApp(app: AppFixture, readme: Readme, directory: string): Promise<void> {
  await cp(join(FIXTURES, app.fixture), directory, { recursive: true });
  for (const entry of await readdir(directory, { recursive: true })) {
    if (entry.endsWith('.fixture.json')) await rename(join(directory, entry), join(directory, entry.replace(/\.fixture\.json$/, '.json')));
  }
  await cp(join(FIXTURES, 'module-formats.cjs'), join(directory, 'module-formats.cjs'));
  await writeFile(join(directory, 'src', 'app.module.ts'), readme.firstBlockUnder('Use it in your API', 'ts'));
  let test = readme.block('e2e test');
  if (app.appModuleImport) {
    if (!test.includes(app.appModuleImport.from)) throw new Error(`README's test does not import AppModule ${app.appModuleImport.from}`);
    test = test.replace(app.appModuleImport.from, app.appModuleImport.to);
  }
  await mkdir(join(directory, 'test'), { recursive: true });
  await writeFile(join(directory, 'test', 'app.e2e-spec.ts'), test);
  for (const runner of app.runners) {
    if (runner.config.fromStarter) continue;
    await mkdir(dirname(join(directory, runner.config.file)), { recursive: true });
    await writeFile(join(directory, runner.config.file), readme.block(runner.config.block));
  }
}

const runModuleFormats = (directory: string, nodeOptions: string[] = []) => runProcess(process.execPath, [...nodeOptions, 'module-formats.cjs'], { cwd: directory, env: cleanEnv() });
const moduleFormats = (result: ProcessResult) => JSON.parse(expectSuccess('module-formats.cjs', result).stdout) as ModuleFormats;

/** Everything an app needs, in README's order: install, test packages, type check, the tests. */
async function prepareApp(app: AppFixture, readme: Readme, workspace: string, tarball: string): Promise<AppRun> {
  const directory = join(workspace, app.fixture);
  await createApp(app, readme, directory);
  for (const block of [app.install, ...app.runners.map((runner) => runner.install)]) {
    for (const command of readme.commands(block)) {
      expectSuccess(`README "${block}" (${command.command} ${command.args.join(' ')}) in the ${app.label}`, await runReadmeCommand(command, directory, tarball, INSTALL_TIMEOUT_MS));
    }
  }
  const typeCheck = await runProcess('npx', ['--no', '--', 'tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: directory, env: cleanEnv(), timeoutMs: RUN_TIMEOUT_MS });
  const runs = new Map<string, { result: ProcessResult; report: RunnerReport | undefined }>();
  for (const runner of app.runners) {
    const reportFile = join(workspace, `${app.fixture}-${runner.name.replace(/\W+/g, '-')}.json`);
    const result = await runReadmeCommand(runner.run(readme, reportFile), directory, tarball, RUN_TIMEOUT_MS);
    const report = await readFile(reportFile, 'utf8').then((text) => JSON.parse(text) as RunnerReport, () => undefined);
    runs.set(runner.name, { result, report });
  }
  const formats = await runModuleFormats(directory);
  // Nest 12 is ES modules only: without require(esm), only a CommonJS Nest (11) loads at all.
  const formatsWithoutRequireEsm = app.nestMajor === 11 ? await runModuleFormats(directory, ['--no-experimental-require-module']) : undefined;
  return { directory, typeCheck, runs, formats, formatsWithoutRequireEsm };
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

const installedVersion = async (directory: string, name: string) => (JSON.parse(await readFile(join(directory, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

describe('packaging: the npm tarball of nestjs-azure-auth, installed as README says', () => {
  let readme: Readme;
  let workspace: string;
  let packedFiles: string[];
  let packed: string;
  let manifest: Record<string, any>;
  let typesReport: { problems: Record<string, unknown>; analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> } };
  const apps = new Map<string, Promise<AppRun>>();

  beforeAll(async () => {
    const started = Date.now();
    readme = await Readme.read();
    await timed('registry check', assertRegistryReachable);
    workspace = await mkdtemp(join(tmpdir(), 'nestjs-azure-auth-packaging-'));
    // Packing under the build lock: no other suite rewrites dist while npm reads it.
    const { next: pack } = await timed('build:lib + pack', () =>
      buildLibrary(() => runProcess('npm', ['pack', '--json', '--pack-destination', workspace], { cwd: LIB_DIR, env: cleanEnv(), timeoutMs: 120_000 })),
    );
    expectSuccess('npm pack', pack);
    const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = join(workspace, report.filename);
    packedFiles = report.files.map((file) => file.path).sort();
    packed = join(workspace, 'extracted');
    await mkdir(packed);
    expectSuccess('tar', await runProcess('tar', ['-xzf', tarball, '-C', packed]));
    packed = join(packed, 'package');
    manifest = JSON.parse(await readFile(join(packed, 'package.json'), 'utf8'));

    for (const app of APPS) apps.set(app.fixture, timed(`prepare ${app.fixture}`, () => prepareApp(app, readme, workspace, tarball)));
    const types = await timed('attw', () => runProcess(process.execPath, [ATTW, '--format', 'json', tarball], { env: cleanEnv(), timeoutMs: RUN_TIMEOUT_MS }));
    typesReport = JSON.parse(types.stdout);
    // The apps' failures belong to their own tests.
    await Promise.allSettled(apps.values());
    durations['prepare (total)'] = Date.now() - started;
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    const summary = Object.entries(durations).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`);
    process.stderr.write(`packaging durations: ${summary.join(', ')}\n`);
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  describe('the packed tarball', () => {
    it('holds both builds and the manifest only: no sources, no specs', () => {
      expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json']));
      for (const file of packedFiles) {
        expect(file).toMatch(/^(package\.json|README\.md|LICENSE(\.md)?|CHANGELOG\.md|dist\/(esm|cjs)\/.+)$/);
        expect(file).not.toMatch(/\.spec\.|e2e-spec|\.ts$(?<!\.d\.ts)|tsbuildinfo/);
      }
    });

    it('marks the CommonJS build as CommonJS, beside an ES module package', async () => {
      expect(manifest.type).toBe('module');
      expect(JSON.parse(await readFile(join(packed, 'dist', 'cjs', 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
      expect(await readFile(join(packed, 'dist', 'cjs', 'index.js'), 'utf8')).toMatch(/^"use strict";[\s\S]*require\("\.\/azure-auth\.module\.js"\)/);
      expect(await readFile(join(packed, 'dist', 'esm', 'index.js'), 'utf8')).toMatch(/^export \{ AzureAuthModule/m);
    });

    it('ships the same modules in both builds, each with a .d.ts that keeps the JSDoc', async () => {
      const modules = (build: string) => packedFiles.filter((file) => file.startsWith(`dist/${build}/`) && file.endsWith('.js')).map((file) => file.slice(`dist/${build}/`.length));
      expect(modules('esm')).toEqual(expect.arrayContaining(['index.js', 'testing/index.js', 'cli/main.js']));
      expect(modules('cjs')).toEqual(modules('esm'));
      for (const build of ['esm', 'cjs']) {
        for (const module of modules(build)) expect(packedFiles).toContain(`dist/${build}/${module.replace(/\.js$/, '.d.ts')}`);
        const options = await readFile(join(packed, 'dist', build, 'azure-auth.options.d.ts'), 'utf8');
        expect(options).toMatch(/\/\*\*[^/]*Application \(client\) id[^/]*\*\/\s*clientId\??: string;/);
        const emulator = await readFile(join(packed, 'dist', build, 'testing', 'entra-emulator.d.ts'), 'utf8');
        expect(emulator).toMatch(/\/\*\*[\s\S]*@example[\s\S]*\*\/\s*export declare class EntraEmulator/);
        const override = await readFile(join(packed, 'dist', build, 'testing', 'override-azure-auth.d.ts'), 'utf8');
        expect(override).toMatch(/\/\*\*[\s\S]*@example[\s\S]*\*\/\s*export declare function overrideAzureAuthWithEmulator/);
      }
    });

    it('exports every subpath as module-sync and import (ES modules) and require (CommonJS), each with its types', async () => {
      const subpaths = { '.': '', './testing': 'testing/', './swagger': 'swagger/', './health': 'health/' };
      for (const [subpath, dir] of Object.entries(subpaths)) {
        const esm = { types: `./dist/esm/${dir}index.d.ts`, default: `./dist/esm/${dir}index.js` };
        expect({ subpath, entry: manifest.exports[subpath] }).toEqual({ subpath, entry: { 'module-sync': esm, import: esm, require: { types: `./dist/cjs/${dir}index.d.ts`, default: `./dist/cjs/${dir}index.js` } } });
        // module-sync first: Node takes the first condition it knows, for import and require() alike.
        expect(Object.keys(manifest.exports[subpath])[0]).toBe('module-sync');
      }
      expect(manifest.exports['./package.json']).toBe('./package.json');
      expect({ main: manifest.main, types: manifest.types }).toEqual({ main: './dist/cjs/index.js', types: './dist/cjs/index.d.ts' });
      const targets = (entry: unknown): string[] => (typeof entry === 'string' ? [entry] : Object.values(entry as object).flatMap(targets));
      for (const target of [...targets(manifest.exports), manifest.main, manifest.types, ...targets(manifest.typesVersions)]) {
        await expect(access(join(packed, target))).resolves.toBeUndefined();
      }
    });

    it("gives TypeScript the right build's types for node10, node16 CommonJS and ESM, and bundler (are the types wrong? no)", () => {
      expect({ problems: typesReport.problems, analysis: typesReport.analysis.problems }).toEqual({ problems: {}, analysis: [] });
      for (const [subpath, dir] of Object.entries({ '.': '', './testing': 'testing/', './swagger': 'swagger/', './health': 'health/' })) {
        const resolved = Object.fromEntries(Object.entries(typesReport.analysis.entrypoints[subpath].resolutions).map(([kind, { resolution }]) => [kind, resolution?.fileName]));
        expect({ subpath, resolved }).toEqual({
          subpath,
          resolved: {
            node10: `/node_modules/nestjs-azure-auth/dist/cjs/${dir}index.d.ts`,
            'node16-cjs': `/node_modules/nestjs-azure-auth/dist/cjs/${dir}index.d.ts`,
            'node16-esm': `/node_modules/nestjs-azure-auth/dist/esm/${dir}index.d.ts`,
            bundler: `/node_modules/nestjs-azure-auth/dist/esm/${dir}index.d.ts`,
          },
        });
      }
    });

    it('accepts Nest 11 and 12 as peers, @nestjs/passport 11 and 12 too', () => {
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

    it('declares the nestjs-azure-auth command, a node script in both builds', async () => {
      expect(manifest.bin).toEqual({ 'nestjs-azure-auth': './dist/esm/cli/main.js' });
      for (const build of ['esm', 'cjs']) {
        expect((await readFile(join(packed, 'dist', build, 'cli', 'main.js'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
      }
    });

    it('names the project: repository, homepage and issues', () => {
      expect({ repository: manifest.repository, homepage: manifest.homepage, bugs: manifest.bugs }).toEqual({
        repository: { type: 'git', url: 'git+https://github.com/nestjs-azure-auth/nestjs-azure-auth.git', directory: 'libs/azure-auth' },
        homepage: 'https://github.com/nestjs-azure-auth/nestjs-azure-auth#readme',
        bugs: { url: 'https://github.com/nestjs-azure-auth/nestjs-azure-auth/issues' },
      });
    });
  });

  describe.each(APPS)('$label', (app) => {
    const prepared = () => apps.get(app.fixture)!;

    it(`installed the tarball with README's line for Nest ${app.nestMajor}: Nest ${app.nestMajor}, @nestjs/passport ${app.nestMajor}, one copy of Nest`, async () => {
      const { directory } = await prepared();
      expect(readme.commands(app.install)).toEqual([{ env: {}, command: 'npm', args: ['install', 'nestjs-azure-auth', `@nestjs/passport@^${app.nestMajor}`, 'passport'] }]);
      for (const name of ['@nestjs/core', '@nestjs/common', '@nestjs/passport', '@nestjs/testing']) {
        expect({ name, version: await installedVersion(directory, name) }).toEqual({ name, version: expect.stringMatching(new RegExp(`^${app.nestMajor}\\.`)) });
      }
      expect(await installedVersion(directory, 'nestjs-azure-auth')).toBe(manifest.version);
      // The package must use the app's Nest, or its decorators and injection tokens would not match.
      await expect(access(join(directory, 'node_modules', 'nestjs-azure-auth', 'node_modules', '@nestjs'))).rejects.toThrow();
    });

    it("type-checks README's AppModule and test against the shipped .d.ts, with the starter's tsconfig", async () => {
      const { typeCheck } = await prepared();
      expect({ code: typeCheck.code, output: typeCheck.stdout + typeCheck.stderr }).toEqual({ code: 0, output: '' });
    });

    describe.each(app.runners)('$name', (runner) => {
      it(runner.config.fromStarter ? `runs with the starter's ${runner.config.file}, which README shows as it is` : `runs with README's ${runner.config.file}`, async () => {
        const { directory } = await prepared();
        const inApp = await readFile(join(directory, runner.config.file), 'utf8');
        const shown = readme.block(runner.config.block);
        if (runner.config.file.endsWith('.json')) expect(JSON.parse(inApp)).toEqual(JSON.parse(shown));
        else expect(inApp.trim()).toBe(shown.trim());
      });

      it("passes README's test of the user's own AppModule against the emulator: 200 with a token, 401 without, 403 without the scope, the global guard", async () => {
        const { runs } = await prepared();
        const { result, report } = runs.get(runner.name)!;
        const titles = [...readme.block('e2e test').matchAll(/^  it\('([^']+)'/gm)].map(([, title]) => title);
        expect(titles).toEqual(expect.arrayContaining([expect.stringMatching(/: 200/), expect.stringMatching(/401/), expect.stringMatching(/403/), expect.stringMatching(/global/)]));
        const outcomes = report?.testResults.flatMap((file) => file.assertionResults.map(({ title, status }) => ({ title, status })));
        expect({ code: result.code, outcomes, output: result.code === 0 ? '' : `${result.stdout}\n${result.stderr}` }).toEqual({
          code: 0,
          outcomes: titles.map((title) => ({ title, status: 'passed' })),
          output: '',
        });
      });
    });

    it('hands require() and import() of every subpath the same ES module in plain Node (module-sync): one instance of each class and token', async () => {
      const formats = moduleFormats((await prepared()).formats);
      expect(formats.version).toBe(manifest.version);
      for (const subpath of SUBPATHS) {
        const { file, exports, imported, differing } = formats.subpaths[subpath];
        expect({ subpath, file, differing, sameNames: imported }).toEqual({ subpath, file: expect.stringMatching(/^dist\/esm\/(\w+\/)?index\.js$/), differing: [], sameNames: exports });
        expect(exports.length).toBeGreaterThan(0);
      }
      expect(formats.subpaths['nestjs-azure-auth'].exports).toEqual(expect.arrayContaining(['AzureAuthModule', 'AzureAuthGuard', 'AZURE_AUTH_MODULE_OPTIONS']));
      expect(formats.subpaths['nestjs-azure-auth/testing'].exports).toEqual(expect.arrayContaining(['EntraEmulator', 'overrideAzureAuthWithEmulator', 'entraEmulatorEnvironment']));
    });

    if (app.nestMajor === 11) {
      it('loads the CommonJS build, with the same exports, where require() cannot load ES modules', async () => {
        const formats = moduleFormats((await prepared()).formatsWithoutRequireEsm!);
        for (const subpath of SUBPATHS) {
          const { file, exports, imported } = formats.subpaths[subpath];
          expect({ subpath, file, exports }).toEqual({ subpath, file: expect.stringMatching(/^dist\/cjs\/(\w+\/)?index\.js$/), exports: imported });
        }
      });
    }

    it('refuses to start with a clientCredential while the optional peer @azure/msal-node is not installed, saying how to install it', async () => {
      const { directory } = await prepared();
      // Plain CommonJS, as any user's compiled app: no decorator syntax needed.
      const script = [
        "require('reflect-metadata');",
        "const { Module } = require('@nestjs/common');",
        "const { NestFactory } = require('@nestjs/core');",
        "const { AzureAuthModule } = require('nestjs-azure-auth');",
        'class AppModule {}',
        "Module({ imports: [AzureAuthModule.forRoot({ tenantId: 'contoso.onmicrosoft.com', clientId: '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f', warmUp: false, clientCredential: { clientSecret: 'not-a-secret' } })] })(AppModule);",
        "NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }).then(() => { console.log('started'); process.exit(0); }, (error) => { console.log(error.message); process.exit(3); });",
      ].join('\n');
      expect(existsSync(join(directory, 'node_modules', '@azure', 'msal-node'))).toBe(false);
      const started = await runProcess(process.execPath, ['-e', script], { cwd: directory, env: cleanEnv() });
      expect(started.code).toBe(3);
      expect(started.stdout).toMatch(/downstream calls need the package @azure\/msal-node, an optional peer dependency of nestjs-azure-auth: npm install @azure\/msal-node/);
      expect(started.stdout).not.toContain('not-a-secret');
    });

    describe('the token doctor (npx nestjs-azure-auth)', () => {
      let entra: EntraEmulator;
      beforeAll(async () => {
        entra = await EntraEmulator.start();
      });
      afterAll(async () => {
        await entra?.stop();
      });

      const doctor = async (args: string[], input = '') => runProcess('npx', ['--no', '--', 'nestjs-azure-auth', ...args], { cwd: (await prepared()).directory, env: cleanEnv({ ...entraEmulatorEnvironment(entra) }), input });

      it('verifies against the emulator: VALID exit 0, expired exit 1', async () => {
        const valid = await doctor(['inspect'], entra.mintAccessToken({ scopes: ['Todolist.Read'] }));
        expect({ code: valid.code, stderr: valid.stderr, verdict: /^Verdict: VALID$/m.test(valid.stdout) }).toEqual({ code: 0, stderr: '', verdict: true });
        const expired = await doctor(['inspect'], entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -600 }));
        expect({ code: expired.code, verdict: /^Verdict: REFUSED \(token_expired;/m.test(expired.stdout) }).toEqual({ code: 1, verdict: true });
      });

      it("prints the package's version, from the ES module and the CommonJS build of the command", async () => {
        const { directory } = await prepared();
        expect(await doctor(['--version'])).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
        const commonJs = await runProcess(process.execPath, [join('node_modules', 'nestjs-azure-auth', 'dist', 'cjs', 'cli', 'main.js'), '--version'], { cwd: directory, env: cleanEnv() });
        expect(commonJs).toMatchObject({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
      });
    });
  });
});
