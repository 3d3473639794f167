import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator, type UnpublishedSigningKey } from 'nestjs-azure-auth/testing';
import { parts } from './support/jwt-craft.js';
import { ADAPTERS, call, emulatorOptions, probeApp, type Adapter, type HttpAnswer } from './support/test-app.js';

/** Longer than the module's 1 s back-off after a failed fetch. */
const PAST_BACKOFF_MS = 1200;
/** An unknown-kid interval no test outlives: every refresh a test sees is the one it expects. */
const LONG_INTERVAL_SECONDS = 600;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `condition` holds; fails the test rather than hanging when it never does. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

interface Scenario {
  entra: EntraEmulator;
  app: INestApplication;
  url: string;
  /** A fresh token per call, so that the verified-token cache never answers in place of the keys. */
  token(options?: { version?: 1 | 2 }): string;
  /** A fresh token signed by the emulator's key `kid`, published or not (a rotated-out one, say). */
  signedBy(kid: string): string;
  /** A token whose `kid` the authority has never published. */
  strangerToken(): string;
  me(token: string): Promise<HttpAnswer>;
  /** Requests the emulator received, counted per path (query included). */
  fetchesByPath(): Record<string, number>;
  paths: { v2Metadata: string; v1Metadata: string; v2Keys: string };
}

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * Its own emulator and probe app per test: fault and request counts never leak between cases.
 * `beforeStart` runs on the emulator before the app exists (faults at start-up).
 */
async function scenario(
  extra: Partial<AzureAuthModuleOptions> = {},
  { adapter = 'express', beforeStart }: { adapter?: Adapter; beforeStart?: (entra: EntraEmulator) => void } = {},
): Promise<Scenario> {
  const entra = await EntraEmulator.start();
  cleanups.push(() => entra.stop());
  beforeStart?.(entra);
  const { app, url } = await probeApp(adapter, emulatorOptions(entra, extra));
  cleanups.push(() => {
    // A request left hanging by a failed case must not hold the close (and the next case) hostage.
    (app.getHttpServer() as Server).closeAllConnections();
    return app.close();
  });
  let stranger: UnpublishedSigningKey | undefined;
  const tenant = entra.tenantId;
  return {
    entra,
    app,
    url,
    token: ({ version = 2 } = {}) => entra.mintAccessToken({ version, scopes: ['Todolist.Read'] }),
    signedBy: (kid) => {
      const { header, payload } = parts(entra.mintAccessToken({ scopes: ['Todolist.Read'] }));
      return entra.sign({ ...header, kid }, payload, { kid });
    },
    strangerToken: () => {
      stranger ??= entra.createUnpublishedKey();
      return entra.mintAccessToken({ scopes: ['Todolist.Read'], privateKey: stranger.privateKey, kid: randomUUID() });
    },
    me: (token) => call(`${url}/api/me`, { token }),
    fetchesByPath: () => {
      const counts: Record<string, number> = {};
      for (const { path } of entra.requests) counts[path] = (counts[path] ?? 0) + 1;
      return counts;
    },
    paths: {
      v2Metadata: `/${tenant}/v2.0/.well-known/openid-configuration`,
      v1Metadata: `/${tenant}/.well-known/openid-configuration`,
      v2Keys: `/${tenant}/discovery/v2.0/keys`,
    },
  };
}

function expectKeysUnavailable(answer: HttpAnswer) {
  expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 503, reason: 'keys_unavailable' });
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  // Not a challenge: the caller's token may be fine, and a 401 would send a SPA into a login loop.
  expect(answer.headers.get('www-authenticate')).toBeNull();
}

