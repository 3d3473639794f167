import { createServer } from 'node:http';
import { Controller, Get, Module, UseGuards, type INestApplication, type LoggerService, type ModuleMetadata, type NestApplicationOptions } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  AzureAuthException,
  AzureAuthGuard,
  AzureAuthModule,
  AzureTokenVerifier,
  AzureUser,
  Scopes,
  type AzureAuthModuleOptions,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import { EntraEmulator, type EmulatorKeyPair, type MintOptions } from 'nestjs-azure-auth/testing';
import { ADAPTERS, ProbeController, call, emulatorOptions, type Adapter, type HttpAnswer } from './support/test-app.js';
import { b64url, parts, withPayload } from './support/jwt-craft.js';
import { KeySource } from '../libs/azure-auth/src/keys/key-source.js';

// The verify path after its allocation work: the cache keeps no claims (the caller is rebuilt from
// the token on its first hit), decoding reuses one module-level buffer and remembers the last header,
// the issuer's tenant is memoized, and the guard answers synchronously when it can. Each of these
// keeps state across requests; these tests send requests in orders where stale state would show.

const TENANT_A = '3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const TENANT_B = '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a';
const OTHER_CLIENT_APP = '5f0e1d2c-3b4a-4596-8877-665544332211';
const SCOPES = ['Todolist.Read'];
/** A display name whose UTF-8 spans two, three and four bytes per character. */
const UNICODE_NAME = 'Zoë Ñuñez 日本 🙂';
const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';

/** Raised so that the ~40 KB token fits and the ~70 KB one is refused by the module, not by HTTP. */
const MAX_TOKEN_BYTES = 64 * 1024;
/** Node refuses request headers above 16 KiB (431) unless the server says otherwise. */
const MAX_HEADER_BYTES = 256 * 1024;

/** The whole caller, claims included, as the handler receives it. */
@UseGuards(AzureAuthGuard)
@Controller('verify')
class CallerController {
  @Get('me')
  me(@AzureUser() user: AzurePrincipal) {
    return user;
  }
}

/**
 * Express with a header limit large enough for the large-token tests. None of the options the base
 * method reads (https, return503OnClosing, forceCloseConnections) is used here.
 */
class LargeHeaderExpressAdapter extends ExpressAdapter {
  override initHttpServer(_options: NestApplicationOptions): void {
    this.setHttpServer(createServer({ maxHeaderSize: MAX_HEADER_BYTES }, this.getInstance()));
  }
}

/** The probe routes (`/api/...`) and the whole-caller route (`/verify/me`) on one app. */
async function startVerifyApp(adapter: Adapter, options: AzureAuthModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const metadata: ModuleMetadata = { imports: [AzureAuthModule.forRoot(options)], controllers: [ProbeController, CallerController] };
  @Module(metadata)
  class VerifyPathAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [VerifyPathAppModule] }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ http: { maxHeaderSize: MAX_HEADER_BYTES } }), { logger: false })
      : moduleRef.createNestApplication(new LargeHeaderExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

type Expected = { status: 200 } | { status: 401 | 403; reason: string };

function outcome(answer: HttpAnswer): Expected {
  return answer.status === 200 ? { status: 200 } : { status: answer.status as 401 | 403, reason: answer.body?.reason };
}

/** The answer, and for a refusal the RFC 6750 challenge that must come with it. */
function expectAnswer(answer: HttpAnswer, expected: Expected): void {
  expect(outcome(answer)).toEqual(expected);
  const challenge = answer.headers.get('www-authenticate');
  if (expected.status === 401) {
    expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/);
  } else if (expected.status === 403) {
    expect(challenge).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", error_description="[^"]+"/);
  }
}

const OK: Expected = { status: 200 };
const invalid = (reason: string): Expected => ({ status: 401, reason });
const forbidden = (reason: string): Expected => ({ status: 403, reason });

/** A token with its header replaced and its payload and signature kept. */
function withHeader(token: string, change: (header: Record<string, unknown>) => Record<string, unknown> | string): string {
  const { header, segments } = parts(token);
  return `${b64url(change(header))}.${segments[1]}.${segments[2]}`;
}

