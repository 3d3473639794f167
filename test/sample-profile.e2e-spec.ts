import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { ENTRA_EMULATOR_DEFAULTS, type EntraEmulator } from 'nestjs-azure-auth/testing';
import { AppModule } from '../src/app.module.js';
import { parseClientCredential } from '../src/config/credentials.js';
import { closeAll, startHttpsEmulator } from './support/downstream-app.js';
import { ADAPTERS, call, type Adapter } from './support/test-app.js';

/** The sample app in-process, as main.ts would start it with these credential variables. */
async function startSample(adapter: Adapter, entra: EntraEmulator, agent: Agent, env: Record<string, string>): Promise<{ app: INestApplication; url: string }> {
  const auth: AzureAuthModuleOptions = {
    tenantId: entra.tenantId,
    clientId: entra.clientId,
    authorityHost: entra.authorityHost,
    httpAgent: agent,
    clientCredential: parseClientCredential(env),
  };
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ auth })] }).compile();
  const app =
    adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe.each(ADAPTERS)('sample app: GET /api/me/profile over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  let agent: Agent;
  let directory: string;
  const apps: INestApplication[] = [];

  const start = async (env: Record<string, string>) => {
    const started = await startSample(adapter, entra, agent, env);
    apps.push(started.app);
    return started.url;
  };

  beforeAll(async () => {
    ({ entra, agent } = await startHttpsEmulator({
      directoryUsers: [{ oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.example', mail: 'ada.lovelace@contoso.example' }],
    }));
    directory = await mkdtemp(join(tmpdir(), 'sample-profile-'));
  });

  afterAll(() => closeAll(apps, entra, agent, directory));

  it('with AZURE_CLIENT_SECRET: any valid user token gets its Graph profile, an app-only caller 403', async () => {
    const url = await start({ AZURE_CLIENT_SECRET: entra.clientSecret });
    const user = await call(`${url}/api/me/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
    expect(user.status).toBe(200);
    expect(user.body).toEqual({ displayName: 'Ada Lovelace', mail: 'ada.lovelace@contoso.example', userPrincipalName: 'ada@contoso.example' });
    const daemon = await call(`${url}/api/me/profile`, { token: entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }) });
    expect(daemon.status).toBe(403);
    expect(daemon.body.reason).toBe('user_token_required');
    expect((await call(`${url}/api/me/profile`)).status).toBe(401);
  });

  it('with AZURE_CLIENT_CERTIFICATE_PATH (one PEM file, certificate and key) the same', async () => {
    const { certificate, privateKey } = await entra.createClientCertificate();
    const file = join(directory, 'api-certificate.pem');
    await writeFile(file, `${privateKey}${certificate}`);
    const url = await start({ AZURE_CLIENT_CERTIFICATE_PATH: file });
    expect((await call(`${url}/api/me/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).body.displayName).toBe('Ada Lovelace');
  });

  it('with AZURE_FEDERATED_TOKEN_FILE (workload identity) the same', async () => {
    const file = join(directory, 'azure-identity-token');
    await writeFile(file, `${entra.mintFederatedToken()}\n`);
    const url = await start({ AZURE_FEDERATED_TOKEN_FILE: file });
    expect((await call(`${url}/api/me/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(200);
  });

  it('without a credential the route answers 503 downstream_token_refused, the rest of the API is unaffected', async () => {
    const url = await start({});
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const answer = await call(`${url}/api/me/profile`, { token });
    expect(answer.status).toBe(503);
    expect(answer.body.reason).toBe('downstream_token_refused');
    expect((await call(`${url}/api/me`, { token })).status).toBe(200);
  });

  it('a Graph that refuses (403) becomes 502 with Graph\'s error code, never 500', async () => {
    entra.setFault('graph', { status: 403 });
    try {
      const url = await start({ AZURE_CLIENT_SECRET: entra.clientSecret });
      const answer = await call(`${url}/api/me/profile`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
      expect(answer.status).toBe(502);
      expect(answer.body.message).toBe('Microsoft Graph answered 403');
    } finally {
      entra.setFault('graph', null);
    }
  });
});
