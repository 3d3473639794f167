import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { healthAppModule } from './support/health-app.js';
import { ADAPTERS, call, emulatorOptions, startApp, type Adapter, type HttpAnswer } from './support/test-app.js';

function healthApp(adapter: Adapter, options: AzureAuthModuleOptions) {
  return startApp(adapter, healthAppModule(options));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTERS)('health indicator over %s', (adapter) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  async function start(extra: Partial<AzureAuthModuleOptions> = {}) {
    const entra = await EntraEmulator.start();
    cleanups.push(() => entra.stop());
    const { app, url } = await healthApp(adapter, emulatorOptions(entra, extra));
    cleanups.push(() => app.close());
    const health = () => call(`${url}/health`);
    const me = (version: 1 | 2 = 2) => call(`${url}/api/me`, { token: entra.mintAccessToken({ version, scopes: ['Todolist.Read'] }) });
    const v2Keys = `${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`;
    const v1Keys = `${entra.authorityHost}/${entra.tenantId}/discovery/keys`;
    return { entra, health, me, v2Keys, v1Keys };
  }

  const entry = (answer: HttpAnswer) => answer.body.details.azure_auth;

  it('is down before any load, and up with the age of the key set once one token was checked', async () => {
    const { entra, health, me, v2Keys } = await start();

    const before = await health();
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({
      status: 'error',
      error: { azure_auth: { status: 'down', message: 'The authority metadata has not been discovered yet', keySets: [] } },
    });
    // A probe only reads the cache: it never makes the module fetch.
    expect(entra.requestCount()).toBe(0);

    expect((await me(2)).status).toBe(200);
    await sleep(30);
    const after = await health();
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('ok');
    // One key set serves tokens of both versions: nothing waits for a v1 token to come along.
    expect(entry(after)).toEqual({ status: 'up', keySets: [{ jwksUri: v2Keys, loaded: true, ageMs: expect.any(Number), keys: 1, fetches: 1 }] });
    // The age grows with time: it is measured, not a constant.
    expect(entry(after).keySets[0].ageMs).toBeGreaterThanOrEqual(20);
    expect(entry((await health())).keySets[0].ageMs).toBeGreaterThanOrEqual(entry(after).keySets[0].ageMs);

    expect((await me(1)).status).toBe(200);
    expect(entra.requestCount('keys')).toBe(1);
  });

  it('is up after a first v1 token alone, with warm-up off and both versions accepted', async () => {
    const { entra, health, me, v2Keys, v1Keys } = await start();
    expect((await me(1)).status).toBe(200);
    const after = await health();
    expect(after.status).toBe(200);
    expect(entry(after).keySets.map((set: { jwksUri: string }) => set.jwksUri)).toEqual([v2Keys]);
    expect(entra.requests.map((request) => request.path)).not.toContain(new URL(v1Keys).pathname);
  });

  it('is up after one request when only v2 tokens are accepted', async () => {
    const { health, me, v2Keys } = await start({ acceptedTokenVersions: ['2.0'] });
    expect((await health()).status).toBe(503);
    expect((await me(2)).status).toBe(200);
    const after = await health();
    expect(after.status).toBe(200);
    expect(entry(after)).toEqual({ status: 'up', keySets: [{ jwksUri: v2Keys, loaded: true, ageMs: expect.any(Number), keys: 1, fetches: 1 }] });
  });

  it('turns up on its own with warm-up', async () => {
    const { entra, health } = await start({ warmUp: true });
    const deadline = Date.now() + 5000;
    let answer = await health();
    while (answer.status !== 200 && Date.now() < deadline) {
      await sleep(50);
      answer = await health();
    }
    expect(answer.status).toBe(200);
    expect(entry(answer).keySets).toHaveLength(1);
    expect(entra.requestCount('keys')).toBe(1);
  });

  it('stays up on the last good keys while the keys endpoint is down, and counts the failed fetch', async () => {
    const { entra, health, me } = await start({ acceptedTokenVersions: ['2.0'] });
    expect((await me(2)).status).toBe(200);
    entra.setFault('keys', { status: 503 });
    entra.rotateKeys();
    expect((await me(2)).status).toBe(503);
    const answer = await health();
    expect(answer.status).toBe(200);
    expect(entry(answer).keySets[0]).toMatchObject({ loaded: true, keys: 1, fetches: 2 });
  });

  it('is down with the failed fetches counted when the keys never loaded', async () => {
    const { entra, health, me, v2Keys } = await start({ acceptedTokenVersions: ['2.0'] });
    entra.setFault('keys', { status: 503 });
    expect((await me(2)).status).toBe(503);
    const answer = await health();
    expect(answer.status).toBe(503);
    expect(entry(answer)).toEqual({
      status: 'down',
      message: `Signing keys not loaded from ${v2Keys}`,
      keySets: [{ jwksUri: v2Keys, loaded: false, keys: 0, fetches: 1 }],
    });
  });
});