describe.each(ADAPTERS)('verify path over %s', (adapter) => {
  let entra: EntraEmulator;
  let secondKey: EmulatorKeyPair;
  const apps: INestApplication[] = [];
  let single = '';
  let lenientFirst = '';
  let strictFirst = '';
  let multiTenant = '';
  let bothTenants = '';
  let singleVerifier: AzureTokenVerifier;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    // Published before any app fetches keys, so the second kid is known from the first key set on.
    secondKey = entra.addKey();
    const start = async (options: AzureAuthModuleOptions) => {
      const started = await startVerifyApp(adapter, options);
      apps.push(started.app);
      return started;
    };
    const authority = (tenantId: string, extra: Partial<AzureAuthModuleOptions> = {}) => ({
      tenantId,
      clientId: entra.clientId,
      authorityHost: entra.authorityHost,
      ...extra,
    });
    // Tenant B refuses guests and every client but the emulator's default one; tenant A does not.
    const strict = authority(TENANT_B, { allowGuestUsers: false, allowedClientApps: [entra.clientAppId] });
    const started = await Promise.all([
      start(emulatorOptions(entra, { maxTokenBytes: MAX_TOKEN_BYTES })),
      start({ warmUp: false, authorities: [authority(TENANT_A), strict] }),
      start({ warmUp: false, authorities: [strict, authority(TENANT_A)] }),
      start(emulatorOptions(entra, { tenantId: 'organizations', allowedTenants: [TENANT_A] })),
      start(emulatorOptions(entra, { tenantId: 'organizations', allowedTenants: [TENANT_A, TENANT_B], acceptedTokenVersions: ['1.0', '2.0'] })),
    ]);
    [single, lenientFirst, strictFirst, multiTenant, bothTenants] = started.map(({ url }) => url);
    singleVerifier = started[0].app.get(AzureTokenVerifier);
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await entra?.stop();
  });

  const get = (base: string, path: string, token: string) => call(`${base}${path}`, { token });
  const me = (base: string, token: string) => get(base, '/api/me', token);

  describe('a cached caller is the caller first verified', () => {
    it.each([1, 2] as const)('v%i: cold, first hit and later hits give identical bodies, claims included', async (version) => {
      const token = entra.mintAccessToken({
        version,
        scopes: ['Todolist.Read', 'Todolist.ReadWrite'],
        roles: ['TaskAdmin', 'Auditor'],
        claims: { name: UNICODE_NAME, wids: [GLOBAL_ADMIN_ROLE], xms_cc: ['cp1'], acrs: ['c1'] },
      });
      const sizeBefore = singleVerifier.cache.size;
      const cold = await get(single, '/verify/me', token);
      expect(cold.status).toBe(200);
      // The token went into the cache: what follows is answered from it.
      expect(singleVerifier.cache.size).toBe(sizeBefore + 1);
      const firstHit = await get(single, '/verify/me', token);
      const laterHit = await get(single, '/verify/me', token);
      expect(singleVerifier.cache.size).toBe(sizeBefore + 1);

      expect(firstHit.body).toEqual(cold.body);
      expect(laterHit.body).toEqual(cold.body);
      // And the body is the token's: every claim, the non-ASCII name byte for byte.
      expect(cold.body.claims).toEqual(parts(token).payload);
      expect(cold.body).toMatchObject({
        name: UNICODE_NAME,
        roles: ['TaskAdmin', 'Auditor'],
        scopes: ['Todolist.Read', 'Todolist.ReadWrite'],
        tokenVersion: `${version}.0`,
        clientId: entra.clientAppId,
        tid: entra.tenantId,
      });
      expect(cold.body.claims).toMatchObject({ wids: [GLOBAL_ADMIN_ROLE], xms_cc: ['cp1'] });

      // The probe's /api/me (the caller without its claims) agrees the same way.
      const probeBodies = [await me(single, token), await me(single, token)].map((answer) => answer.body);
      expect(probeBodies[0]).toEqual(probeBodies[1]);
      expect(probeBodies[0]).toEqual({ ...cold.body, claims: undefined, oidField: cold.body.oid });
    });
  });

  describe('the shared verdict of one tenant and version never answers for another', () => {
    it('tokens of two tenants and two versions, new and then from the cache, each keep their own tid and version', async () => {
      const kinds = [
        { tenantId: TENANT_A, version: 2 },
        { tenantId: TENANT_B, version: 2 },
        { tenantId: TENANT_B, version: 1 },
        { tenantId: TENANT_A, version: 1 },
        { tenantId: TENANT_A, version: 2 },
      ] as const;
      // New tokens of alternating kinds, then all of them again (first hits build the caller from
      // the verdict kept with the token), then once more (later hits).
      const tokens = kinds.map((kind) => ({ ...kind, token: entra.mintAccessToken({ ...kind, scopes: SCOPES }) }));
      for (const pass of ['new', 'first hit', 'later hit']) {
        for (const { tenantId, version, token } of tokens) {
          const answer = await get(bothTenants, '/verify/me', token);
          expect({ pass, status: answer.status, tid: answer.body?.tid, tokenVersion: answer.body?.tokenVersion }).toEqual({
            pass,
            status: 200,
            tid: tenantId,
            tokenVersion: `${version}.0`,
          });
        }
      }
    });
  });

  describe('several authorities: a cache hit keeps its authority’s settings', () => {
    // Tenant B refuses guests and other client apps, tenant A admits them: the answer depends only on
    // the token's authority, never on which one is listed first nor on whether the cache answered.
    const cases: Array<[string, MintOptions, Expected]> = [
      ['a guest of B', { tenantId: TENANT_B, kind: 'guest', scopes: SCOPES }, forbidden('guest_not_allowed')],
      ['a guest of A', { tenantId: TENANT_A, kind: 'guest', scopes: SCOPES }, OK],
      ['another client app in B', { tenantId: TENANT_B, clientAppId: OTHER_CLIENT_APP, scopes: SCOPES }, forbidden('client_not_allowed')],
      ['another client app in A (v1)', { tenantId: TENANT_A, clientAppId: OTHER_CLIENT_APP, scopes: SCOPES, version: 1 }, OK],
      ['a member of B with the allowed client (v1)', { tenantId: TENANT_B, scopes: SCOPES, version: 1 }, OK],
    ];

    it.each(cases)('%s: the same answer cold and from the cache, whichever authority is listed first', async (_name, mint, expected) => {
      const token = entra.mintAccessToken(mint);
      for (const url of [lenientFirst, strictFirst]) {
        for (let attempt = 0; attempt < 3; attempt++) expectAnswer(await me(url, token), expected);
      }
    });

    it('keeps each caller’s authority when tokens of both alternate from the cache', async () => {
      const guestOfA = entra.mintAccessToken({ tenantId: TENANT_A, kind: 'guest', scopes: SCOPES });
      const guestOfB = entra.mintAccessToken({ tenantId: TENANT_B, kind: 'guest', scopes: SCOPES });
      for (let round = 0; round < 3; round++) {
        expectAnswer(await me(lenientFirst, guestOfB), forbidden('guest_not_allowed'));
        expectAnswer(await me(lenientFirst, guestOfA), OK);
        expectAnswer(await me(strictFirst, guestOfA), OK);
        expectAnswer(await me(strictFirst, guestOfB), forbidden('guest_not_allowed'));
      }
    });
  });

  describe('large tokens, with maxTokenBytes raised', () => {
    it('accepts a ~40 KB token twice, then still verifies normal ones, and refuses one above the limit by its size', async () => {
      const big = entra.mintAccessToken({ scopes: SCOPES, claims: { name: UNICODE_NAME, xms_blob: 'é'.repeat(14_500) } });
      expect(big.length).toBeGreaterThan(38_000);
      expect(big.length).toBeLessThan(MAX_TOKEN_BYTES);
      const first = await get(single, '/verify/me', big);
      expect(first.status).toBe(200);
      expect(first.body.claims).toEqual(parts(big).payload);
      const again = await get(single, '/verify/me', big);
      expect(again.body).toEqual(first.body);

      // A second large one, not cached: decoded and its signature checked in the grown buffer.
      const big2 = entra.mintAccessToken({ scopes: SCOPES, version: 1, claims: { xms_blob: 'x'.repeat(29_000) } });
      expect((await get(single, '/verify/me', big2)).body.claims).toEqual(parts(big2).payload);
      expectAnswer(await me(single, withPayload(big2, (payload) => ({ ...payload, scp: 'Todolist.ReadWrite' }))), invalid('invalid_signature'));

      const small = entra.mintAccessToken({ scopes: SCOPES, claims: { name: UNICODE_NAME } });
      const smallAnswer = await get(single, '/verify/me', small);
      expect(smallAnswer.status).toBe(200);
      expect(smallAnswer.body.claims).toEqual(parts(small).payload);
      expectAnswer(await me(single, withPayload(small, (payload) => ({ ...payload, oid: OTHER_CLIENT_APP }))), invalid('invalid_signature'));

      const tooLarge = entra.mintAccessToken({ scopes: SCOPES, claims: { xms_blob: 'x'.repeat(52_000) } });
      expect(tooLarge.length).toBeGreaterThan(MAX_TOKEN_BYTES);
      const refused = await me(single, tooLarge);
      expectAnswer(refused, invalid('token_too_large'));
      expect(refused.headers.get('www-authenticate')).toContain(`${MAX_TOKEN_BYTES} bytes`);

      // The large caller is still served from the cache after all that.
      expect((await get(single, '/verify/me', big)).body).toEqual(first.body);
    });
  });

  describe('the remembered header never answers for another token', () => {
    type Case = { name: string; token: () => string; expected: Expected };
    let cases: Record<'kid1' | 'kid2' | 'v1' | 'none' | 'hs256' | 'rs512' | 'unknownKid' | 'nearKid' | 'graph' | 'duplicateAlg' | 'crit', Case>;

    beforeAll(() => {
      const valid = () => entra.mintAccessToken({ scopes: SCOPES });
      const unpublished = entra.createUnpublishedKey();
      const nearKid = (kid: string) => `${kid.slice(0, -1)}${kid.endsWith('A') ? 'B' : 'A'}`;
      cases = {
        kid1: { name: 'signing key', token: valid, expected: OK },
        kid2: { name: 'second key', token: () => entra.mintAccessToken({ scopes: SCOPES, privateKey: secondKey.privateKey }), expected: OK },
        v1: { name: 'v1 header (x5t)', token: () => entra.mintAccessToken({ scopes: SCOPES, version: 1 }), expected: OK },
        none: { name: 'alg none', token: () => withHeader(valid(), (header) => ({ ...header, alg: 'none' })), expected: invalid('unsupported_algorithm') },
        // Same length as the valid header segment: only its bytes tell them apart.
        hs256: { name: 'alg HS256', token: () => withHeader(valid(), (header) => ({ ...header, alg: 'HS256' })), expected: invalid('unsupported_algorithm') },
        rs512: { name: 'alg RS512', token: () => withHeader(valid(), (header) => ({ ...header, alg: 'RS512' })), expected: invalid('unsupported_algorithm') },
        unknownKid: {
          name: 'unpublished kid',
          token: () => entra.mintAccessToken({ scopes: SCOPES, privateKey: unpublished.privateKey }),
          expected: invalid('signing_key_not_found'),
        },
        nearKid: {
          name: 'kid one character off',
          token: () => withHeader(valid(), (header) => ({ ...header, kid: nearKid(String(header.kid)) })),
          expected: invalid('signing_key_not_found'),
        },
        graph: { name: 'nonce (Graph)', token: () => withHeader(valid(), (header) => ({ ...header, nonce: 'abc' })), expected: invalid('graph_token') },
        duplicateAlg: {
          name: 'alg named twice',
          token: () => withHeader(valid(), (header) => `{"typ":"JWT","alg":"none","alg":"RS256","kid":${JSON.stringify(header.kid)}}`),
          expected: invalid('malformed_token'),
        },
        crit: { name: 'crit', token: () => withHeader(valid(), (header) => ({ ...header, crit: ['exp'] })), expected: invalid('malformed_token') },
      };
    });

    it('the two kids make two headers', () => {
      const first = parts(cases.kid1.token()).segments[0];
      const second = parts(cases.kid2.token()).segments[0];
      expect(parts(cases.kid2.token()).header.kid).toBe(secondKey.kid);
      expect(second).not.toBe(first);
      // The same-length forgeries really are the same length, so a memo keyed on less than the bytes would mix them up.
      expect(parts(cases.hs256.token()).segments[0]).toHaveLength(first.length);
      expect(parts(cases.nearKid.token()).segments[0]).toHaveLength(first.length);
    });

    it.each([
      ['forward', ['kid1', 'none', 'kid2', 'unknownKid', 'kid1', 'hs256', 'kid1', 'graph', 'v1', 'duplicateAlg', 'kid2', 'nearKid', 'kid1', 'crit', 'kid2', 'rs512', 'v1', 'kid1']],
      ['backward', ['rs512', 'kid2', 'crit', 'kid1', 'nearKid', 'kid2', 'duplicateAlg', 'v1', 'graph', 'kid1', 'hs256', 'kid1', 'unknownKid', 'kid2', 'none', 'kid1', 'v1']],
    ] as const)('alternating new tokens (%s): each answer is the one it gets alone', async (_order, sequence) => {
      for (const name of sequence) {
        const answer = await me(single, cases[name].token());
        expect({ case: cases[name].name, ...outcome(answer) }).toEqual({ case: cases[name].name, ...cases[name].expected });
        expectAnswer(answer, cases[name].expected);
      }
    });

    it('repeated tokens (valid ones then from the cache) keep their answers between hostile ones', async () => {
      const tokens = Object.fromEntries(Object.entries(cases).map(([name, item]) => [name, item.token()])) as Record<keyof typeof cases, string>;
      for (let round = 0; round < 2; round++) {
        for (const name of ['kid1', 'none', 'kid2', 'graph', 'v1', 'hs256', 'kid1', 'nearKid', 'kid2'] as const) {
          expectAnswer(await me(single, tokens[name]), cases[name].expected);
        }
      }
    });

    it('the same header bytes over a tampered payload, or under another token’s signature, fail the signature check', async () => {
      const token = entra.mintAccessToken({ scopes: SCOPES });
      expectAnswer(await me(single, token), OK);
      const tampered = withPayload(token, (payload) => ({ ...payload, scp: 'Todolist.ReadWrite' }));
      expect(tampered.split('.')[0]).toBe(token.split('.')[0]);
      expectAnswer(await me(single, tampered), invalid('invalid_signature'));
      // Right after a cache hit of the original, and right after a fresh token of the same header.
      expectAnswer(await me(single, token), OK);
      expectAnswer(await me(single, tampered), invalid('invalid_signature'));
      expectAnswer(await me(single, entra.mintAccessToken({ scopes: SCOPES })), OK);
      const other = entra.mintAccessToken({ scopes: SCOPES });
      const borrowed = `${token.slice(0, token.lastIndexOf('.'))}.${other.split('.')[2]}`;
      expectAnswer(await me(single, borrowed), invalid('invalid_signature'));
      // And for the second kid: its own header, a tampered payload.
      const second = entra.mintAccessToken({ scopes: SCOPES, privateKey: secondKey.privateKey });
      expectAnswer(await me(single, second), OK);
      expectAnswer(await me(single, withPayload(second, (payload) => ({ ...payload, roles: ['TaskAdmin'] }))), invalid('invalid_signature'));
      expectAnswer(await me(single, second), OK);
    });
  });

  describe('the remembered issuer never answers for another tenant', () => {
    const allowed = (version: 1 | 2 = 2) => entra.mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, version });
    const other = (version: 1 | 2 = 2) => entra.mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, version });

    it('allowed tenant 200, the other 401 tenant_not_allowed, in any order, new or repeated', async () => {
      const a = allowed();
      const b = other();
      const a1 = allowed(1);
      const b1 = other(1);
      const sequence: Array<[string, Expected]> = [
        [a, OK], [b, invalid('tenant_not_allowed')], [a, OK], [a, OK], [b, invalid('tenant_not_allowed')], [b, invalid('tenant_not_allowed')],
        [allowed(), OK], [other(), invalid('tenant_not_allowed')], [b1, invalid('tenant_not_allowed')], [a1, OK], [b, invalid('tenant_not_allowed')],
        [a1, OK], [b1, invalid('tenant_not_allowed')], [other(1), invalid('tenant_not_allowed')], [allowed(1), OK], [a, OK],
      ];
      for (const [token, expected] of sequence) expectAnswer(await me(multiTenant, token), expected);
    });

    it("an issuer of one tenant never vouches for the other's tid, right after a token of either", async () => {
      const issOfAtidOfB = entra.mintAccessToken({ tenantId: TENANT_A, scopes: SCOPES, claims: { tid: TENANT_B } });
      const issOfBtidOfA = entra.mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, claims: { tid: TENANT_A } });
      const v1IssOfBtidOfA = entra.mintAccessToken({ tenantId: TENANT_B, scopes: SCOPES, claims: { tid: TENANT_A }, version: 1 });
      for (const [before, forged] of [
        [allowed(), issOfBtidOfA],
        [other(), issOfBtidOfA],
        [allowed(1), v1IssOfBtidOfA],
        [other(1), v1IssOfBtidOfA],
        [allowed(), issOfAtidOfB],
        [other(), issOfAtidOfB],
      ] as const) {
        await me(multiTenant, before);
        expectAnswer(await me(multiTenant, forged), invalid('invalid_issuer'));
      }
      expectAnswer(await me(multiTenant, allowed()), OK);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The guard's answer types: `true` itself when nothing had to be awaited, a promise otherwise, and
