import { Module, ValidationPipe, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AzureAuthGuard, AzureAuthModule, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { HealthModule } from './health/health.module.js';
import { MeModule } from './me/me.module.js';
import { TodoListModule, type TodoListOptions } from './todolist/todolist.module.js';

/** What {@link AppModule.register} needs: the module options, the TodoList's, and in dev mode the emulator's module. */
export interface AppModuleOptions {
  auth: AzureAuthModuleOptions;
  todoList?: TodoListOptions;
  imports?: ModuleMetadata['imports'];
}

/**
 * The TodoList API. Every route needs a valid Entra access token (the guard is global) unless it
 * says `@Public()`; the routes state what else they need with `@Scopes`, `@AppPermissions`, `@Roles`, `@Groups`
 * and `@RequireAuthContext`.
 */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      // Global, so that feature modules (MeModule) inject AzureDownstreamApi.
      imports: [AzureAuthModule.forRoot({ ...options.auth, isGlobal: true }), HealthModule, MeModule, TodoListModule.register(options.todoList), ...(options.imports ?? [])],
      providers: [
        // Secure by default: a route added later without decorators still needs a valid token.
        { provide: APP_GUARD, useClass: AzureAuthGuard },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }
}
