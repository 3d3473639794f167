import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Roles, Scopes, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import type { EntraEmulator } from 'nestjs-azure-auth/testing';
import { setupAzureAuthSwagger } from 'nestjs-azure-auth/swagger';
import { emulatorOptions, type Adapter } from './test-app.js';

/** Swagger UI's own client id in the Swagger suites. */
export const SWAGGER_CLIENT_ID = '5d1e3f7a-9b2c-4d8e-a6f0-1c3b5d7e9f21';

/** No @UseGuards here: the guard is global, as in the sample app, so every undecorated route needs a token. */
@Controller('api')
class DocumentedController {
  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @Get('todolist')
  list(@AzureUser('scopes') scopes: string[]) {
    return { scopes };
  }

  @Roles('TaskAdmin')
  @Get('admin')
  admin() {
    return { admin: true };
  }

  @Get('me')
  me() {
    return { me: true };
  }
}

/** An app documented with setupAzureAuthSwagger, on loopback; its module trusts `entra`'s tenant unless `auth` says otherwise. */
export async function startDocumentedApp(
  adapter: Adapter,
  entra: EntraEmulator,
  auth: AzureAuthModuleOptions = emulatorOptions(entra),
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [AzureAuthModule.forRoot(auth)],
    providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
    controllers: [DocumentedController],
  })
  class DocumentedAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [DocumentedAppModule] }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  setupAzureAuthSwagger(app, {
    title: 'TodoList API',
    swaggerClientId: SWAGGER_CLIENT_ID,
    scopes: { 'Todolist.Read': 'Read your tasks', 'Todolist.ReadWrite': 'Read and change your tasks' },
    // Jest's module loader cannot load @fastify/static 10 (it requires an ESM-only package, which Jest
    // supports from Node 24.9): Swagger UI on Fastify is proven on the built sample app (dev-swagger-ui).
    customOptions: adapter === 'fastify' ? { ui: false } : undefined,
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
