import { Readable } from 'node:stream';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { DOCTOR_EXIT, DOCTOR_USAGE, runDoctor, type DoctorIo } from './run.js';
import type { Verdict } from './verify.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const SIGNATURE = 'c2lnbmF0dXJlLXNlZ21lbnQtb2YtdGhlLXRva2Vu';
const TOKEN = `${b64({ typ: 'JWT', alg: 'RS256', kid: 'k' })}.${b64({ aud: 'a', iss: 'i', exp: NOW_MS / 1000 + 600, scp: 'Todolist.Read', ver: '2.0' })}.${SIGNATURE}`;
const ENV = { AZURE_TENANT_ID: '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d', AZURE_CLIENT_ID: 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f' };
const VALID: Verdict = {
  status: 'valid',
  principal: { oid: 'o', tid: ENV.AZURE_TENANT_ID, sub: 's', clientId: 'c', tokenVersion: '2.0', appOnly: false, guest: false, scopes: ['Todolist.Read'], roles: [] },
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  verified: Array<{ token: string; options: AzureAuthModuleOptions }>;
}

async function run(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string | string[]; tty?: boolean; verdict?: Verdict | Error } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const verified: Run['verified'] = [];
  const chunks = options.stdin === undefined ? [] : ([] as string[]).concat(options.stdin);
  const stdin = Object.assign(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), { isTTY: options.tty });
  const io: DoctorIo = {
    argv,
    env: options.env ?? {},
    stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    version: '1.2.3',
    now: () => NOW_MS,
    verify: async (token, moduleOptions) => {
      verified.push({ token, options: moduleOptions });
      if (options.verdict instanceof Error) throw options.verdict;
      return options.verdict ?? VALID;
    },
  };
  const code = await runDoctor(io);
  return { code, stdout, stderr, verified };
}

describe('runDoctor: usage', () => {
  it('prints the help on --help, -h and "help", exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['inspect', '--help']]) {
      const result = await run(argv);
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: DOCTOR_EXIT.ok, stdout: DOCTOR_USAGE });
    }
  });

  it('documents every exit status and every environment variable in the help', () => {
    expect(DOCTOR_USAGE).toMatch(/^ {2}0 {2}valid; or decoded, when verification is not configured/m);
    expect(DOCTOR_USAGE).toMatch(/^ {2}1 {2}refused/m);
    expect(DOCTOR_USAGE).toMatch(/^ {2}2 {2}usage/m);
    for (const name of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_AUTHORITY_HOST', 'AZURE_ALLOWED_TENANTS']) expect(DOCTOR_USAGE).toContain(name);
  });

  it('prints the version', async () => {
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: '1.2.3\n' });
  });

  it.each([
    ['no command', [], /no command/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown option', ['inspect', '--frob', TOKEN], /Unknown option '--frob'/],
    ['two tokens', ['inspect', TOKEN, TOKEN], /inspect takes one token/],
  ])('exits 2 with the usage line on %s', async (_label, argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: nestjs-azure-auth inspect');
    expect(result.stdout).toBe('');
  });

  it('never echoes a token given in place of the command', async () => {
    const result = await run([TOKEN]);
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.stderr).toContain('a token goes after "inspect"');
    expect(result.stderr).not.toContain(TOKEN.slice(0, 20));
  });

  it('exits 2 without waiting when there is no argument and stdin is a terminal', async () => {
    const result = await run(['inspect'], { tty: true, stdin: TOKEN });
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.stderr).toMatch(/no token: pass it as an argument or pipe it on stdin/);
  });

  it('exits 2 on empty stdin', async () => {
    expect((await run(['inspect'], { stdin: '  \n' })).code).toBe(DOCTOR_EXIT.usage);
    expect((await run(['inspect', '-'], { stdin: [] })).code).toBe(DOCTOR_EXIT.usage);
  });

  it('refuses more than 1 MiB on stdin', async () => {
    const result = await run(['inspect'], { stdin: ['x'.repeat(600_000), 'x'.repeat(600_000)] });
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.stderr).toMatch(/more than 1048576 bytes/);
  });
});

