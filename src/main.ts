import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DEFAULT_AUTHORITY_HOST } from 'nestjs-azure-auth';
import { setupAzureAuthSwagger } from 'nestjs-azure-auth/swagger';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { parseAppConfig, startupErrorMessage, type AppConfig } from './config/app-config.js';
import type { DevMode } from './dev/dev-mode.js';

const logger = new Logger('TodoListApi');
/** Where Swagger UI is served (its JSON at `/docs-json`). */
const DOCS_PATH = 'docs';

/** A URL a caller on this machine can use, also when the app listens on every interface. */
function localUrl(app: INestApplication, host: string | undefined): string {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const name = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

async function start(config: AppConfig): Promise<void> {
  let dev: DevMode | undefined;
  let options: AppModuleOptions;
  if (config.mode === 'dev') {
    // Imported only in dev mode: a configured API never loads the emulator, which signs anything.
    const { startDevMode } = await import('./dev/dev-mode.js');
    dev = await startDevMode();
    options = { auth: dev.auth, imports: [dev.module] };
  } else {
    options = { auth: config.auth };
  }
  let app: INestApplication | undefined;
  try {
    // Without abortOnError: false, Nest would abort() the process on a bad option instead of letting us explain it.
    app = await NestFactory.create(AppModule.register(options), { abortOnError: false });
    app.enableShutdownHooks();
    setupAzureAuthSwagger(app, {
      title: 'TodoList API',
      version: '1.0',
      path: DOCS_PATH,
      // Swagger UI's own app registration (SPA platform, redirect URI {origin}/docs/oauth2-redirect.html);
      // the emulator accepts any client, so dev mode needs none.
      swaggerClientId: config.swaggerClientId ?? dev?.swaggerClientId,
      scopes: { 'Todolist.Read': 'Read your task list', 'Todolist.ReadWrite': 'Read and change your task list' },
    });
    await (config.host === undefined ? app.listen(config.port) : app.listen(config.port, config.host));
  } catch (error) {
    await app?.close().catch(() => undefined);
    await dev?.stop();
    throw error;
  }

  const url = localUrl(app, config.host);
  if (dev) {
    logger.warn('Dev mode: tokens are signed by a local Entra emulator. Never expose this process to a network.');
    // Not a log line: the block is meant to be copied, so it carries no logger prefix.
    process.stdout.write(dev.examples(url, `${url}/${DOCS_PATH}`));
  } else {
    const { tenantId, clientId, authorityHost, allowedTenants } = options.auth;
    const tenants = allowedTenants ? ` (trusted tenants: ${allowedTenants.join(', ')})` : '';
    logger.log(`Accepting Entra access tokens of tenant ${tenantId}${tenants} for API ${clientId} from ${authorityHost ?? DEFAULT_AUTHORITY_HOST}`);
  }
  logger.log(`Listening on ${url}${config.host === undefined ? ' (all interfaces)' : ''}`);
}

try {
  await start(parseAppConfig(process.env));
} catch (error) {
  logger.error(`Not starting: ${startupErrorMessage(error)}`);
  process.exitCode = 1;
  // Whatever a failed start left open (a socket, a timer) must not keep the process alive.
  setTimeout(() => process.exit(1), 2000).unref();
}
