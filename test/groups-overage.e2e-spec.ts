import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'node:https';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  AzureAuthGuard,
  AzureAuthModule,
  AzurePassportAuthGuard,
  AzurePermissionsGuard,
  AzureUser,
  Groups,
  RequireAuthContext,
  type AzureAuthModuleOptions,
  type AzureCaller,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import type { EntraEmulator, MintOptions } from 'nestjs-azure-auth/testing';
import { closeAll, downstreamOptions, RecordingLogger, startHttpsEmulator } from './support/downstream-app.js';
import { ADAPTERS, call, type Adapter } from './support/test-app.js';

const ADMINS = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';
const AUDITORS = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';

@UseGuards(AzureAuthGuard)
@Controller('api')
class StatsController {
  @Groups(ADMINS)
  @Get('stats')
  stats(@AzureUser() caller: AzurePrincipal) {
    return { oid: caller.oid, groups: caller.groups };
  }

  @Groups(ADMINS)
  @RequireAuthContext('c1')
  @Get('purge')
  purge() {
    return { purged: true };
  }

  @Get('me')
  me(@AzureUser() caller: AzurePrincipal) {
    return { groups: caller.groups };
  }
}

/** The same route behind the passport door, where AzurePermissionsGuard does the authorization. */
@UseGuards(AzurePassportAuthGuard, AzurePermissionsGuard)
@Controller('passport')
class PassportStatsController {
  @Groups(ADMINS)
  @Get('stats')
  stats(@AzureUser() caller: AzurePrincipal) {
    return { oid: caller.oid, groups: caller.groups };
  }
}