describe('runDoctor: inspect', () => {
  it('decodes only, exit 0, when no configuration is in the environment', async () => {
    const result = await run(['inspect', TOKEN]);
    expect(result.code).toBe(DOCTOR_EXIT.ok);
    expect(result.verified).toEqual([]);
    expect(result.stdout).toContain('Verification skipped');
    expect(result.stdout).toMatch(/^ {2}scp +Todolist\.Read$/m);
  });

  it('reads the token from stdin, with or without "-", and drops a pasted "Bearer "', async () => {
    for (const argv of [['inspect'], ['inspect', '-']]) {
      const result = await run(argv, { env: ENV, stdin: [`Bearer ${TOKEN.slice(0, 30)}`, `${TOKEN.slice(30)}\n`] });
      expect(result.code).toBe(DOCTOR_EXIT.ok);
      expect(result.verified).toEqual([{ token: TOKEN, options: { tenantId: ENV.AZURE_TENANT_ID, clientId: ENV.AZURE_CLIENT_ID } }]);
      expect(result.stdout).toContain('Verdict: VALID');
    }
  });

  it('exits 1 with reason and fix when the verification refuses', async () => {
    const result = await run(['inspect', TOKEN], {
      env: ENV,
      verdict: { status: 'refused', reason: 'invalid_audience', httpStatus: 401, description: 'Token audience is not this API', hint: 'Request a scope of this API.' },
    });
    expect(result.code).toBe(DOCTOR_EXIT.refused);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(invalid_audience; the API answers 401\)$/m);
    expect(result.stdout).toMatch(/^ {2}fix +Request a scope of this API\.$/m);
  });

  it('exits 1 with malformed_token, fetching nothing, for input that is not a token', async () => {
    const result = await run(['inspect', 'not-a-token'], { env: ENV });
    expect(result.code).toBe(DOCTOR_EXIT.refused);
    expect(result.verified).toEqual([]);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(malformed_token/m);
    expect(result.stdout).not.toContain('Header');
  });

  it('exits 2 and names the variable when only half of the configuration is set', async () => {
    const result = await run(['inspect', TOKEN], { env: { AZURE_TENANT_ID: ENV.AZURE_TENANT_ID } });
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.verified).toEqual([]);
    expect(result.stdout).toContain('AZURE_CLIENT_ID is not set');
  });

  it('exits 2 when the module refuses the configuration', async () => {
    const result = await run(['inspect', TOKEN], { env: ENV, verdict: { status: 'misconfigured', message: 'AzureAuthModule: option "clientId" must be a GUID' } });
    expect(result.code).toBe(DOCTOR_EXIT.usage);
    expect(result.stdout).toContain('option "clientId" must be a GUID');
  });

  it('does not verify with --no-verify', async () => {
    const result = await run(['inspect', '--no-verify', TOKEN], { env: ENV });
    expect({ code: result.code, verified: result.verified }).toEqual({ code: DOCTOR_EXIT.ok, verified: [] });
    expect(result.stdout).toContain('--no-verify');
  });

  it('exits 3 when the check itself breaks', async () => {
    const result = await run(['inspect', TOKEN], { env: ENV, verdict: new Error('Cannot find package @nestjs/core') });
    expect(result.code).toBe(DOCTOR_EXIT.internal);
    expect(result.stderr).toContain('Cannot find package @nestjs/core');
  });

  it('writes JSON with --json, in any position', async () => {
    for (const argv of [['inspect', '--json', TOKEN], ['--json', 'inspect', TOKEN]]) {
      const result = await run(argv, { env: ENV });
      expect(JSON.parse(result.stdout)).toMatchObject({ exitCode: 0, verdict: { status: 'valid' }, token: { claims: { scp: 'Todolist.Read' } } });
    }
  });

  it('never prints the signature segment', async () => {
    for (const argv of [['inspect', TOKEN], ['inspect', '--json', TOKEN]]) {
      const result = await run(argv, { env: ENV });
      expect(result.stdout + result.stderr).not.toContain(SIGNATURE);
    }
  });
});