// a refusal always as a rejected promise.

const silent: LoggerService = { log() {}, error() {}, warn() {} };

class GuardedRoutes {
  @Scopes('Todolist.Read')
  read() {}
}

describe('AzureAuthGuard answer types', () => {
  let entra: EntraEmulator;
  const modules: TestingModule[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    await Promise.all(modules.map((moduleRef) => moduleRef.close()));
    await entra?.stop();
  });

  async function guardWith(extra: Partial<AzureAuthModuleOptions>) {
    const moduleRef = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot(emulatorOptions(entra, extra))] })
      .setLogger(silent)
      .compile();
    modules.push(moduleRef);
    // Initialising runs onModuleInit, which is where warm-up starts.
    await moduleRef.init();
    return { guard: moduleRef.get(AzureAuthGuard), verifier: moduleRef.get(AzureTokenVerifier), keySource: moduleRef.get(KeySource) };
  }

  function context(token?: string) {
    const request: { headers: Record<string, string>; user?: unknown } = { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } };
    const response = { headers: {} as Record<string, string>, headersSent: false, setHeader: (name: string, value: string) => void (response.headers[name] = value) };
    return { request, context: new ExecutionContextHost([request, response, () => undefined], GuardedRoutes, GuardedRoutes.prototype.read) };
  }

  /** Calls the guard, asserting it did not throw synchronously. */
  function activate(guard: AzureAuthGuard, token?: string): { answer: boolean | Promise<boolean>; request: { user?: unknown } } {
    const { request, context: ctx } = context(token);
    let answer: boolean | Promise<boolean> = false;
    expect(() => {
      answer = guard.canActivate(ctx);
    }).not.toThrow();
    return { answer, request };
  }

  async function expectRefusal(answer: boolean | Promise<boolean>, status: number, reason: string) {
    expect(answer).toBeInstanceOf(Promise);
    const failure = await (answer as Promise<boolean>).then(
      () => new Error('admitted'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AzureAuthException);
    expect({ status: (failure as AzureAuthException).getStatus(), reason: ((failure as AzureAuthException).getResponse() as { reason: string }).reason }).toEqual({
      status,
      reason,
    });
  }

  it('warmUp off: the first call is a promise resolving to true; later new and cached tokens get true itself', async () => {
    const { guard } = await guardWith({ warmUp: false });
    const firstToken = entra.mintAccessToken({ scopes: SCOPES });
    const first = activate(guard, firstToken);
    expect(first.answer).toBeInstanceOf(Promise);
    await expect(first.answer).resolves.toBe(true);
    expect((first.request.user as AzurePrincipal).scopes).toEqual(SCOPES);

    const fresh = activate(guard, entra.mintAccessToken({ scopes: SCOPES, roles: ['TaskAdmin'] }));
    expect(fresh.answer).toBe(true);
    expect((fresh.request.user as AzurePrincipal).roles).toEqual(['TaskAdmin']);
    // The first token, now from the cache (first hit rebuilds the caller, the next reuses it).
    for (let hit = 0; hit < 2; hit++) {
      const cached = activate(guard, firstToken);
      expect(cached.answer).toBe(true);
      expect((cached.request.user as AzurePrincipal).claims).toEqual(parts(firstToken).payload);
    }
  });

  it('warmUp off: a refusal on the first call is a rejected promise too', async () => {
    const { guard } = await guardWith({ warmUp: false });
    const tampered = withPayload(entra.mintAccessToken({ scopes: SCOPES }), (payload) => ({ ...payload, scp: 'Todolist.ReadWrite' }));
    await expectRefusal(activate(guard, tampered).answer, 401, 'invalid_signature');
  });

  it('after warm-up: new v1 and v2 tokens and cached ones get true itself, not a promise', async () => {
    const { guard, keySource } = await guardWith({ warmUp: true });
    await waitFor(() => keySource.keySetsInUse().length > 0 && keySource.keySetsInUse().every((keys) => keys.loaded));
    for (const version of [2, 1] as const) {
      const token = entra.mintAccessToken({ scopes: SCOPES, version });
      expect(activate(guard, token).answer).toBe(true);
      expect(activate(guard, token).answer).toBe(true);
    }
  });

  it('several authorities, once their metadata and keys are loaded: new tokens of each get true itself', async () => {
    const authority = (tenantId: string) => ({ tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost });
    const moduleRef = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ warmUp: false, authorities: [authority(TENANT_A), authority(TENANT_B)] })] })
      .setLogger(silent)
      .compile();
    modules.push(moduleRef);
    const guard = moduleRef.get(AzureAuthGuard);
    // Load each authority's metadata and keys with one token of each (promises: they wait for fetches).
    for (const tenantId of [TENANT_A, TENANT_B]) await expect(activate(guard, entra.mintAccessToken({ tenantId, scopes: SCOPES })).answer).resolves.toBe(true);
    for (const tenantId of [TENANT_B, TENANT_A]) {
      const token = entra.mintAccessToken({ tenantId, scopes: SCOPES });
      const fresh = activate(guard, token);
      expect(fresh.answer).toBe(true);
      expect((fresh.request.user as AzurePrincipal).tid).toBe(tenantId);
    }
    // A token of neither authority is still refused, as a rejected promise.
    await expectRefusal(activate(guard, entra.mintAccessToken({ tenantId: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e', scopes: SCOPES })).answer, 401, 'invalid_issuer');
  });

  it('refusals are rejected promises, never throws: no token, malformed, expired, bad signature, unknown kid, missing scope, cached caller missing the scope', async () => {
    const { guard } = await guardWith({ warmUp: false });
    await activate(guard, entra.mintAccessToken({ scopes: SCOPES })).answer; // metadata and keys in memory from here on
    await expectRefusal(activate(guard).answer, 401, 'token_missing');
    await expectRefusal(activate(guard, 'not.a.jwt').answer, 401, 'malformed_token');
    await expectRefusal(activate(guard, entra.mintAccessToken({ scopes: SCOPES, expiresInSeconds: -3600 })).answer, 401, 'token_expired');
    const tampered = withPayload(entra.mintAccessToken({ scopes: SCOPES }), (payload) => ({ ...payload, oid: OTHER_CLIENT_APP }));
    await expectRefusal(activate(guard, tampered).answer, 401, 'invalid_signature');
    const unpublished = entra.createUnpublishedKey();
    await expectRefusal(activate(guard, entra.mintAccessToken({ scopes: SCOPES, privateKey: unpublished.privateKey })).answer, 401, 'signing_key_not_found');
    const withoutScope = entra.mintAccessToken({ scopes: ['User.Read'] });
    await expectRefusal(activate(guard, withoutScope).answer, 403, 'insufficient_permissions');
    // Now cached (it verified, then failed authorization): refused from the cache the same way.
    await expectRefusal(activate(guard, withoutScope).answer, 403, 'insufficient_permissions');
    await expectRefusal(activate(guard, withoutScope).answer, 403, 'insufficient_permissions');
  });
});

/** Polls until a condition holds (warm-up runs in the background and says nothing when done). */
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
