import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ENTRA_EMULATOR_DEFAULTS, decodeJwtUnverified } from 'nestjs-azure-auth/testing';
import {
  BUILD_TIMEOUT_MS,
  addressBeyondLoopback,
  ensureSampleAppBuilt,
  runSampleAppToExit,
  startSampleApp,
  stopAllSampleApps,
  type SampleApp,
} from './support/sample-app-process.js';

const REPO_ROOT = join(import.meta.dirname, '..');

/** One block of the dev-mode output: the heading's promise and the command that should keep it. */
interface PrintedCall {
  caller: string;
  description: string;
  method: string;
  path: string;
  expectedStatus: number;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
}

const HEADING = /^# ([\w-]+) \((.+)\): ([A-Z]+) (\/\S*) -> (\d{3})$/;

/** Splits a command line as a POSIX shell would, for the quoting a pasted command uses: '…', "…" and backslashes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === ' ' || char === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line.slice(0, 80)}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (char === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated " in: ${line.slice(0, 80)}`);
      const inner = line.slice(i + 1, end);
      if (/[$`\\]/.test(inner)) throw new Error(`the shell would expand ${inner}`);
      word = (word ?? '') + inner;
      i = end;
    } else if (char === '\\') {
      word = (word ?? '') + line[++i];
    } else {
      // A character the shell would treat specially means the printed command is not paste-safe.
      if (/[$`;&|<>(){}*?[\]!]/.test(char) || (word === undefined && /[#~]/.test(char))) {
        throw new Error(`unquoted shell metacharacter ${char} in: ${line.slice(0, 80)}`);
      }
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Reads a curl command the way curl would, for the options dev mode uses; anything else is an error. */
function parseCurl(line: string): PrintedCall['request'] {
  const [command, ...args] = shellWords(line);
  if (command !== 'curl') throw new Error(`not a curl command: ${line.slice(0, 80)}`);
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-i' || arg === '--include') continue;
    if (arg === '-X' || arg === '--request') method = args[++i];
    else if (arg === '-H' || arg === '--header') {
      const header = args[++i];
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (arg === '-d' || arg === '--data' || arg === '--data-raw') body = args[++i];
    else if (arg.startsWith('-')) throw new Error(`unexpected curl option ${arg}`);
    else if (url === undefined) url = arg;
    else throw new Error(`two URLs in one command: ${url} and ${arg}`);
  }
  if (url === undefined) throw new Error('curl command without a URL');
  // curl sends -d as a form unless told otherwise; dev mode must say JSON itself.
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return { method: method ?? (body === undefined ? 'GET' : 'POST'), url, headers, body };
}

function parseDevOutput(output: string): PrintedCall[] {
  const lines = output.split(/\r?\n/);
  const calls: PrintedCall[] = [];
  lines.forEach((line, index) => {
    const heading = HEADING.exec(line);
    if (!heading) return;
    const command = lines[index + 1] ?? '';
    if (!command.startsWith('curl ')) throw new Error(`heading without a curl command below it: ${line}`);
    const [, caller, description, method, path, status] = heading;
    calls.push({ caller, description, method, path, expectedStatus: Number(status), request: parseCurl(command) });
  });
  return calls;
}

const bearerOf = (call: PrintedCall) => decodeJwtUnverified(call.request.headers.authorization.replace(/^Bearer /, ''));