describe('key rotation', () => {
  it('accepts a token signed by a rotated-in key after exactly one key refresh', async () => {
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: LONG_INTERVAL_SECONDS });
    const oldKid = s.entra.signingKid;
    expect((await s.me(s.token())).status).toBe(200);
    const keysBefore = s.entra.requestCount('keys');

    const newKid = s.entra.rotateKeys();
    const rotated = s.token();
    expect(parts(rotated).header.kid).toBe(newKid);
    expect((await s.me(rotated)).status).toBe(200);
    expect(s.entra.requestCount('keys') - keysBefore).toBe(1);

    // The refreshed set serves both kids from memory from then on.
    expect((await s.me(s.token())).status).toBe(200);
    expect((await s.me(s.signedBy(oldKid))).status).toBe(200);
    expect(s.entra.requestCount('keys') - keysBefore).toBe(1);
    expect(s.entra.requestCount('metadata')).toBe(2);
  });

  it('refuses the kid of a key the authority stopped publishing, once a refresh has shown it gone', async () => {
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: LONG_INTERVAL_SECONDS });
    const oldKid = s.entra.signingKid;
    expect((await s.me(s.token())).status).toBe(200);
    s.entra.rotateKeys({ keepPrevious: false });
    // The new kid causes the refresh that shows the old key gone.
    expect((await s.me(s.token())).status).toBe(200);
    const answer = await s.me(s.signedBy(oldKid));
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'signing_key_not_found' });
  });
});

describe('key rotation with the default unknown-kid interval', () => {
  it('accepts a key rotated in shortly after an unknown-kid probe within 30 seconds, with one refresh', async () => {
    const s = await scenario();
    expect((await s.me(s.token())).status).toBe(200);
    // A probe with a made-up kid spends the interval...
    expect((await s.me(s.strangerToken())).body.reason).toBe('signing_key_not_found');
    const probed = Date.now();
    const keysAfterProbe = s.entra.requestCount('keys');
    // ...then Entra rotates: the new key is refused at once, without a fetch, while the interval runs.
    s.entra.rotateKeys();
    expect((await s.me(s.token())).body.reason).toBe('signing_key_not_found');
    expect(s.entra.requestCount('keys')).toBe(keysAfterProbe);
    let answer = await s.me(s.token());
    while (answer.status !== 200 && Date.now() - probed < 35_000) {
      expect(answer.body.reason).toBe('signing_key_not_found');
      await sleep(500);
      answer = await s.me(s.token());
    }
    expect(answer.status).toBe(200);
    const healedAfterMs = Date.now() - probed;
    expect(healedAfterMs).toBeGreaterThanOrEqual(29_000);
    expect(healedAfterMs).toBeLessThanOrEqual(32_000);
    expect(s.entra.requestCount('keys')).toBe(keysAfterProbe + 1);
  }, 45_000);
});

describe('a flood of tokens with random kids', () => {
  it('causes one key refresh in all, whether the tokens come at once or one after another', async () => {
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: LONG_INTERVAL_SECONDS });
    expect((await s.me(s.token())).status).toBe(200);
    expect(s.fetchesByPath()).toEqual({ [s.paths.v2Metadata]: 1, [s.paths.v1Metadata]: 1, [s.paths.v2Keys]: 1 });

    const concurrent = await Promise.all(Array.from({ length: 100 }, () => s.me(s.strangerToken())));
    const sequential: HttpAnswer[] = [];
    for (let i = 0; i < 100; i++) sequential.push(await s.me(s.strangerToken()));

    for (const answer of [...concurrent, ...sequential]) {
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'signing_key_not_found' });
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    }
    // The first load, then one refresh for the whole flood: the interval bars every other one.
    expect(s.fetchesByPath()).toEqual({ [s.paths.v2Metadata]: 1, [s.paths.v1Metadata]: 1, [s.paths.v2Keys]: 2 });
    // Valid tokens still pass and cost nothing.
    expect((await s.me(s.token())).status).toBe(200);
    expect(s.entra.requestCount('keys')).toBe(2);
  });

  it('allows one more refresh per interval, not more', async () => {
    const intervalSeconds = 3;
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: intervalSeconds });
    expect((await s.me(s.token())).status).toBe(200);
    const flood = () => Promise.all(Array.from({ length: 100 }, () => s.me(s.strangerToken())));

    const first = await flood();
    expect(s.entra.requestCount('keys')).toBe(2);
    await sleep(intervalSeconds * 1000 + 300);
    const second = await flood();
    expect(s.entra.requestCount('keys')).toBe(3);
    expect(new Set([...first, ...second].map((answer) => answer.status))).toEqual(new Set([401]));
  });
});

