import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DEFAULT_AUTHORITY_HOST } from 'nestjs-azure-auth';
import { setupAzureAuthSwagger } from 'nestjs-azure-auth/swagger';
import { AppModule, type AppModuleOptions } from './app.module.js';
import {
  DEV_MODE_ALLOW_NETWORK,
  devModeBeyondLoopbackError,
  parseAppConfig,
  startupErrorMessage,
  type AppConfig,
  type HttpAdapterName,
} from './config/app-config.js';
import { parseClientCredential } from './config/credentials.js';
import { isLoopback } from './config/loopback.js';
import type { DevMode } from './dev/dev-mode.js';
import { loopbackOnly } from './dev/loopback-only.js';

const logger = new Logger('TodoListApi');
/** Where Swagger UI is served (its JSON at `/docs-json`). */
const DOCS_PATH = 'docs';

/** What a wildcard address accepts, and where a caller on this machine reaches it. */
const WILDCARDS: Readonly<Record<string, { reach: string; local: string }>> = {
  '0.0.0.0': { reach: 'every IPv4 interface', local: '127.0.0.1' },
  '::': { reach: 'every interface', local: '::1' },
};

const httpUrl = (address: string, port: number) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

/** Where the server really listens: the address the socket was bound to, whatever HOST said. */
function boundAddress(app: INestApplication): AddressInfo {
  return (app.getHttpServer() as { address(): AddressInfo }).address();
}

/** The app on the adapter HTTP_ADAPTER names; Fastify's is imported only when chosen. */
async function createApp(module: DynamicModule, httpAdapter: HttpAdapterName): Promise<INestApplication> {
  // Without abortOnError: false, Nest would abort() the process on a bad option instead of letting us explain it.
  if (httpAdapter === 'express') return NestFactory.create(module, { abortOnError: false });
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(module, new FastifyAdapter(), { abortOnError: false });
}

async function start(config: AppConfig): Promise<void> {
  let dev: DevMode | undefined;
  let options: AppModuleOptions;
  if (config.mode === 'dev') {
    // Imported only in dev mode: a configured API never loads the emulator, which signs anything.
    const { startDevMode } = await import('./dev/dev-mode.js');
    dev = await startDevMode(config.swaggerClientId);
    options = { auth: dev.auth, todoList: dev.todoList, imports: [dev.module] };
  } else {
    // The API's own credential, for the routes that call Microsoft Graph on the caller's behalf.
    options = { auth: { ...config.auth, clientCredential: parseClientCredential(process.env) }, todoList: { adminGroupId: config.adminGroupId } };
  }
  let app: INestApplication | undefined;
  let bound: AddressInfo;
  try {
    app = await createApp(AppModule.register(options), config.httpAdapter);
    app.enableShutdownHooks();
    // Registered before Swagger's routes, so it runs first.
    if (dev) app.use(loopbackOnly(DOCS_PATH));
    setupAzureAuthSwagger(app, {
      title: 'TodoList API',
      version: '1.0',
      path: DOCS_PATH,
      // Swagger UI's own app registration (SPA platform, redirect URI {origin}/docs/oauth2-redirect.html);
      // dev mode signs in as the emulator's own client unless one is given (the emulator then knows it too).
      // It signs in where the module's tokens come from: the tenant, or AZURE_AUTHORITY (a B2C policy, External ID).
      swaggerClientId: config.swaggerClientId ?? dev?.swaggerClientId,
      // Dev mode: the browser signs in at the emulator's plain-HTTP door (it does not trust the emulator's certificate authority).
      authorityHost: dev?.swaggerAuthorityHost,
      scopes: { 'Todolist.Read': 'Read your task list', 'Todolist.ReadWrite': 'Read and change your task list' },
    });
    // Fastify alone would bind localhost when no host is given: a deployed API listens on every interface.
    const host = config.host ?? (config.httpAdapter === 'fastify' ? '0.0.0.0' : undefined);
    await (host === undefined ? app.listen(config.port) : app.listen(config.port, host));
    bound = boundAddress(app);
    // A loopback name (localhost) binds whatever it resolves to: check what was bound before any token is printed.
    if (config.mode === 'dev' && !config.allowNetwork && !isLoopback(bound.address)) {
      throw devModeBeyondLoopbackError(`HOST=${config.host} bound ${bound.address}, which`);
    }
  } catch (error) {
    await app?.close().catch(() => undefined);
    await dev?.stop();
    throw error;
  }

  const wildcard = WILDCARDS[bound.address];
  const url = httpUrl(wildcard?.local ?? bound.address, bound.port);
  if (dev) {
    logger.warn(
      isLoopback(bound.address)
        ? 'Dev mode: tokens are signed by a local Entra emulator. Never expose this process to a network.'
        : `Dev mode listens beyond loopback (${DEV_MODE_ALLOW_NETWORK}=1): whoever holds a token printed below can call it. Swagger UI is served to this machine only.`,
    );
    // Not a log line: the block is meant to be copied, so it carries no logger prefix.
    process.stdout.write(dev.examples(url, `${url}/${DOCS_PATH}`));
  } else {
    const { tenantId, clientId, authorityHost, allowedTenants, authority } = options.auth;
    const tenants = allowedTenants ? ` (trusted tenants: ${allowedTenants.join(', ')})` : '';
    logger.log(
      authority === undefined
        ? `Accepting Entra access tokens of tenant ${tenantId}${tenants} for API ${clientId} from ${authorityHost ?? DEFAULT_AUTHORITY_HOST}`
        : `Accepting access tokens of authority ${authority} for API ${clientId}`,
    );
  }
  logger.log(`Listening on ${httpUrl(bound.address, bound.port)}${wildcard ? ` (${wildcard.reach}; from this machine: ${url})` : ''}`);
}

try {
  await start(parseAppConfig(process.env));
} catch (error) {
  logger.error(`Not starting: ${startupErrorMessage(error)}`);
  process.exitCode = 1;
  // Whatever a failed start left open (a socket, a timer) must not keep the process alive.
  setTimeout(() => process.exit(1), 2000).unref();
}
