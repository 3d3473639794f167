import { Controller, Get, type INestApplication, type ModuleMetadata, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  AzureAuthGuard,
  AzureAuthModule,
  AzurePermissionsGuard,
  AzureUser,
  Public,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, ProbeController, UnguardedProbeController, call, emulatorOptions, startApp, type Adapter } from './support/test-app.js';

/** A whole controller opened with @Public while the guards are global. */
@Public()
@Controller('health')
class HealthController {
  @Get()
  health(@AzureUser() user: AzurePrincipal | undefined) {
    return { status: 'ok', user: user ?? null };
  }
}

const appGuard = (guard: typeof AzureAuthGuard | typeof AzurePermissionsGuard): Provider => ({ provide: APP_GUARD, useClass: guard });

interface Setup {
  name: string;
  global: boolean;
  metadata: (options: ReturnType<typeof emulatorOptions>) => ModuleMetadata;
}

const SETUPS: Setup[] = [
  {
    name: 'global pair: AzureAuthGuard then AzurePermissionsGuard',
    global: true,
    metadata: (options) => ({
      imports: [AzureAuthModule.forRoot(options)],
      controllers: [UnguardedProbeController, HealthController],
      providers: [appGuard(AzureAuthGuard), appGuard(AzurePermissionsGuard)],
    }),
  },
  {
    name: 'global AzureAuthGuard alone',
    global: true,
    metadata: (options) => ({
      imports: [AzureAuthModule.forRoot(options)],
      controllers: [UnguardedProbeController, HealthController],
      providers: [appGuard(AzureAuthGuard)],
    }),
  },
  {
    name: 'AzureAuthGuard per controller (@UseGuards)',
    global: false,
    metadata: (options) => ({ imports: [AzureAuthModule.forRoot(options)], controllers: [ProbeController] }),
  },
];

describe.each(ADAPTERS)('guards over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    await entra?.stop();
  });

  describe.each(SETUPS)('$name', (setup) => {
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      ({ app, url } = await startApp(adapter, setup.metadata(emulatorOptions(entra))));
    });
    afterAll(async () => {
      await app?.close();
    });

    const get = (path: string, token?: string, headers?: Record<string, string>) => call(`${url}${path}`, { token, headers });
    const post = (path: string, token?: string) => call(`${url}${path}`, { method: 'POST', token, body: {} });
    const user = (scopes: string[], roles?: string[]) => entra.mintAccessToken({ scopes, roles });
    const daemon = (roles: string[]) => entra.mintAccessToken({ kind: 'app', roles });

    it('@Public skips authentication and authorization: no token, a junk token, a token without permissions', async () => {
      expect(await get('/api/open')).toMatchObject({ status: 200, body: { open: true } });
      expect((await get('/api/open', 'not-a-token')).status).toBe(200);
      expect((await get('/api/open', entra.mintAccessToken({ expiresInSeconds: -3600 }))).status).toBe(200);
      expect((await get('/api/open', entra.mintAccessToken({}))).status).toBe(200);
    });

    it('guards everything else: no token gets 401 with the realm-only challenge', async () => {
      for (const path of ['/api/me', '/api/todolist', '/api/daemon-only', '/api/admin']) {
        const answer = await get(path);
        expect({ path, status: answer.status, reason: answer.body.reason }).toEqual({ path, status: 401, reason: 'token_missing' });
        expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="api://${entra.clientId}"`);
      }
    });

    it('a bad token gets 401 invalid_token', async () => {
      const answer = await get('/api/me', entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -3600 }));
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_expired' });
      expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('@Scopes: a user with Todolist.Read reads but cannot write; with Todolist.ReadWrite writes', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read']))).status).toBe(200);
      const refused = await post('/api/todolist', user(['Todolist.Read']));
      expect({ status: refused.status, reason: refused.body.reason, required: refused.body.required }).toEqual({
        status: 403,
        reason: 'insufficient_permissions',
        required: ['Todolist.ReadWrite'],
      });
      expect(refused.headers.get('www-authenticate')).toBe(
        `Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="Token lacks a required scope", scope="Todolist.ReadWrite"`,
      );
      expect((await post('/api/todolist', user(['Todolist.ReadWrite']))).status).toBe(201);
    });

    it('@AppPermissions: a daemon gets in by its app permission; a user whose roles carry it does not', async () => {
      expect((await get('/api/daemon-only', daemon(['Todolist.Read.All']))).status).toBe(200);
      const refused = await get('/api/daemon-only', user(['Todolist.Read'], ['Todolist.Read.All']));
      expect({ status: refused.status, reason: refused.body.reason }).toEqual({ status: 403, reason: 'insufficient_permissions' });
      expect((await post('/api/todolist', daemon(['Todolist.Read.All']))).status).toBe(403);
    });

    it('@Roles: a user with TaskAdmin gets in; without it, or as a daemon, 403', async () => {
      expect((await get('/api/admin', user(['Todolist.Read'], ['TaskAdmin']))).status).toBe(200);
      expect((await get('/api/admin', user(['Todolist.Read']))).status).toBe(403);
      expect((await get('/api/admin', daemon(['TaskAdmin']))).status).toBe(403);
    });

    it('caller policies apply: a token with neither scp nor roles gets 403 no_permissions', async () => {
      const answer = await get('/api/me', entra.mintAccessToken({}));
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 403, reason: 'no_permissions' });
    });

    it('@AzureUser receives the principal the guard verified', async () => {
      const answer = await get('/api/me', daemon(['Todolist.Read.All']));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ oidField: expect.stringMatching(/^[0-9a-f-]{36}$/), appOnly: true });
    });

    if (setup.global) {
      it('@Public on a controller opens all its handlers, and @AzureUser there is empty', async () => {
        expect(await get('/health')).toMatchObject({ status: 200, body: { status: 'ok', user: null } });
        // no authentication ran, even with a valid token: the route is public, not optionally authenticated
        expect(await get('/health', user(['Todolist.Read']))).toMatchObject({ status: 200, body: { user: null } });
      });
    }
  });

  describe('AzurePermissionsGuard without an authentication guard before it', () => {
    const setups: Array<[string, Provider[]]> = [
      ['alone', [appGuard(AzurePermissionsGuard)]],
      ['registered before AzureAuthGuard', [appGuard(AzurePermissionsGuard), appGuard(AzureAuthGuard)]],
    ];

    it.each(setups)('%s: fails closed with 401 even for a valid token, and @Public still opens', async (_name, providers) => {
      const { app, url } = await startApp(adapter, {
        imports: [AzureAuthModule.forRoot(emulatorOptions(entra))],
        controllers: [UnguardedProbeController],
        providers,
      });
      try {
        const answer = await call(`${url}/api/todolist`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
        expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_missing' });
        expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="api://${entra.clientId}"`);
        expect((await call(`${url}/api/open`)).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });
});
