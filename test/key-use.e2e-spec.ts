import type { INestApplication } from '@nestjs/common';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, probeApp } from './support/test-app.js';

describe('published keys whose own alg or use disagree with an RS256 signature', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let rs512: Awaited<ReturnType<EntraEmulator['addKey']>>;
  let encryption: Awaited<ReturnType<EntraEmulator['addKey']>>;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    // Published before the module loads the key set, so they are in it when tokens arrive.
    rs512 = entra.addKey({ alg: 'RS512' });
    encryption = entra.addKey({ use: 'enc' });
    ({ app, url } = await probeApp('express', emulatorOptions(entra)));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('the authority really publishes both keys, with their alg and use', async () => {
    const jwks = (await (await fetch(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.find((key) => key.kid === rs512.kid)).toMatchObject({ alg: 'RS512', use: 'sig' });
    expect(jwks.keys.find((key) => key.kid === encryption.kid)).toMatchObject({ use: 'enc' });
  });

  it.each([
    ['a key published for RS512', () => rs512],
    ['a key published for encryption (use enc)', () => encryption],
  ])('never verifies an RS256 token with %s', async (_name, key) => {
    const { kid, privateKey } = key();
    const answer = await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], privateKey, kid }) });
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'signing_key_not_found' });
  });

  it('still verifies with the authority signing key', async () => {
    expect((await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
  });
});
