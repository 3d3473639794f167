// The example of README.md "Test your own API without Azure", kept here so it stays true.
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Scopes } from 'nestjs-azure-auth';
import { ENTRA_EMULATOR_DEFAULTS, EntraEmulator } from 'nestjs-azure-auth/testing';

@Controller('todolist')
class TodoListController {
  @Scopes('Todolist.Read')
  @Get()
  list(@AzureUser('oid') owner: string) {
    return [{ owner, description: 'Try the emulator' }];
  }
}

describe('TodoList API', () => {
  let entra: EntraEmulator;
  let app: INestApplication;

  beforeAll(async () => {
    entra = await EntraEmulator.start(); // loopback Entra: metadata, keys, and a token minter
    @Module({
      imports: [
        AzureAuthModule.forRoot({ tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost }),
      ],
      controllers: [TodoListController],
      providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await entra.stop();
  });

  it('lets a user with Todolist.Read in', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const response = await request(app.getHttpServer()).get('/todolist').set('Authorization', `Bearer ${token}`).expect(200);
    expect(response.body).toEqual([{ owner: ENTRA_EMULATOR_DEFAULTS.userObjectId, description: 'Try the emulator' }]);
  });

  it('refuses a user without the scope with 403 and names the scope', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Write'] });
    const response = await request(app.getHttpServer()).get('/todolist').set('Authorization', `Bearer ${token}`).expect(403);
    expect(response.headers['www-authenticate']).toContain('scope="Todolist.Read"');
  });

  it('refuses a v1 token of another tenant', async () => {
    const token = entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'], tenantId: '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a' });
    const response = await request(app.getHttpServer()).get('/todolist').set('Authorization', `Bearer ${token}`).expect(401);
    expect(response.body.reason).toBe('invalid_issuer');
  });

  it('refuses a daemon: the route asks for a delegated scope only', async () => {
    const token = entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] });
    await request(app.getHttpServer()).get('/todolist').set('Authorization', `Bearer ${token}`).expect(403);
  });
});