async function startStatsApp(adapter: Adapter, options: AzureAuthModuleOptions, logger: RecordingLogger): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [AzureAuthModule.forRoot(options)], controllers: [StatsController, PassportStatsController] })
  class StatsAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [StatsAppModule] }).compile();
  const app = adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger }) : moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe.each(ADAPTERS)('groups overage resolved through Microsoft Graph, over %s', (adapter) => {
  let entra: EntraEmulator;
  let agent: Agent;
  const apps: INestApplication[] = [];
  // Where an overage token says the groups are: it must never be called.
  let claimSource: Server;
  let claimSourceHits = 0;
  let claimSourceUrl: string;

  beforeAll(async () => {
    claimSource = createServer((_request, response) => {
      claimSourceHits += 1;
      response.end('{"value":[]}');
    });
    await new Promise<void>((resolve) => claimSource.listen(0, '127.0.0.1', resolve));
    claimSourceUrl = `http://127.0.0.1:${(claimSource.address() as AddressInfo).port}/users/x/getMemberObjects`;
    ({ entra, agent } = await startHttpsEmulator({
      directoryUsers: [
        { oid: ALICE, groups: [ADMINS, AUDITORS] },
        { oid: BOB, groups: [AUDITORS] },
      ],
      apiAppPermissions: ['User.ReadBasic.All', 'GroupMember.Read.All'],
    }));
  });
  afterEach(() => entra.setFault('graph', null));
  afterAll(async () => {
    await closeAll(apps, entra, agent);
    await new Promise((resolve) => claimSource?.close(resolve));
  });

  const start = async (extra: Partial<AzureAuthModuleOptions> = {}) => {
    const logger = new RecordingLogger();
    const started = await startStatsApp(adapter, downstreamOptions(entra, agent, extra), logger);
    apps.push(started.app);
    return { ...started, logger };
  };
  /** A user's token whose groups did not fit (overage), pointing at the counting server. */
  const overageToken = (oid: string, extra: MintOptions = {}) =>
    entra.mintAccessToken({
      scopes: ['Todolist.Read'],
      oid,
      ...extra,
      claims: { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: claimSourceUrl } }, ...extra.claims },
    });
  /** Calls to Graph or to the token endpoint since a point of the request log (metadata and keys left out). */
  const downstreamCalls = (since: number) => entra.requests.slice(since).filter((request) => request.kind === 'graph' || request.kind === 'signin').length;
  const graphCalls = (since: number, path: string) => entra.requests.slice(since).filter((request) => request.kind === 'graph' && request.path === path).length;

  it('asks Graph on behalf of the caller once per user within the cache time, and admits a member with its groups', async () => {
    const { url } = await start();
    const before = entra.requests.length;
    const first = await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    expect([first.status, first.body]).toEqual([200, { oid: ALICE, groups: [ADMINS, AUDITORS] }]);
    // Another token of the same user, and the passport door, are answered from the cache.
    expect((await call(`${url}/api/stats`, { token: overageToken(ALICE) })).status).toBe(200);
    const passport = await call(`${url}/passport/stats`, { token: overageToken(ALICE) });
    expect([passport.status, passport.body]).toEqual([200, { oid: ALICE, groups: [ADMINS, AUDITORS] }]);
    expect(graphCalls(before, '/v1.0/me/getMemberObjects')).toBe(1);
    expect(entra.requests.slice(before).filter((request) => request.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer').length).toBeGreaterThanOrEqual(1);
    expect(claimSourceHits).toBe(0);
  });

  it('refuses a user Graph says is not a member with 403 insufficient_permissions, and asks once for them too', async () => {
    const { url } = await start();
    const before = entra.requests.length;
    for (let round = 0; round < 2; round += 1) {
      const answer = await call(`${url}/api/stats`, { token: overageToken(BOB) });
      expect([answer.status, answer.body.reason, answer.body.required]).toEqual([403, 'insufficient_permissions', [ADMINS]]);
    }
    const unknown = await call(`${url}/api/stats`, { token: overageToken(CAROL) });
    expect([unknown.status, unknown.body.reason]).toEqual([403, 'insufficient_permissions']);
    expect(graphCalls(before, '/v1.0/me/getMemberObjects')).toBe(2);
    expect(claimSourceHits).toBe(0);
  });

  it('makes one Graph call for concurrent requests of one user', async () => {
    const { url } = await start();
    const before = entra.requests.length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(`${url}/api/stats`, { token: overageToken(ALICE) })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(graphCalls(before, '/v1.0/me/getMemberObjects')).toBe(1);
  });

  it.each([
    ['answers 503', { status: 503 }],
    ['drops the connection', { destroy: true }],
  ])('answers 503 groups_unavailable with Retry-After when Graph %s, keeps nothing, and resolves once Graph is back', async (_name, fault) => {
    const { url, logger } = await start();
    entra.setFault('graph', fault);
    const answer = await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    expect([answer.status, answer.body.reason]).toEqual([503, 'groups_unavailable']);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    // A 503 is no challenge: the token was fine.
    expect(answer.headers.get('www-authenticate')).toBeNull();
    expect(logger.lines.some((line) => /Groups of an overage token could not be looked up|Downstream API unavailable/.test(line))).toBe(true);
    entra.setFault('graph', null);
    expect((await call(`${url}/api/stats`, { token: overageToken(ALICE) })).status).toBe(200);
    expect(claimSourceHits).toBe(0);
  });

  it("passes Graph's claims challenge (continuous access evaluation) on to the caller as 401 insufficient_claims", async () => {
    const { url } = await start();
    entra.setFault('graph', { claimsChallenge: '{"access_token":{"nbf":{"essential":true,"value":"1767225600"}}}' });
    const answer = await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    expect([answer.status, answer.body.reason]).toEqual([401, 'insufficient_claims']);
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_claims"');
  });

  it('checks the authentication context after the looked-up groups: a member without it is challenged, a non-member refused', async () => {
    const { url } = await start();
    const member = await call(`${url}/api/purge`, { token: overageToken(ALICE, { clientCapabilities: ['cp1'] }) });
    expect([member.status, member.body.reason]).toEqual([401, 'insufficient_claims']);
    const steppedUp = await call(`${url}/api/purge`, { token: overageToken(ALICE, { authContexts: ['c1'] }) });
    expect(steppedUp.status).toBe(200);
    const outsider = await call(`${url}/api/purge`, { token: overageToken(BOB, { clientCapabilities: ['cp1'] }) });
    expect([outsider.status, outsider.body.reason]).toEqual([403, 'insufficient_permissions']);
  });

  it('looks up groups only on @Groups routes: elsewhere an overage caller has none and Graph is not asked', async () => {
    const { url } = await start();
    const before = entra.requests.length;
    const answer = await call(`${url}/api/me`, { token: overageToken(ALICE) });
    expect([answer.status, answer.body]).toEqual([200, { groups: [] }]);
    expect(downstreamCalls(before)).toBe(0);
  });

  it("asks Graph as the API itself with resolve: 'app' (client credentials, /users/{oid}/getMemberObjects)", async () => {
    const { url } = await start({ groupsOverage: { resolve: 'app' } });
    const before = entra.requests.length;
    const answer = await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    expect([answer.status, answer.body]).toEqual([200, { oid: ALICE, groups: [ADMINS, AUDITORS] }]);
    expect(graphCalls(before, `/v1.0/users/${ALICE}/getMemberObjects`)).toBe(1);
    expect(entra.requests.slice(before).some((request) => request.grantType === 'client_credentials')).toBe(true);
    expect(graphCalls(before, '/v1.0/me/getMemberObjects')).toBe(0);
  });

  it('answers 503 groups_unavailable and logs why when Graph refuses the API (no permission), never a 200 or a silent 403', async () => {
    const { entra: bare, agent: bareAgent } = await startHttpsEmulator({ directoryUsers: [{ oid: ALICE, groups: [ADMINS] }] });
    try {
      const logger = new RecordingLogger();
      const started = await startStatsApp(adapter, downstreamOptions(bare, bareAgent, { groupsOverage: { resolve: 'app' } }), logger);
      apps.push(started.app);
      const token = bare.mintAccessToken({ scopes: ['Todolist.Read'], oid: ALICE, groupsOverage: true });
      const answer = await call(`${started.url}/api/stats`, { token });
      expect([answer.status, answer.body.reason]).toEqual([503, 'groups_unavailable']);
      expect(logger.lines.some((line) => line.includes('Microsoft Graph answered 403 Authorization_RequestDenied'))).toBe(true);
      expect(logger.lines.some((line) => line.includes(token) || line.includes(token.split('.')[2]!))).toBe(false);
    } finally {
      await bare.stop();
      bareAgent.destroy();
    }
  });

  it('takes the groups from a resolve function instead of Graph: once per user within cacheSeconds, and 503 when it throws', async () => {
    const asked: string[] = [];
    const resolve = async (caller: AzureCaller) => {
      asked.push(caller.principal.oid);
      if (caller.principal.oid === CAROL) throw new Error('directory cache offline');
      return caller.principal.oid === ALICE ? [ADMINS.toUpperCase()] : [];
    };
    const { url, logger } = await start({ groupsOverage: { resolve } });
    const before = entra.requests.length;
    const member = await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    expect([member.status, member.body]).toEqual([200, { oid: ALICE, groups: [ADMINS] }]);
    expect((await call(`${url}/api/stats`, { token: overageToken(ALICE) })).status).toBe(200);
    expect((await call(`${url}/api/stats`, { token: overageToken(BOB) })).status).toBe(403);
    const failed = await call(`${url}/api/stats`, { token: overageToken(CAROL) });
    expect([failed.status, failed.body.reason]).toEqual([503, 'groups_unavailable']);
    expect(asked).toEqual([ALICE, BOB, CAROL]);
    expect(logger.lines.some((line) => line.includes('groupsOverage.resolve failed: Error: directory cache offline'))).toBe(true);
    expect(graphCalls(before, '/v1.0/me/getMemberObjects')).toBe(0);
  });

  it('asks again on every request with cacheSeconds: 0, and an application is looked up by a function too', async () => {
    const asked: string[] = [];
    const { url } = await start({
      groupsOverage: {
        cacheSeconds: 0,
        resolve: (caller) => {
          asked.push(caller.principal.appOnly ? 'app' : caller.principal.oid);
          return [ADMINS];
        },
      },
    });
    await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    await call(`${url}/api/stats`, { token: overageToken(ALICE) });
    const daemon = entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'], groupsOverage: true });
    expect((await call(`${url}/api/stats`, { token: daemon })).status).toBe(200);
    expect(asked).toEqual([ALICE, ALICE, 'app']);
  });

  it('refuses overage with 403 groups_overage when told not to look (groupsOverage: false), and for an application through Graph', async () => {
    const off = await start({ groupsOverage: false });
    const before = entra.requests.length;
    const refused = await call(`${off.url}/api/stats`, { token: overageToken(ALICE) });
    expect([refused.status, refused.body.reason]).toEqual([403, 'groups_overage']);
    expect(downstreamCalls(before)).toBe(0);
    const graph = await start();
    const daemon = entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'], groupsOverage: true });
    const app = await call(`${graph.url}/api/stats`, { token: daemon });
    expect([app.status, app.body.reason]).toEqual([403, 'groups_overage']);
  });
});