describe('cold start under load', () => {
  it('fetches each metadata document and the key set exactly once for 100 concurrent first requests of both versions', async () => {
    const s = await scenario({}, { beforeStart: (entra) => entra.setFault('all', { delayMs: 200 }) });
    // Held answers make sure the requests overlap the fetches they would otherwise repeat.
    const tokens = Array.from({ length: 100 }, (_, i) => s.token({ version: i % 2 === 0 ? 2 : 1 }));
    const answers = await Promise.all(tokens.map((token) => s.me(token)));
    expect(answers.map((answer) => answer.status)).toEqual(tokens.map(() => 200));
    expect(s.fetchesByPath()).toEqual({
      [s.paths.v2Metadata]: 1,
      [s.paths.v1Metadata]: 1,
      // v1 tokens are checked against the v2 key set (the same keys, which name their issuer).
      [s.paths.v2Keys]: 1,
    });
  });
});

describe.each(ADAPTERS)('keys endpoint down after warm-up, over %s', (adapter) => {
  it.each([
    ['answering 503', { status: 503 }],
    ['resetting connections', { destroy: true }],
  ])('%s: a cached kid still passes, an unknown kid gets 503 keys_unavailable', async (_name, fault) => {
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: LONG_INTERVAL_SECONDS }, { adapter });
    expect((await s.me(s.token())).status).toBe(200);
    s.entra.setFault('keys', fault);
    const keysBefore = s.entra.requestCount('keys');

    expect((await s.me(s.token())).status).toBe(200);
    expect(s.entra.requestCount('keys')).toBe(keysBefore);

    expectKeysUnavailable(await s.me(s.strangerToken()));
    expect(s.entra.requestCount('keys')).toBe(keysBefore + 1);
    // Still "cannot tell now", not 401: the kid may be a real new key the outage hides.
    expectKeysUnavailable(await s.me(s.strangerToken()));
    expect((await s.me(s.token())).status).toBe(200);
  });
});

describe('a slow authority', () => {
  it.each(['keys', 'metadata'] as const)('answers 503 within the timeout when %s do not arrive in time', async (kind) => {
    const httpTimeoutMs = 300;
    const s = await scenario({ httpTimeoutMs }, { beforeStart: (entra) => entra.setFault(kind, { delayMs: 3000 }) });
    const started = Date.now();
    const answer = await s.me(s.token());
    const elapsed = Date.now() - started;
    expectKeysUnavailable(answer);
    // A behavioural bound (the request waits for the timeout, not for the authority), not a benchmark.
    expect(elapsed).toBeLessThan(httpTimeoutMs + 1500);
    expect(s.entra.requestCount(kind)).toBeGreaterThan(0);
  });
});

