'use strict';
// A Nest 11 CommonJS API in plain JavaScript: the package (ESM) is loaded with require(), which
// Node 20.19+ and 22.12+ do for ES modules without top-level await. The decorators are applied by
// hand, as TypeScript's output would, so that the app needs no build.
require('reflect-metadata');
const { Controller, Get, Module, Req } = require('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core');
const { AzureAuthGuard, AzureAuthModule, Public, Scopes } = require('nestjs-azure-auth');

class TodoListController {
  list(request) {
    return { oid: request.user.oid, scopes: request.user.scopes };
  }

  health() {
    return { status: 'ok' };
  }
}
const method = (name) => Object.getOwnPropertyDescriptor(TodoListController.prototype, name);
const firstParameter = (decorator) => (target, key) => decorator(target, key, 0);
Reflect.decorate([Get('todolist'), Scopes('Todolist.Read'), firstParameter(Req())], TodoListController.prototype, 'list', method('list'));
Reflect.decorate([Get('health'), Public()], TodoListController.prototype, 'health', method('health'));
Reflect.decorate([Controller('api')], TodoListController);

class AppModule {}
Reflect.decorate(
  [
    Module({
      imports: [
        AzureAuthModule.forRoot({
          tenantId: process.env.AZURE_TENANT_ID,
          clientId: process.env.AZURE_CLIENT_ID,
          authorityHost: process.env.AZURE_AUTHORITY_HOST,
        }),
      ],
      controllers: [TodoListController],
      providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
    }),
  ],
  AppModule,
);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  console.log(JSON.stringify({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1') }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
