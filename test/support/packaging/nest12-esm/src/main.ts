// A Nest 12 ESM API as a user writes it, against the packed package and its .d.ts.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';

@Controller('api')
class TodoListController {
  @Scopes('Todolist.Read')
  @Get('todolist')
  list(@AzureUser() user: AzurePrincipal): { oid: string; scopes: readonly string[] } {
    return { oid: user.oid, scopes: user.scopes };
  }

  @Public()
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({
  imports: [
    AzureAuthModule.forRoot({
      tenantId: process.env.AZURE_TENANT_ID ?? '',
      clientId: process.env.AZURE_CLIENT_ID ?? '',
      authorityHost: process.env.AZURE_AUTHORITY_HOST,
    }),
  ],
  controllers: [TodoListController],
  providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
console.log(JSON.stringify({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1') }));
