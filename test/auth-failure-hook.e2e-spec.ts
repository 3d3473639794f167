import type { INestApplication } from '@nestjs/common';
import type { AzureAuthFailureEvent } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, probeApp } from './support/test-app.js';

describe('onAuthFailure', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  const events: AzureAuthFailureEvent[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await probeApp(
      'express',
      emulatorOptions(entra, {
        onAuthFailure: (event) => {
          events.push(event);
          if (event.error.reason === 'invalid_audience') throw new Error('a broken hook must not break the answer');
        },
      }),
    ));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });
  beforeEach(() => {
    events.length = 0;
  });

  it('receives the reason and safe claims of a refused token, never the token', async () => {
    const token = entra.mintAccessToken({ scopes: ['x'], issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    expect((await call(`${url}/api/me`, { token })).status).toBe(401);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event.error.reason).toBe('token_expired');
    expect(event.claims).toEqual({
      // The token was refused: its claims are the caller's word, not verified facts.
      verified: false,
      tid: entra.tenantId,
      oid: expect.any(String),
      clientId: entra.clientAppId,
      aud: entra.clientId,
      iss: entra.v2Issuer(),
      ver: '2.0',
    });
    expect(JSON.stringify(event)).not.toContain(token.split('.')[2]);
  });

  it('is told of 403s with the claims of the verified caller', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    expect((await call(`${url}/api/todolist`, { method: 'POST', token })).status).toBe(403);
    expect(events.map((event) => [event.error.reason, event.claims?.tid, event.claims?.verified])).toEqual([['insufficient_permissions', entra.tenantId, true]]);
  });

  it('is told of missing tokens without claims', async () => {
    expect((await call(`${url}/api/me`)).status).toBe(401);
    expect(events).toEqual([expect.objectContaining({ claims: undefined })]);
    expect(events[0].error.reason).toBe('token_missing');
  });

  it('does not change the answer when the hook throws', async () => {
    const answer = await call(`${url}/api/me`, { token: entra.mintAccessToken({ scopes: ['x'], audience: 'api://other' }) });
    expect(answer.status).toBe(401);
    expect(answer.body.reason).toBe('invalid_audience');
    expect(events).toHaveLength(1);
  });
});