describe('dev mode (neither AZURE_TENANT_ID nor AZURE_CLIENT_ID set)', () => {
  let app: SampleApp;
  let calls: PrintedCall[];

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    app = await startSampleApp({ PORT: '0' });
    calls = parseDevOutput(app.output());
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
  });

  it('binds to loopback by default', () => {
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('prints a reader, a writer, a daemon, an admin and refused callers, each with a comment line then a curl line', () => {
    expect(calls.map((call) => `${call.caller} ${call.method} ${call.path} ${call.expectedStatus}`)).toEqual([
      'writer POST /api/todolist 201',
      'reader GET /api/todolist 200',
      'daemon GET /api/todolist 200',
      'admin GET /api/admin 200',
      'reader POST /api/todolist 403',
      'writer DELETE /api/todolist/00000000-0000-4000-8000-000000000000 401',
      'stepped DELETE /api/todolist/3f4e5d6c-7b8a-4996-8877-665544332211 204',
      'member GET /api/todolist/stats 200',
      'overage GET /api/todolist/stats 200',
      'outsider GET /api/todolist/stats 403',
      'graph GET /api/me 401',
      'profile GET /api/me/profile 200',
    ]);
    for (const call of calls) {
      expect({ method: call.request.method, url: call.request.url }).toEqual({ method: call.method, url: `${app.url}${call.path}` });
      expect(call.request.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    }
  });

  it('gives each caller the token its comment describes', () => {
    const claims = (caller: string, index = 0) => bearerOf(calls.filter((call) => call.caller === caller)[index]).payload;
    expect(claims('reader')).toMatchObject({ scp: 'Todolist.Read' });
    expect(claims('writer')).toMatchObject({ scp: 'Todolist.ReadWrite' });
    expect(claims('daemon')).toMatchObject({ roles: ['Todolist.Read.All'] });
    expect(claims('daemon')).not.toHaveProperty('scp');
    expect(claims('daemon').oid).toBe(claims('daemon').sub);
    expect(claims('admin')).toMatchObject({ scp: 'Todolist.Read', roles: ['TaskAdmin'] });
    expect(claims('graph')).toMatchObject({ aud: '00000003-0000-0000-c000-000000000000', scp: 'User.Read' });
    expect(claims('stepped')).toMatchObject({ acrs: ['c1'], xms_cc: ['cp1'] });
    expect(claims('member')).toMatchObject({ groups: ['5e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b'] });
    expect(claims('overage')).toMatchObject({ _claim_names: { groups: 'src1' } });
    expect(claims('overage')).not.toHaveProperty('groups');
  });

  it('states until when the printed tokens are valid, truthfully', () => {
    const until = /valid until (\S+Z)/.exec(app.output());
    expect(until).not.toBeNull();
    const expiry = Date.parse(until![1]) / 1000;
    for (const call of calls) expect(bearerOf(call).payload.exp).toBe(expiry);
  });

  it('gets the printed status for every printed command, run by HTTP in the printed order', async () => {
    const answers: { caller: string; status: number; body: unknown }[] = [];
    for (const call of calls) {
      const { method, url, headers, body } = call.request;
      const response = await fetch(url, { method, headers, body });
      const text = await response.text();
      answers.push({ caller: call.caller, status: response.status, body: text.startsWith('[') || text.startsWith('{') ? JSON.parse(text) : text });
      const challenge = response.headers.get('www-authenticate');
      if (call.method === 'DELETE' && response.status === 401) expect(challenge).toMatch(/^Bearer realm="[^"]+", authorization_uri="[^"]+", error="insufficient_claims", error_description="[^"]+", claims="[^"]+"$/);
      else if (response.status === 401) expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
      else if (call.caller === 'outsider') expect(challenge).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", error_description="[^"]+"$/);
      else if (response.status === 403) expect(challenge).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", .*scope="Todolist\.ReadWrite"$/);
      else expect(challenge).toBeNull();
    }
    expect(answers.map(({ caller, status }) => ({ caller, status }))).toEqual(calls.map(({ caller, expectedStatus }) => ({ caller, status: expectedStatus })));

    // The story the comments tell: the writer's item is seen by the same user reading, and by the daemon.
    const [written, read, daemon] = answers;
    expect(written.body).toMatchObject({ description: 'Try nestjs-azure-auth' });
    expect(read.body).toEqual([written.body]);
    expect(daemon.body).toEqual(expect.arrayContaining([written.body]));
    expect(answers[5].body).toMatchObject({ reason: 'insufficient_claims', authContexts: ['c1'] });
    // The members see items per owner: the writer's item is counted (the stepped-up user's is gone).
    const counts = { tenantId: expect.any(String), owners: [{ owner: bearerOf(calls[0]).payload.oid, items: 1 }] };
    expect([answers[7].body, answers[8].body]).toEqual([counts, counts]);
    expect(answers[9].body).toMatchObject({ reason: 'insufficient_permissions', required: ['5e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b'] });
    expect(answers[10].body).toMatchObject({ reason: 'graph_token' });
    // Run twice, the stepped-up delete finds nothing left to delete.
    const again = calls[6].request;
    expect((await fetch(again.url, { method: again.method, headers: again.headers })).status).toBe(404);
  });

  it('prints a socket.io client that, pasted into a shell, receives the item the writer adds', async () => {
    const lines = app.output().split(/\r?\n/);
    const heading = lines.findIndex((line) => line.startsWith('# live ('));
    expect(heading).toBeGreaterThan(-1);
    const command = lines[heading + 1];
    expect(command).toMatch(/^node --input-type=module -e '/);
    // `exec`: the shell becomes the client, so stopping it stops the client.
    const client = spawn('sh', ['-c', `exec ${command}`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    const printedSoFar = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (pattern.test(printed) ? resolve() : undefined);
        client.stdout.on('data', (chunk: Buffer) => ((printed += chunk.toString()), check()));
        client.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        client.once('exit', (code) => reject(new Error(`the client exited (${code}): ${printed}`)));
        check();
      });
    try {
      await printedSoFar(/subscribed: \d+ items so far/);
      const writer = calls.find((call) => call.caller === 'writer')!;
      const { method, url, headers } = writer.request;
      const written = await fetch(url, { method, headers, body: JSON.stringify({ description: 'Watched live' }) });
      expect(written.status).toBe(201);
      await printedSoFar(/todoAdded[\s\S]*Watched live/);
    } finally {
      client.kill();
    }
  }, 30_000);

  it('shuts down cleanly on SIGTERM, emulator included', async () => {
    const exit = await app.stop();
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
  });
});

describe('dev mode is refused', () => {
  beforeAll(() => ensureSampleAppBuilt(), BUILD_TIMEOUT_MS);
  afterAll(() => stopAllSampleApps());

  it('when NODE_ENV is production', async () => {
    const exit = await runSampleAppToExit({ NODE_ENV: 'production', PORT: '0' });
    expect(exit.code).toBe(1);
    expect(exit.output).toMatch(/AZURE_TENANT_ID and AZURE_CLIENT_ID are not set and NODE_ENV is production/);
    expect(exit.output).not.toMatch(/Bearer/);
  });

  it('when only AZURE_AUTHORITY_HOST is set, instead of quietly trusting the emulator', async () => {
    const exit = await runSampleAppToExit({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us', PORT: '0' });
    expect(exit.code).toBe(1);
    expect(exit.output).toMatch(/AZURE_AUTHORITY_HOST is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not/);
  });
});

/** What a process that printed tokens leaves in its output, and what a refused one must not. */
const TOKEN = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}|Bearer /;
const OPT_IN = 'DEV_MODE_ALLOW_NETWORK';

describe('dev mode on a HOST beyond loopback', () => {
  beforeAll(() => ensureSampleAppBuilt(), BUILD_TIMEOUT_MS);
  afterAll(() => stopAllSampleApps());

  it.each(['0.0.0.0', '::'])(`is refused for HOST=%s without ${OPT_IN}=1: exit 1, the variable named, no token printed`, async (host) => {
    const exit = await runSampleAppToExit({ HOST: host, PORT: '0' });
    expect(exit.code).toBe(1);
    expect(exit.output).toContain(`Not starting: HOST=${host} is not a loopback interface`);
    expect(exit.output).toContain(`set ${OPT_IN}=1 to listen there anyway`);
    expect(exit.output).not.toMatch(TOKEN);
    expect(exit.output).not.toMatch(/Listening on/);
  });

  it(`is refused when ${OPT_IN} is anything but 1, rather than read as yes or no`, async () => {
    const exit = await runSampleAppToExit({ HOST: '0.0.0.0', [OPT_IN]: 'true', PORT: '0' });
    expect(exit.code).toBe(1);
    expect(exit.output).toMatch(new RegExp(`${OPT_IN} must be 1 \\(or unset\\), got "true"`));
    expect(exit.output).not.toMatch(TOKEN);
  });
});

describe('dev mode with HOST=localhost', () => {
  let app: SampleApp;
  const beyondLoopback = addressBeyondLoopback();

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    app = await startSampleApp({ HOST: 'localhost', PORT: '0' });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
  });

  it('logs the address the name really bound, which answers, and prints its commands for it', async () => {
    expect(app.url).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const commands = parseDevOutput(app.output());
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command.request.url.startsWith(`${app.url}/`)).toBe(true);
    if (beyondLoopback !== undefined) {
      await expect(fetch(`http://${beyondLoopback}:${new URL(app.url).port}/health`)).rejects.toThrow();
    }
  });
});

