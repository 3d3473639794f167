import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ENTRA_EMULATOR_DEFAULTS, type EntraEmulator } from 'nestjs-azure-auth/testing';
import { OTHER_API_ID, RecordingLogger, closeAll, downstreamOptions, startDownstreamApp, startHttpsEmulator } from './support/downstream-app.js';
import { ADAPTERS, call, type Adapter } from './support/test-app.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SECOND_USER = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const GROUP = '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a';

describe.each(ADAPTERS)('downstream calls over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  let agent: Agent;
  let app: INestApplication;
  let url: string;
  const logger = new RecordingLogger();

  const oboRequests = () => entra.requests.filter((request) => request.grantType === JWT_BEARER).length;
  const userToken = (oid?: string, extra: Parameters<EntraEmulator['mintAccessToken']>[0] = {}) =>
    entra.mintAccessToken({ scopes: ['Todolist.Read'], ...(oid ? { oid } : {}), ...extra });

  beforeAll(async () => {
    ({ entra, agent } = await startHttpsEmulator({
      directoryUsers: [
        { oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.example', mail: 'ada@contoso.example', groups: [GROUP] },
        { oid: SECOND_USER, displayName: 'Alan Turing', userPrincipalName: 'alan@contoso.example' },
      ],
      apiAppPermissions: ['User.Read.All'],
    }));
    ({ app, url } = await startDownstreamApp(adapter, downstreamOptions(entra, agent, { httpTimeoutMs: 1000 }), logger));
  });

  afterAll(async () => {
    await app?.close();
    await entra?.stop();
    agent?.destroy();
  });

  afterEach(() => {
    entra.setFault('token', null);
    entra.setFault('graph', null);
  });

  it("calls Microsoft Graph /v1.0/me on the caller's behalf, at the host the metadata names", async () => {
    entra.resetRequests();
    const answer = await call(`${url}/api/profile`, { token: userToken() });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 200, displayName: 'Ada Lovelace', mail: 'ada@contoso.example', userPrincipalName: 'ada@contoso.example', id: ENTRA_EMULATOR_DEFAULTS.userObjectId });
    expect(oboRequests()).toBe(1);
    expect(entra.requests.filter((request) => request.kind === 'graph').map((request) => request.path)).toEqual(['/v1.0/me']);
  });

  it('caches the token: a second call with the same token makes no token-endpoint request', async () => {
    const token = userToken();
    await call(`${url}/api/obo-token`, { token });
    entra.resetRequests();
    const first = await call(`${url}/api/obo-token`, { token });
    const second = await call(`${url}/api/obo-token`, { token });
    expect(second.status).toBe(200);
    expect(second.body.claims.uti).toBe(first.body.claims.uti);
    expect(entra.requests.filter((request) => request.kind === 'signin')).toEqual([]);
  });

  it('concurrent requests for the same token and scopes make one token request', async () => {
    const token = userToken();
    entra.resetRequests();
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(`${url}/api/obo-token`, { token })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((answer) => answer.body.claims.uti)).size).toBe(1);
    expect(oboRequests()).toBe(1);
  });

  it("two users calling concurrently never get each other's token", async () => {
    const ada = userToken();
    const alan = userToken(SECOND_USER);
    entra.resetRequests();
    const answers = await Promise.all([ada, alan, ada, alan, ada, alan].map(async (token) => ({ token, answer: await call(`${url}/api/profile`, { token }) })));
    for (const { token, answer } of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.id).toBe(token === ada ? ENTRA_EMULATOR_DEFAULTS.userObjectId : SECOND_USER);
      expect(answer.body.displayName).toBe(token === ada ? 'Ada Lovelace' : 'Alan Turing');
    }
    expect(oboRequests()).toBe(2);
  });

  it('a new token of the same user gets a partition of its own, and a token of its own', async () => {
    const first = await call(`${url}/api/obo-token`, { token: userToken() });
    entra.resetRequests();
    const second = await call(`${url}/api/obo-token`, { token: userToken() });
    expect(second.body.claims.oid).toBe(first.body.claims.oid);
    expect(second.body.claims.uti).not.toBe(first.body.claims.uti);
    expect(oboRequests()).toBe(1);
  });

  it('gets a Graph token for the user (v1, Graph audience, the scopes asked, the API as client), which never shows in JSON or inspect', async () => {
    const answer = await call(`${url}/api/obo-token`, { token: userToken() });
    expect(answer.body.claims).toMatchObject({ oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, tid: entra.tenantId, aud: '00000003-0000-0000-c000-000000000000', scp: 'User.Read', appid: entra.clientId });
    expect(answer.body.serialized).not.toMatch(/eyJ/);
    expect(answer.body.inspected).not.toMatch(/eyJ/);
    expect(answer.body.serialized).toContain('User.Read');
  });

  it('gets a token for another API of the tenant, by its App ID URI', async () => {
    const answer = await call(`${url}/api/other-api-token`, { token: userToken() });
    expect(answer.status).toBe(200);
    expect(answer.body.claims).toMatchObject({ aud: OTHER_API_ID, scp: 'Reports.Read', oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, appid: entra.clientId });
  });

  it('gets an app-only token of the API itself (client credentials, in the caller\'s tenant), cached', async () => {
    entra.resetRequests();
    const first = await call(`${url}/api/app-token`, { token: userToken() });
    const second = await call(`${url}/api/app-token`, { token: userToken(SECOND_USER) });
    expect(first.status).toBe(200);
    expect(first.body.claims).toMatchObject({ aud: OTHER_API_ID, roles: ['User.Read.All'], appid: entra.clientId, tid: entra.tenantId });
    expect(first.body.claims.scp).toBeUndefined();
    expect(second.body.claims.uti).toBe(first.body.claims.uti);
    expect(entra.requests.filter((request) => request.grantType === 'client_credentials')).toHaveLength(1);
  });

  it("calls Graph as the API (asApp) for another user's memberships, and on the user's behalf for their own", async () => {
    const asApp = await call(`${url}/api/member-objects`, { method: 'POST', token: userToken(SECOND_USER), body: { userId: ENTRA_EMULATOR_DEFAULTS.userObjectId } });
    expect(asApp.status).toBe(201);
    expect(asApp.body).toMatchObject({ status: 200, body: { value: [GROUP] } });
    const own = await call(`${url}/api/groups`, { token: userToken() });
    expect(own.body).toMatchObject({ status: 200, body: { value: [{ '@odata.type': '#microsoft.graph.group', id: GROUP }] } });
  });

  it('an app-only caller asking for an on-behalf-of token gets 403 user_token_required, and Entra is not asked', async () => {
    entra.resetRequests();
    const answer = await call(`${url}/api/profile`, { token: entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }) });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ reason: 'user_token_required', statusCode: 403 });
    expect(answer.body.hint).toMatch(/user/);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api:\/\/[^"]+", error="insufficient_scope"/);
    expect(entra.requests.filter((request) => request.kind === 'signin')).toEqual([]);
  });

  it('Conditional Access asking for more (interaction_required with claims): 401 insufficient_claims with the same claims', async () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["5e1c7a2b-3d4f-4a6b-8c9d-0e1f2a3b4c5d"]}}}';
    entra.setFault('token', { claimsChallenge: claims });
    const answer = await call(`${url}/api/profile`, { token: userToken() });
    expect(answer.status).toBe(401);
    const encoded = Buffer.from(claims).toString('base64');
    expect(answer.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="[^"]+", error="insufficient_claims", error_description="[^"]+", claims="${encoded.replace(/[+/=]/g, '\\$&')}"$`));
    expect(answer.body).toMatchObject({ reason: 'insufficient_claims', claims: encoded });
    expect(Buffer.from(answer.body.claims, 'base64').toString('utf8')).toBe(claims);
  });

  it("a continuous access evaluation challenge from Graph (401 insufficient_claims) reaches the caller with the claims intact, and the caller's cached tokens are dropped", async () => {
    const token = userToken();
    await call(`${url}/api/profile`, { token });
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1767225600"}}}';
    entra.setFault('graph', { claimsChallenge: claims });
    const answer = await call(`${url}/api/profile`, { token });
    expect(answer.status).toBe(401);
    const graphSent = Buffer.from(claims).toString('base64');
    expect(answer.headers.get('www-authenticate')).toContain(`error="insufficient_claims"`);
    expect(answer.headers.get('www-authenticate')).toContain(`claims="${graphSent}"`);
    expect(answer.body).toMatchObject({ reason: 'insufficient_claims', claims: graphSent });
    entra.setFault('graph', null);
    entra.resetRequests();
    expect((await call(`${url}/api/profile`, { token })).status).toBe(200);
    expect(oboRequests()).toBe(1);
  });

  it('consent missing (AADSTS65001): 403 consent_required naming the downstream scope', async () => {
    entra.setFault('token', { consentRequired: true });
    const answer = await call(`${url}/api/profile`, { token: userToken() });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ reason: 'consent_required', required: ['User.Read'] });
    expect(answer.body.hint).toContain('User.Read');
    expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", error_description="[^"]+", scope="User.Read"$/);
  });

  it.each([
    ['answers 503', { status: 503 }],
    ['resets the connection', { destroy: true }],
    ['is slower than httpTimeoutMs', { delayMs: 5000 }],
  ])('token endpoint %s: 503 token_endpoint_unavailable with Retry-After, and the next call succeeds once it is back', async (_case, fault) => {
    const token = userToken();
    entra.setFault('token', fault);
    const answer = await call(`${url}/api/profile`, { token });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ reason: 'token_endpoint_unavailable' });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    entra.setFault('token', null);
    expect((await call(`${url}/api/profile`, { token })).status).toBe(200);
  });

  it("Graph unreachable in time: 503 downstream_unavailable; Graph's own errors come back to the handler as they are", async () => {
    entra.setFault('graph', { delayMs: 5000 });
    const slow = await call(`${url}/api/profile`, { token: userToken() });
    expect(slow.status).toBe(503);
    expect(slow.body).toMatchObject({ reason: 'downstream_unavailable' });
    expect(Number(slow.headers.get('retry-after'))).toBeGreaterThan(0);
    entra.setFault('graph', { status: 500 });
    const failing = await call(`${url}/api/profile`, { token: userToken() });
    expect(failing.body).toMatchObject({ status: 500 });
  });

  it('never logs a token, a downstream token or the secret', async () => {
    const text = logger.lines.join('\n');
    // What an operator needs is there: the refusals and the outage, by reason.
    expect(text).toContain('user_token_required');
    expect(text).toContain('token_endpoint_unavailable');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    expect(text).not.toContain(entra.clientSecret);
  });
});

describe.each(ADAPTERS)('downstream credentials and token lifetime over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  let agent: Agent;
  const apps: INestApplication[] = [];
  let directory: string;

  async function appWith(extra: Parameters<typeof downstreamOptions>[2], logger?: RecordingLogger, on: EntraEmulator = entra) {
    const started = await startDownstreamApp(adapter, downstreamOptions(on, agent, extra), logger);
    apps.push(started.app);
    return started.url;
  }

  beforeAll(async () => {
    ({ entra, agent } = await startHttpsEmulator());
    directory = await mkdtemp(join(tmpdir(), 'downstream-'));
  });

  afterAll(() => closeAll(apps, entra, agent, directory));

  it('a certificate credential (private key and certificate) works against the emulator', async () => {
    const { privateKey, certificate } = await entra.createClientCertificate();
    const url = await appWith({ clientCredential: { certificate: { privateKey, certificate } } });
    const answer = await call(`${url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(ENTRA_EMULATOR_DEFAULTS.userObjectId);
  });

  it('a certificate credential given as one PEM file (key and certificate) and its SHA-256 thumbprint works too', async () => {
    const { privateKey, certificate, thumbprintSha256 } = await entra.createClientCertificate();
    const url = await appWith({ clientCredential: { certificate: { privateKey: `${certificate}${privateKey}`, thumbprintSha256 } } });
    expect((await call(`${url}/api/obo-token`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
  });

  it('a client assertion callback reading a federated token file (workload identity) works, read again for each token request', async () => {
    const file = join(directory, 'azure-identity-token');
    await writeFile(file, entra.mintFederatedToken());
    let reads = 0;
    const url = await appWith({
      clientCredential: {
        clientAssertion: async () => {
          reads++;
          return (await readFile(file, 'utf8')).trim();
        },
      },
    });
    expect((await call(`${url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
    expect((await call(`${url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
    expect(reads).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['a wrong client secret', () => ({ clientSecret: 'not-the-secret-of-this-api' }), 'AADSTS7000215'],
    ['a federated token of another subject', () => ({ clientAssertion: () => entra.mintFederatedToken({ subject: 'system:serviceaccount:other:intruder' }) }), 'AADSTS70021'],
  ])('%s: 503 downstream_token_refused, the AADSTS code in the log, the credential nowhere', async (_case, credential, code) => {
    const logger = new RecordingLogger();
    const url = await appWith({ clientCredential: credential() }, logger);
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const answer = await call(`${url}/api/profile`, { token });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ reason: 'downstream_token_refused' });
    expect(answer.headers.get('retry-after')).toBeNull();
    const text = logger.lines.join('\n');
    expect(text).toContain(code);
    expect(text).not.toContain('not-the-secret-of-this-api');
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });

  it('a certificate the API registration does not hold is refused (AADSTS700027)', async () => {
    const other = await startHttpsEmulator();
    try {
      const { privateKey, certificate } = await other.entra.createClientCertificate();
      const logger = new RecordingLogger();
      const url = await appWith({ clientCredential: { certificate: { privateKey, certificate } } }, logger);
      const answer = await call(`${url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
      expect(answer.body).toMatchObject({ reason: 'downstream_token_refused' });
      expect(logger.lines.join('\n')).toContain('AADSTS700027');
    } finally {
      await other.entra.stop();
      other.agent.destroy();
    }
  });

  it('expiry refreshes: a downstream token within MSAL\'s five-minute renewal window is fetched again', async () => {
    const shortLived = await startHttpsEmulator({ tokenLifetimeSeconds: 240 });
    try {
      const started = await startDownstreamApp(adapter, downstreamOptions(shortLived.entra, shortLived.agent));
      apps.push(started.app);
      const token = shortLived.entra.mintAccessToken({ scopes: ['Todolist.Read'] });
      const first = await call(`${started.url}/api/obo-token`, { token });
      const second = await call(`${started.url}/api/obo-token`, { token });
      expect(second.status).toBe(200);
      expect(second.body.claims.uti).not.toBe(first.body.claims.uti);
      expect(shortLived.entra.requests.filter((request) => request.grantType === JWT_BEARER)).toHaveLength(2);
    } finally {
      await shortLived.entra.stop();
      shortLived.agent.destroy();
    }
  });

  it('works behind the passport door too (AzurePassportAuthGuard): profile for a user, 403 for an app', async () => {
    const started = await startDownstreamApp(adapter, downstreamOptions(entra, agent), undefined, 'passport');
    apps.push(started.app);
    const user = await call(`${started.url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
    expect(user.body).toMatchObject({ status: 200, id: ENTRA_EMULATOR_DEFAULTS.userObjectId });
    const daemon = await call(`${started.url}/api/profile`, { token: entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }) });
    expect(daemon.body).toMatchObject({ reason: 'user_token_required' });
  });

  it('the cache is bounded: beyond downstreamTokenCache.maxPartitions the least recent caller is forgotten', async () => {
    const url = await appWith({ downstreamTokenCache: { maxPartitions: 1 } });
    const first = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const second = entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d' });
    entra.resetRequests();
    for (const token of [first, first, second, first]) expect((await call(`${url}/api/obo-token`, { token })).status).toBe(200);
    // first (asked), first (cached), second (asked, first evicted), first (asked again)
    expect(entra.requests.filter((request) => request.grantType === JWT_BEARER)).toHaveLength(3);
  });

  it('the emulator is trusted only where its certificate authority is given: without it the module cannot reach it (503)', async () => {
    const started = await startDownstreamApp(adapter, { ...downstreamOptions(entra, agent), httpAgent: undefined });
    apps.push(started.app);
    const answer = await call(`${started.url}/api/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ reason: 'keys_unavailable' });
  });
});

describe('NODE_EXTRA_CA_CERTS', () => {
  it("is all another process needs to trust the emulator's HTTPS; without it the certificate is refused", async () => {
    const { entra, agent } = await startHttpsEmulator();
    const directory = await mkdtemp(join(tmpdir(), 'extra-ca-'));
    try {
      const caFile = join(directory, 'emulator-ca.pem');
      await writeFile(caFile, entra.certificateAuthority!);
      const script = `require('node:https').get(process.argv[1], (r) => { console.log(r.statusCode); r.resume(); }).on('error', (e) => { console.log(e.code); });`;
      const run = (env: NodeJS.ProcessEnv) =>
        new Promise<string>((resolve, reject) =>
          execFile(process.execPath, ['-e', script, entra.v2MetadataUrl()], { env: { PATH: process.env.PATH, ...env } }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))),
        );
      expect(await run({ NODE_EXTRA_CA_CERTS: caFile })).toBe('200');
      expect(await run({})).toMatch(/CERT|SELF_SIGNED|UNABLE/);
    } finally {
      await entra.stop();
      agent.destroy();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