describe('recovery', () => {
  it('accepts tokens again once the keys endpoint is back after an outage at first load', async () => {
    const s = await scenario({}, { beforeStart: (entra) => entra.setFault('keys', { status: 503 }) });
    expectKeysUnavailable(await s.me(s.token()));
    expect(s.entra.requestCount('keys')).toBe(1);

    s.entra.setFault('keys', null);
    await sleep(PAST_BACKOFF_MS);
    expect((await s.me(s.token())).status).toBe(200);
    expect((await s.me(s.token())).status).toBe(200);
    expect(s.entra.requestCount('keys')).toBe(2);
  });

  it('accepts a key rotated in during an outage once the outage is over, without waiting for the unknown-kid interval', async () => {
    const s = await scenario({ unknownKeyRefreshIntervalSeconds: LONG_INTERVAL_SECONDS });
    expect((await s.me(s.token())).status).toBe(200);
    s.entra.setFault('keys', { status: 503 });
    s.entra.rotateKeys();
    expectKeysUnavailable(await s.me(s.token()));

    s.entra.setFault('keys', null);
    await sleep(PAST_BACKOFF_MS);
    // The 503 said "retry later": a retry after the outage must not be barred for the rest of the interval.
    expect((await s.me(s.token())).status).toBe(200);
  });

  it('starts while the metadata is down, answers 503, then recovers', async () => {
    const s = await scenario({}, { beforeStart: (entra) => entra.setFault('metadata', { status: 503 }) });
    expect((await call(`${s.url}/api/open`)).status).toBe(200);
    expectKeysUnavailable(await s.me(s.token()));
    expect(s.entra.requestCount('keys')).toBe(0);

    s.entra.setFault('metadata', null);
    await sleep(PAST_BACKOFF_MS);
    s.entra.resetRequests();
    expect((await s.me(s.token())).status).toBe(200);
    expect((await s.me(s.token({ version: 1 }))).status).toBe(200);
    expect(s.fetchesByPath()).toEqual({
      [s.paths.v2Metadata]: 1,
      [s.paths.v1Metadata]: 1,
      // v1 tokens are checked against the v2 key set (the same keys, which name their issuer).
      [s.paths.v2Keys]: 1,
    });
  });

  it('keeps the last good metadata when a background refresh fails', async () => {
    const s = await scenario({ metadataRefreshSeconds: 1 });
    expect((await s.me(s.token())).status).toBe(200);
    s.entra.setFault('metadata', { status: 503 });
    await sleep(1100);
    const metadataBefore = s.entra.requestCount('metadata');

    // Stale metadata is used at once and refreshed behind the request.
    expect((await s.me(s.token())).status).toBe(200);
    await eventually(() => s.entra.requestCount('metadata') > metadataBefore, 'the background metadata refresh was tried');
    expect((await s.me(s.token())).status).toBe(200);
  });

  it('keeps serving stale keys while the keys endpoint is down', async () => {
    const s = await scenario({ keysMaxAgeSeconds: 1 });
    expect((await s.me(s.token())).status).toBe(200);
    s.entra.setFault('keys', { status: 503 });
    await sleep(1100);
    const keysBefore = s.entra.requestCount('keys');

    expect((await s.me(s.token())).status).toBe(200);
    await eventually(() => s.entra.requestCount('keys') > keysBefore, 'the background key refresh was tried');
    expect((await s.me(s.token())).status).toBe(200);
  });
});

describe('warm-up', () => {
  it('fetches metadata and keys at start without a request, so the first requests fetch nothing', async () => {
    const s = await scenario({ warmUp: true });
    await eventually(
      () => s.entra.requestCount('metadata') === 2 && s.entra.requestCount('keys') === 1,
      'both metadata documents and the key set were fetched',
    );
    expect(s.fetchesByPath()).toEqual({
      [s.paths.v2Metadata]: 1,
      [s.paths.v1Metadata]: 1,
      // v1 tokens are checked against the v2 key set (the same keys, which name their issuer).
      [s.paths.v2Keys]: 1,
    });
    expect((await s.me(s.token())).status).toBe(200);
    expect((await s.me(s.token({ version: 1 }))).status).toBe(200);
    expect(s.entra.requestCount()).toBe(3);
  });

  it('does not hold the start of the app while the authority is slow', async () => {
    const s = await scenario({ warmUp: true, httpTimeoutMs: 10_000 }, { beforeStart: (entra) => entra.setFault('all', { delayMs: 5000 }) });
    await eventually(() => s.entra.requestCount('metadata') > 0, 'the warm-up asked for metadata');
    // The app listens and answers while the warm-up still waits for its first document.
    expect((await call(`${s.url}/api/open`)).status).toBe(200);
    expect(s.entra.requestCount('keys')).toBe(0);
  });
});
