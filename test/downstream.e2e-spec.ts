import type { Agent } from 'node:https';
import type { INestApplication } from '@nestjs/common';
import { ENTRA_EMULATOR_DEFAULTS, type EntraEmulator } from 'nestjs-azure-auth/testing';
import { OTHER_API_ID, RecordingLogger, downstreamOptions, startDownstreamApp, startHttpsEmulator } from './support/downstream-app.js';
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
});