describe.each(['express', 'fastify'])(`dev mode on %s with ${OPT_IN}=1 and HOST=0.0.0.0`, (adapter) => {
  let app: SampleApp;
  const beyondLoopback = addressBeyondLoopback();
  const itBeyondLoopback = beyondLoopback === undefined ? it.skip : it;

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    app = await startSampleApp({ HOST: '0.0.0.0', [OPT_IN]: '1', HTTP_ADAPTER: adapter, PORT: '0' });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await app?.stop();
    await stopAllSampleApps();
  });

  const port = () => new URL(app.url).port;
  const fromNetwork = (path: string) => fetch(`http://${beyondLoopback}:${port()}${path}`);

  itBeyondLoopback('starts, logs the address it really listens on (reached from beyond loopback), and prints commands for this machine', async () => {
    expect(app.url).toBe(`http://0.0.0.0:${port()}`);
    expect(app.output()).toContain(`Listening on http://0.0.0.0:${port()} (every IPv4 interface; from this machine: http://127.0.0.1:${port()})`);
    expect(app.output()).toMatch(new RegExp(`WARN .*Dev mode listens beyond loopback \\(${OPT_IN}=1\\)`));
    expect((await fromNetwork('/health')).status).toBe(200);
    const commands = parseDevOutput(app.output());
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command.request.url.startsWith(`http://127.0.0.1:${port()}/`)).toBe(true);
  });

  itBeyondLoopback("serves Swagger UI and /docs-json, with the emulator's sign-in, to this machine only", async () => {
    const local = await fetch(`http://127.0.0.1:${port()}/docs-json`);
    expect(local.status).toBe(200);
    const document = (await local.json()) as { components: { securitySchemes: Record<string, { flows: { authorizationCode: { authorizationUrl: string } } }> } };
    expect(document.components.securitySchemes['azure-ad'].flows.authorizationCode.authorizationUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${ENTRA_EMULATOR_DEFAULTS.tenantId}/oauth2/v2\\.0/authorize$`),
    );

    // Every spelling a router would still take for the document, Swagger UI or its init script.
    for (const path of [
      '/docs-json',
      '/docs-yaml',
      '/docs',
      '/docs/',
      '/docs/swagger-ui-init.js',
      '/docs/oauth2-redirect.html',
      '/docs/swagger-ui-bundle.js',
      '/DOCS-JSON',
      '//docs-json',
      '/%64ocs-json',
      '/docs-json?x=1',
    ]) {
      const answer = await fromNetwork(path);
      const body = await answer.text();
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(body).not.toContain(ENTRA_EMULATOR_DEFAULTS.tenantId);
      expect(body).not.toContain(ENTRA_EMULATOR_DEFAULTS.clientAppId);
    }
    // The API itself answers the network as it does this machine.
    expect((await fromNetwork('/api/me')).status).toBe(401);
  });
});
