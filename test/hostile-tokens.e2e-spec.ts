import type { INestApplication } from '@nestjs/common';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, emulatorOptions, probeApp, type HttpAnswer } from './support/test-app.js';
import {
  HOSTILE_APP_OPTIONS,
  HOSTILE_CASES,
  createHostileContext,
  startCountingServer,
  type HostileAppName,
  type HostileContext,
  type HostileRequest,
} from './support/hostile-cases.js';

describe.each(ADAPTERS)('hostile tokens over %s', (adapter) => {
  let entra: EntraEmulator;
  let attacker: Awaited<ReturnType<typeof startCountingServer>>;
  let context: HostileContext;
  const apps = new Map<HostileAppName, { app: INestApplication; url: string }>();

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    attacker = await startCountingServer();
    context = await createHostileContext(entra, attacker.url);
    for (const name of Object.keys(HOSTILE_APP_OPTIONS) as HostileAppName[]) {
      const started = await probeApp(adapter, emulatorOptions(entra, HOSTILE_APP_OPTIONS[name]));
      apps.set(name, started);
      // Load metadata and both key sets now, so that every fetch counted below is one a case caused.
      for (const version of [1, 2] as const) {
        const warm = await call(`${started.url}/api/me`, { token: entra.mintAccessToken({ version, scopes: ['Todolist.Read'] }) });
        if (warm.status !== 200) throw new Error(`warm-up of the ${name} app answered ${warm.status}`);
      }
    }
    entra.resetRequests();
  });
  afterAll(async () => {
    for (const { app } of apps.values()) await app.close();
    await entra?.stop();
    await attacker?.close();
  });

  async function send(app: HostileAppName, built: string | HostileRequest): Promise<{ answer: HttpAnswer; secret: string | undefined }> {
    const request: HostileRequest = typeof built === 'string' ? { token: built } : built;
    const { url } = apps.get(app)!;
    const answer = await call(`${url}${request.path ?? '/api/me'}${request.query ?? ''}`, { method: request.method, token: request.token, body: request.body });
    return { answer, secret: request.secret ?? request.token };
  }

  it.each(HOSTILE_CASES.map((hostile) => [hostile.name, hostile] as const))('%s', async (_name, hostile) => {
    const requestsBefore = { keys: entra.requestCount('keys'), metadata: entra.requestCount('metadata') };
    const { answer, secret } = await send(hostile.app ?? 'default', hostile.build(context));

    expect(answer.status).not.toBe(500);
    if (hostile.status === 200) {
      expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status: 200, reason: undefined });
    } else {
      const expected = ([] as string[]).concat(hostile.reason ?? []);
      expect({ status: answer.status, reason: answer.body?.reason }).toEqual({
        status: hostile.status,
        reason: expected.includes(answer.body?.reason) ? answer.body.reason : expected.join(' | '),
      });
      const challenge = answer.headers.get('www-authenticate');
      const realm = `realm="api://${entra.clientId}"`;
      if (answer.body.reason === 'token_missing') {
        expect(challenge).toBe(`Bearer ${realm}`);
      } else {
        expect(challenge).toMatch(new RegExp(`^Bearer ${realm.replace(/[/.]/g, '\\$&')}, error="invalid_token", error_description="[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]+"$`));
      }
      // Absurd claim values must not turn into absurd sentences.
      expect(String(answer.body.message)).not.toMatch(/NaN|Infinity|undefined|null/);
      // What goes back to the caller is made by us, never copied from the token.
      for (const segment of (secret ?? '').split('.').filter((part) => part.length >= 12)) {
        expect(challenge).not.toContain(segment);
        expect(JSON.stringify(answer.body)).not.toContain(segment);
      }
    }

    // Nothing in a token chooses where keys come from; an unknown kid costs at most one rate-limited
    // refresh. Counted per case, so that one case's fetch is reported by that case alone.
    expect(attacker.hits()).toBe(0);
    expect({ metadataFetches: entra.requestCount('metadata') - requestsBefore.metadata, keyFetches: entra.requestCount('keys') - requestsBefore.keys }).toEqual({
      metadataFetches: 0,
      keyFetches: expect.any(Number),
    });
    expect(entra.requestCount('keys') - requestsBefore.keys).toBeLessThanOrEqual(1);
  });
});
