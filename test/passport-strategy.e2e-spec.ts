import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AZURE_AD_STRATEGY, AzureAdStrategy, AzureAuthModule, AzureTokenVerifier, AzureUser } from 'nestjs-azure-auth';
import { EntraEmulator, decodeJwtUnverified, type MintOptions } from 'nestjs-azure-auth/testing';
import {
  HOSTILE_APP_OPTIONS,
  HOSTILE_CASES,
  createHostileContext,
  startCountingServer,
  type HostileAppName,
  type HostileContext,
  type HostileRequest,
} from './support/hostile-cases.js';
import { startAppPair, type AppPair } from './support/passport-app.js';
import { ADAPTERS, call, emulatorOptions, startApp, type HttpAnswer } from './support/test-app.js';

const now = () => Math.floor(Date.now() / 1000);

/** What a refusal tells the client: status, reason code, and the RFC 6750 `error` of the challenge (or none). */
function outcome(answer: HttpAnswer) {
  const challenge = answer.headers.get('www-authenticate');
  return {
    status: answer.status,
    reason: answer.body?.reason as string | undefined,
    challenge: challenge === null ? 'none' : (/\berror="([^"]*)"/.exec(challenge)?.[1] ?? 'no error attribute'),
  };
}

describe.each(ADAPTERS)('AzurePassportAuthGuard with AzurePermissionsGuard over %s', (adapter) => {
  let entra: EntraEmulator;
  let attacker: Awaited<ReturnType<typeof startCountingServer>>;
  let context: HostileContext;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    attacker = await startCountingServer();
    context = await createHostileContext(entra, attacker.url);
  });
  afterAll(async () => {
    await entra?.stop();
    await attacker?.close();
  });

  /** The same request to both apps, one after the other. */
  async function both(pair: AppPair, path: string, request: HostileRequest = {}) {
    const send = (url: string) => call(`${url}${path}${request.query ?? ''}`, { method: request.method, token: request.token, body: request.body });
    const guard = await send(pair.guard.url);
    const passport = await send(pair.passport.url);
    return { guard, passport };
  }

  describe('default options', () => {
    let pair: AppPair;

    beforeAll(async () => {
      pair = await startAppPair(adapter, emulatorOptions(entra));
    });
    afterAll(async () => {
      await pair?.close();
    });

    const mint = (options: MintOptions) => entra.mintAccessToken(options);

    it.each<[string, MintOptions]>([
      ['a v2 user token', { scopes: ['Todolist.Read'], roles: ['TaskAdmin'] }],
      ['a v1 user token', { version: 1, scopes: ['Todolist.Read', 'Todolist.ReadWrite'] }],
      ['a v2 app-only token', { kind: 'app', roles: ['Todolist.Read.All'], includeIdtyp: true }],
      ['a v1 guest token', { version: 1, kind: 'guest', scopes: ['Todolist.Read'] }],
    ])('admits %s with the same caller as AzureAuthGuard', async (_name, options) => {
      const token = mint(options);
      const claims = decodeJwtUnverified(token).payload;

      const caller = await both(pair, '/api/caller', { token });
      expect([caller.guard.status, caller.passport.status]).toEqual([200, 200]);
      expect(caller.passport.body).toMatchObject({
        oid: claims.oid,
        tid: entra.tenantId,
        scopes: typeof claims.scp === 'string' ? claims.scp.split(' ') : [],
        tokenVersion: claims.ver,
        claims,
      });
      expect(caller.passport.body).toEqual(caller.guard.body);

      const me = await both(pair, '/api/me', { token });
      expect([me.guard.status, me.passport.status]).toEqual([200, 200]);
      expect(me.passport.body).toEqual(me.guard.body);
    });

    it('answers a repeated token from the cache with the same caller', async () => {
      const token = mint({ version: 1, scopes: ['Todolist.Read'], roles: ['TaskAdmin'] });
      const cache = pair.passport.app.get(AzureTokenVerifier).cache;
      expect(cache.get(token)).toBeUndefined();

      const first = await call(`${pair.passport.url}/api/caller`, { token });
      expect(first.status).toBe(200);
      // The verifier admitted it and left an entry that holds no caller yet ...
      expect(cache.get(token)).toBeDefined();
      expect(cache.get(token)?.principal).toBeUndefined();
      const second = await call(`${pair.passport.url}/api/caller`, { token });
      // ... which only the strategy's cache lookup fills in.
      expect(cache.get(token)?.principal).toBeDefined();
      const third = await call(`${pair.passport.url}/api/caller`, { token });
      expect([second.status, third.status]).toEqual([200, 200]);
      expect(second.body).toEqual(first.body);
      expect(third.body).toEqual(first.body);
    });

    it('answers a new token within authenticate itself when its keys are in memory: no key provider, no second decode', async () => {
      const strategy = pair.passport.app.get(AzureAdStrategy);
      // Keys and metadata are loaded by a first request.
      expect((await call(`${pair.passport.url}/api/caller`, { token: mint({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
      const token = mint({ scopes: ['Todolist.Read'], oid: 'b1c2d3e4-0000-4000-8000-00000000000a' });
      const answers: string[] = [];
      // passport calls a strategy as an object derived from it, with these actions attached.
      const attempt = Object.assign(Object.create(strategy) as AzureAdStrategy, {
        success: (user: { oid: string }) => answers.push(`success ${user.oid}`),
        fail: (info: unknown) => answers.push(`fail ${String(info)}`),
        error: (error: unknown) => answers.push(`error ${String(error)}`),
      });
      attempt.authenticate({ headers: { authorization: `Bearer ${token}` } } as never);
      // Answered before authenticate returned: passport-jwt's asynchronous key provider was never asked.
      expect(answers).toEqual(['success b1c2d3e4-0000-4000-8000-00000000000a']);
      expect(pair.passport.app.get(AzureTokenVerifier).cache.get(token)).toBeDefined();

      // A refusal is a passport failure with the verifier's error, at once as well.
      answers.length = 0;
      attempt.authenticate({ headers: { authorization: `Bearer ${mint({ scopes: ['Todolist.Read'], audience: 'api://another-api' })}` } } as never);
      expect(answers).toHaveLength(1);
      expect(answers[0]).toMatch(/^fail /);

      // No token at all: passport-jwt's own refusal (no auth token).
      answers.length = 0;
      attempt.authenticate({ headers: {} } as never);
      expect(answers).toEqual(['fail Error: No auth token']);
    });

    it('gives each of many concurrent callers its own principal', async () => {
      const oids = Array.from({ length: 24 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
      // Half of them with a token that is refused after the signature, interleaved with the others.
      const answers = await Promise.all(
        oids.map((oid, index) => call(`${pair.passport.url}/api/caller`, { token: mint({ oid, scopes: ['Todolist.Read'], ...(index % 2 ? { audience: 'api://another-api' } : {}) }) })),
      );
      answers.forEach((answer, index) => {
        if (index % 2) expect(outcome(answer)).toEqual({ status: 401, reason: 'invalid_audience', challenge: 'invalid_token' });
        else expect([answer.status, (answer.body as { oid: string }).oid]).toEqual([200, oids[index]]);
      });
    });

    it.each<[string, 'GET' | 'POST', string, MintOptions, string]>([
      ['a user token without the scope a POST needs', 'POST', '/api/todolist', { scopes: ['Todolist.Read'] }, 'Todolist.ReadWrite'],
      ['a user token without the app role', 'GET', '/api/admin', { scopes: ['Todolist.Read'], roles: ['Reader'] }, 'TaskAdmin'],
      ['an app-only token without the app permission', 'POST', '/api/todolist', { kind: 'app', roles: ['Todolist.Read.All'] }, 'Todolist.ReadWrite.All'],
      ['a user token on a daemon-only route', 'GET', '/api/daemon-only', { scopes: ['Todolist.Read', 'Todolist.ReadWrite'] }, 'Todolist.Read.All'],
    ])('refuses %s with 403 insufficient_scope, as AzureAuthGuard does', async (_name, method, path, options, scope) => {
      const { guard, passport } = await both(pair, path, { method, token: mint(options) });
      expect(outcome(passport)).toEqual({ status: 403, reason: 'insufficient_permissions', challenge: 'insufficient_scope' });
      expect(passport.headers.get('www-authenticate')).toBe(
        `Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="${passport.body.message}", scope="${scope}"`,
      );
      expect(passport.headers.get('www-authenticate')).toBe(guard.headers.get('www-authenticate'));
      expect(passport.body).toEqual(guard.body);
    });

    it.each<[string, 'GET' | 'POST', string, MintOptions]>([
      ['a user token with the scope', 'POST', '/api/todolist', { scopes: ['Todolist.ReadWrite'] }],
      ['a user token with the app role', 'GET', '/api/admin', { scopes: ['Todolist.Read'], roles: ['TaskAdmin'] }],
      ['an app-only token with the app permission', 'GET', '/api/daemon-only', { kind: 'app', roles: ['Todolist.Read.All'] }],
    ])('lets in %s', async (_name, method, path, options) => {
      const { guard, passport } = await both(pair, path, { method, token: mint(options) });
      expect([guard.status, passport.status]).toEqual([method === 'POST' ? 201 : 200, method === 'POST' ? 201 : 200]);
      expect(passport.body).toEqual(guard.body);
    });

    it('lets @Public() routes pass AzurePermissionsGuard whatever the caller may do', async () => {
      // No scp and no roles: refused on every route that is not public.
      const token = mint({});
      const me = await both(pair, '/api/me', { token });
      expect(outcome(me.passport)).toEqual({ status: 403, reason: 'no_permissions', challenge: 'insufficient_scope' });
      expect(outcome(me.passport)).toEqual(outcome(me.guard));
      const open = await both(pair, '/api/open', { token });
      expect([open.guard.status, open.passport.status]).toEqual([200, 200]);
      expect(open.passport.body).toEqual({ open: true });
    });

    it.each<[string, () => string | undefined, string]>([
      ['an expired token', () => mint({ scopes: ['Todolist.Read'], issuedAt: now() - 4000, expiresInSeconds: 3600 }), 'token_expired'],
      ['a token for another audience', () => mint({ scopes: ['Todolist.Read'], audience: 'api://some-other-api' }), 'invalid_audience'],
      ['a v1 token for another audience', () => mint({ version: 1, scopes: ['Todolist.Read'], audience: 'api://some-other-api' }), 'invalid_audience'],
      [
        'a forged signature under the published kid',
        () => mint({ scopes: ['Todolist.Read'], privateKey: entra.createUnpublishedKey().privateKey, kid: entra.signingKid }),
        'invalid_signature',
      ],
      ['a request without a token', () => undefined, 'token_missing'],
    ])('refuses %s with 401 and its reason', async (_name, token, reason) => {
      const { guard, passport } = await both(pair, '/api/me', { token: token() });
      expect(outcome(passport)).toEqual({ status: 401, reason, challenge: reason === 'token_missing' ? 'no error attribute' : 'invalid_token' });
      expect(outcome(passport)).toEqual(outcome(guard));
      // The two requests may straddle a second, so "expired N seconds ago" is compared without N.
      const challenge = (response: { headers: Headers }) =>
        response.headers.get('www-authenticate')?.replace(/expired \d+ seconds ago/, 'expired N seconds ago');
      if (reason === 'token_expired') expect(passport.headers.get('www-authenticate')).toMatch(/Token expired 4\d\d seconds ago/);
      expect(challenge(passport)).toBe(challenge(guard));
    });
  });

  describe.each(Object.keys(HOSTILE_APP_OPTIONS) as HostileAppName[])('the hostile table, %s app', (name) => {
    let pair: AppPair;

    beforeAll(async () => {
      pair = await startAppPair(adapter, emulatorOptions(entra, HOSTILE_APP_OPTIONS[name]));
    });
    afterAll(async () => {
      await pair?.close();
    });

    const cases = HOSTILE_CASES.filter((hostile) => (hostile.app ?? 'default') === name);
    it.each(cases.map((hostile) => [hostile.name, hostile] as const))('%s', async (_name, hostile) => {
      const built = hostile.build(context);
      const request: HostileRequest = typeof built === 'string' ? { token: built } : built;
      const { guard, passport } = await both(pair, request.path ?? '/api/me', request);

      expect([guard.status, passport.status]).not.toContain(500);
      // The reference answers as the hostile suite says, so agreeing with it is agreeing on the right answer.
      expect(guard.status).toBe(hostile.status);
      // Same reason too: the strategy refuses with the verifier's own errors.
      expect(outcome(passport)).toEqual(outcome(guard));
      const secret = request.secret ?? request.token ?? '';
      for (const segment of secret.split('.').filter((part) => part.length >= 12)) {
        expect(passport.headers.get('www-authenticate') ?? '').not.toContain(segment);
        expect(JSON.stringify(passport.body)).not.toContain(segment);
      }
      expect(attacker.hits()).toBe(0);
    });
  });
});

/** Nest's own `AuthGuard('azure-ad')`: answers are Nest's bare 401, but a refusal is never a server error. */
@UseGuards(AuthGuard(AZURE_AD_STRATEGY))
@Controller('api')
class PlainAuthGuardController {
  @Get('me')
  me(@AzureUser('oid') oid: string) {
    return { oid };
  }
}

describe.each(ADAPTERS)("plain AuthGuard('azure-ad') over %s", (adapter) => {
  let entra: EntraEmulator;
  let started: { app: INestApplication; url: string };

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    started = await startApp(adapter, { imports: [AzureAuthModule.forRoot(emulatorOptions(entra))], controllers: [PlainAuthGuardController] });
  });
  afterAll(async () => {
    await started?.app.close();
    await entra?.stop();
  });

  it('admits a valid token', async () => {
    const answer = await call(`${started.url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], oid: 'b1c2d3e4-0000-4000-8000-000000000001' }) });
    expect([answer.status, answer.body]).toEqual([200, { oid: 'b1c2d3e4-0000-4000-8000-000000000001' }]);
  });

  it.each<[string, () => string]>([
    // Refused after the signature check.
    ['a token for another audience', () => entra.mintAccessToken({ scopes: ['Todolist.Read'], audience: 'api://some-other-api' })],
    ['a token with aud as a number', () => entra.mintAccessToken({ scopes: ['Todolist.Read'], claims: { aud: 42 } })],
    // Refused before it.
    ['an expired token', () => entra.mintAccessToken({ scopes: ['Todolist.Read'], issuedAt: Math.floor(Date.now() / 1000) - 4000, expiresInSeconds: 3600 })],
  ])('answers %s with 401, not 500', async (_name, token) => {
    const answer = await call(`${started.url}/api/me`, { token: token() });
    expect(answer.status).toBe(401);
  });
});
