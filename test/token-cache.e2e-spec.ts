import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { AzureTokenVerifier, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
// White-box: the key source is internal; tests watch it to see when a token was verified anew.
import { KeySource } from '../libs/azure-auth/src/keys/key-source.js';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, probeApp } from './support/test-app.js';

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('verified-token cache', () => {
  let entra: EntraEmulator;
  let app: INestApplication | undefined;
  let url: string;

  beforeEach(async () => {
    entra = await EntraEmulator.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await entra.stop();
  });

  async function start(extra: Partial<AzureAuthModuleOptions> = {}) {
    ({ app, url } = await probeApp('express', emulatorOptions(entra, { unknownKeyRefreshIntervalSeconds: 0, ...extra })));
    return app.get(AzureTokenVerifier).cache;
  }
  const me = (token: string) => call(`${url}/api/me`, { token });

  it('keeps a token that verified and answers it again without verifying it again', async () => {
    const cache = await start();
    // Observed, not replaced: the real verifier still runs.
    // Every new token asks the key source for the authority; a cached one never does.
    const keyLookups = jest.spyOn(app!.get(KeySource), 'discovered');
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200);
    expect(keyLookups).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  it('still checks the lifetime on a hit', async () => {
    const cache = await start({ clockToleranceSeconds: 0 });
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'], issuedAt: now() - 60, expiresInSeconds: 62 });
    expect((await me(token)).status).toBe(200);
    expect(cache.size).toBe(1);
    await sleep(2500);
    const answer = await me(token);
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_expired' });
  });

  it('drops tokens signed by a key that a refresh removed', async () => {
    const cache = await start();
    const old = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await me(old)).status).toBe(200);
    expect(cache.size).toBe(1);
    entra.rotateKeys({ keepPrevious: false });
    // A token with the new kid makes the module refresh the key set, which no longer has the old key.
    expect((await me(entra.mintAccessToken({ scopes: ['Todolist.Read'] }))).status).toBe(200);
    const answer = await me(old);
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'signing_key_not_found' });
  });

  it('never keeps a failure', async () => {
    const cache = await start();
    const wrongAudience = entra.mintAccessToken({ scopes: ['x'], audience: 'api://another' });
    expect((await me(wrongAudience)).status).toBe(401);
    expect((await me(wrongAudience)).status).toBe(401);
    expect(cache.size).toBe(0);
  });

  it('can be turned off', async () => {
    const cache = await start({ tokenCache: false });
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await me(token)).status).toBe(200);
    // Every new token asks the key source for the authority; a cached one never does.
    const keyLookups = jest.spyOn(app!.get(KeySource), 'discovered');
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200);
    expect(keyLookups).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it('holds its bound', async () => {
    const cache = await start({ tokenCache: { maxEntries: 3 } });
    for (let i = 0; i < 6; i++) expect((await me(entra.mintAccessToken({ scopes: ['Todolist.Read'] }))).status).toBe(200);
    expect(cache.size).toBe(3);
  });
});
