// README.md "Test your own API without Azure": a user's own AppModule against the emulator, here on
// Express and Fastify. The packaging suite runs README's own text in Nest 11 and 12 apps; this suite
// runs its cases on every `npm test`, with the setups README describes around it: `forRoot` reading
// the environment as the module is declared, `forRootAsync` reading it at start, and a guard that
// main.ts would set with `useGlobalGuards`.
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
import { ENTRA_EMULATOR_DEFAULTS, EntraEmulator, entraEmulatorEnvironment, overrideAzureAuthWithEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, type Adapter } from './support/test-app.js';

@Controller('api')
class TodoListController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  // No decorator: only a global guard protects it.
  @Get('me')
  me(@AzureUser() user: AzurePrincipal) {
    return { oid: user.oid, scopes: user.scopes, appOnly: user.appOnly };
  }

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @Get('todolist')
  list() {
    return [];
  }
}

/** As README's "Use it in your API": the options are read from the environment as the module is declared. */
@Module({
  imports: [AzureAuthModule.forRoot({ tenantId: process.env.AZURE_TENANT_ID!, clientId: process.env.AZURE_CLIENT_ID! })],
  controllers: [TodoListController],
  providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
})
class DeclaredFromEnvironmentModule {}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Reads the environment at start, insisting on its variables, as a ConfigService-based app does. */
@Module({
  imports: [
    AzureAuthModule.forRootAsync({
      useFactory: () => ({ tenantId: required('AZURE_TENANT_ID'), clientId: required('AZURE_CLIENT_ID'), authorityHost: process.env.AZURE_AUTHORITY_HOST }),
    }),
  ],
  controllers: [TodoListController],
  providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
})
class ReadAtStartModule {}

/** No APP_GUARD: its main.ts would call `app.useGlobalGuards(...)`. */
@Module({
  imports: [AzureAuthModule.forRoot({ tenantId: process.env.AZURE_TENANT_ID!, clientId: process.env.AZURE_CLIENT_ID! })],
  controllers: [TodoListController],
})
class GuardInMainModule {}

interface Setup {
  readonly name: string;
  /** How the test points the app at the emulator and puts the guard in place. */
  readonly start: (entra: EntraEmulator, adapter: Adapter) => Promise<INestApplication>;
}

function createApp(moduleRef: TestingModule, adapter: Adapter): INestApplication {
  return adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
}

const SETUPS: readonly Setup[] = [
  {
    name: 'forRoot reading process.env as it is declared, pointed at the emulator by overrideAzureAuthWithEmulator',
    start: async (entra, adapter) => createApp(await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: [DeclaredFromEnvironmentModule] }), entra).compile(), adapter),
  },
  {
    name: "forRootAsync reading the environment at start, given entraEmulatorEnvironment's variables",
    start: async (entra, adapter) => {
      const environment = entraEmulatorEnvironment(entra);
      const saved = Object.keys(environment).map((name) => [name, process.env[name]] as const);
      Object.assign(process.env, environment);
      try {
        return createApp(await Test.createTestingModule({ imports: [ReadAtStartModule] }).compile(), adapter);
      } finally {
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    },
  },
  {
    name: 'a guard main.ts sets, set again in the test with useGlobalGuards',
    start: async (entra, adapter) => {
      const app = createApp(await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: [GuardInMainModule] }), entra).compile(), adapter);
      app.useGlobalGuards(app.get(AzureAuthGuard));
      return app;
    },
  },
];

describe.each(ADAPTERS)("README's test of a user's own AppModule (%s)", (adapter) => {
  describe.each(SETUPS)('$name', (setup) => {
    let entra: EntraEmulator;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      entra = await EntraEmulator.start();
      app = await setup.start(entra, adapter);
      await app.listen(0, '127.0.0.1');
      url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    });
    afterAll(async () => {
      await app?.close();
      await entra?.stop();
    });

    it('lets a user with Todolist.Read in: 200, the caller reaching the handler', async () => {
      const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
      expect(await call(`${url}/api/todolist`, { token })).toMatchObject({ status: 200, body: [] });
      expect(await call(`${url}/api/me`, { token })).toMatchObject({ status: 200, body: { oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, scopes: ['Todolist.Read'], appOnly: false } });
    });

    it("asks for a token: 401 with a Bearer challenge naming the emulator's API", async () => {
      const answer = await call(`${url}/api/todolist`);
      expect({ status: answer.status, challenge: answer.headers.get('www-authenticate') }).toEqual({ status: 401, challenge: `Bearer realm="api://${entra.clientId}"` });
    });

    it('refuses a token without the scope: 403 insufficient_scope', async () => {
      const answer = await call(`${url}/api/todolist`, { token: entra.mintAccessToken({ scopes: ['Todolist.Write'] }) });
      expect(answer.status).toBe(403);
      expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });

    it('refuses an expired token: 401 token_expired', async () => {
      const answer = await call(`${url}/api/todolist`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], expiresInSeconds: -600 }) });
      expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_expired' });
    });

    it('refuses a v1 token of another tenant: 401 invalid_issuer', async () => {
      const token = entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'], tenantId: '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a' });
      expect((await call(`${url}/api/todolist`, { token })).body.reason).toBe('invalid_issuer');
    });

    it('guards every route, one without decorators too (the guard is global), but @Public()', async () => {
      expect((await call(`${url}/api/me`)).status).toBe(401);
      expect(await call(`${url}/api/health`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    });
  });
});
