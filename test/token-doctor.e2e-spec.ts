import { join } from 'node:path';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { buildLibrary, cleanEnv, LIB_DIR, runProcess, type ProcessResult } from './support/packaging/build-library.js';

const DOCTOR = join(LIB_DIR, 'dist', 'esm', 'cli', 'main.js');
const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const GRAPH = '00000003-0000-0000-c000-000000000000';

const signatureOf = (token: string) => token.slice(token.lastIndexOf('.') + 1);

describe('token doctor: nestjs-azure-auth inspect', () => {
  let entra: EntraEmulator;
  /** Every token handed to the doctor, to check that none of their signatures was ever printed. */
  const inspected: string[] = [];
  const outputs: string[] = [];

  beforeAll(async () => {
    await buildLibrary();
    entra = await EntraEmulator.start();
  }, 240_000);
  afterAll(async () => {
    await entra?.stop();
  });

  const emulatorEnv = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({ AZURE_TENANT_ID: entra.tenantId, AZURE_CLIENT_ID: entra.clientId, AZURE_AUTHORITY_HOST: entra.authorityHost, ...extra });

  async function doctor(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; token?: string } = {}): Promise<ProcessResult> {
    if (options.token) inspected.push(options.token);
    const result = await runProcess(process.execPath, [DOCTOR, ...args], { env: options.env ?? emulatorEnv(), input: options.input });
    outputs.push(result.stdout + result.stderr);
    return result;
  }

  const inspect = (token: string, env?: NodeJS.ProcessEnv) => doctor(['inspect', token], { env, token });

  it('shows a valid token as a table and says VALID, exit 0', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read', 'Todolist.ReadWrite'], roles: ['TaskAdmin'], expiresInSeconds: 3000 });
    const result = await inspect(token);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^Header\n {2}typ +JWT\n {2}alg +RS256\n {2}kid +\S+$/m);
    expect(out).toMatch(/^ {2}exp +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z {2}\(in (49|50) min\)$/m);
    expect(out).toMatch(/^ {2}iat +\d{4}-\d\d-\d\dT[\d:.]+Z {2}\((now|\d+ s ago)\)$/m);
    expect(out).toMatch(/^ {2}scp +Todolist\.Read\n {2} +Todolist\.ReadWrite$/m);
    expect(out).toMatch(/^ {2}lifetime +(49|50) min left of 50 min$/m);
    expect(out).toMatch(/^Verdict: VALID$/m);
    expect(out).toMatch(/^ {2}caller +emulated\.user@contoso\.example \(Emulated User\)$/m);
    expect(out).toMatch(new RegExp(`^ {2}tenant +${entra.tenantId}$`, 'm'));
  });

  it('refuses an expired token with token_expired and the fix, exit 1', async () => {
    const result = await inspect(entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -600 }));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}exp +\S+ {2}\(expired 10 min ago\)$/m);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(token_expired; the API answers 401\)$/m);
    expect(result.stdout).toMatch(/^ {2}fix +Acquire a new token/m);
  });

  it('refuses a Microsoft Graph token with graph_token, exit 1', async () => {
    const result = await inspect(entra.mintAccessToken({ scopes: ['User.Read'], audience: GRAPH, header: { nonce: 'graph-nonce' } }));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}note +issued for Microsoft Graph/m);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(graph_token;/m);
    expect(result.stdout).toMatch(/^ {2}fix +.*Request this API's own scope/m);
  });

  it("refuses another API's token with invalid_audience", async () => {
    const result = await inspect(entra.mintAccessToken({ scopes: ['Files.Read'], audience: 'api://another-api' }));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(invalid_audience;/m);
    expect(result.stdout).toContain(`audiences accepted: ${entra.clientId}, api://${entra.clientId}`);
  });

  it('applies the caller policies of the guard: a token without scp or roles is refused with no_permissions (403)', async () => {
    const result = await inspect(entra.mintAccessToken({ kind: 'app' }));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(no_permissions; the API answers 403\)$/m);
  });

  it('reads the token from stdin, a pasted "Bearer " included', async () => {
    const token = entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'], version: 1 });
    inspected.push(token);
    for (const args of [['inspect'], ['inspect', '-']]) {
      const result = await doctor(args, { input: `Bearer ${token}\n` });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ {2}kind +app-only/m);
      expect(result.stdout).toMatch(/^ {2}caller +application /m);
      expect(result.stdout).toMatch(/^Verdict: VALID$/m);
    }
  });

  it('uses AZURE_ALLOWED_TENANTS for a multi-tenant API', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const allowed = await inspect(token, emulatorEnv({ AZURE_TENANT_ID: 'organizations', AZURE_ALLOWED_TENANTS: `${OTHER_TENANT},${entra.tenantId}` }));
    expect(allowed.code).toBe(0);
    const notAllowed = await inspect(token, emulatorEnv({ AZURE_TENANT_ID: 'organizations', AZURE_ALLOWED_TENANTS: OTHER_TENANT }));
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stdout).toMatch(/^Verdict: REFUSED \(tenant_not_allowed;/m);
  });

  it('exits 2 with the usage when there is no token', async () => {
    for (const args of [['inspect'], []]) {
      const result = await doctor(args, { input: '' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Usage: nestjs-azure-auth inspect');
      expect(result.stdout).toBe('');
    }
  });

  it('exits 2 on an unknown command', async () => {
    const result = await doctor(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('exits 2 when the configuration is wrong, naming the option', async () => {
    const result = await inspect(entra.mintAccessToken({ scopes: ['Todolist.Read'] }), emulatorEnv({ AZURE_CLIENT_ID: 'not-a-guid' }));
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/option "clientId" must be the application \(client\) id GUID/);
  });

  it('refuses garbage with malformed_token, exit 1, without fetching anything', async () => {
    entra.resetRequests();
    const result = await doctor(['inspect', 'this-is.not-a.token!']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Verdict: REFUSED \(malformed_token;/m);
    expect(entra.requestCount()).toBe(0);
  });

  it('decodes only, exit 0, and fetches nothing without the environment', async () => {
    entra.resetRequests();
    const result = await inspect(entra.mintAccessToken({ scopes: ['Todolist.Read'] }), cleanEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Verification skipped\n {2}Set AZURE_TENANT_ID and AZURE_CLIENT_ID/m);
    expect(result.stdout).not.toContain('Verdict');
    expect(entra.requestCount()).toBe(0);
  });

  it('writes parseable JSON with --json', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const result = await doctor(['inspect', '--json', token], { token });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      exitCode: 0,
      token: { header: { alg: 'RS256', kid: entra.signingKid }, scopes: ['Todolist.Read'], summary: { kind: 'delegated', tenantId: entra.tenantId, version: '2.0' } },
      verdict: { status: 'valid', principal: { tid: entra.tenantId, clientId: entra.clientAppId, scopes: ['Todolist.Read'] } },
    });
    const expired = entra.mintAccessToken({ scopes: ['x'], expiresInSeconds: -900 });
    const refused = JSON.parse((await doctor(['inspect', expired, '--json'], { token: expired })).stdout);
    expect(refused).toMatchObject({ exitCode: 1, verdict: { status: 'refused', reason: 'token_expired', httpStatus: 401 } });
  });

  it('fetched only metadata and keys: the token never reached the emulator', async () => {
    entra.resetRequests();
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await inspect(token)).code).toBe(0);
    const kinds = entra.requests.map((request) => request.kind);
    expect(kinds).toContain('keys');
    expect(kinds.every((kind) => kind === 'metadata' || kind === 'keys')).toBe(true);
    for (const request of entra.requests) {
      for (const segment of token.split('.')) expect(request.path).not.toContain(segment.slice(0, 16));
    }
  });

  it('never printed a signature segment', () => {
    expect(inspected.length).toBeGreaterThan(8);
    const everything = outputs.join('\n');
    for (const token of inspected) expect(everything).not.toContain(signatureOf(token));
  });
});
