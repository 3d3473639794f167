import { Controller, Get, Module, type ModuleMetadata, type INestApplication, Post, UseGuards } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  AppPermissions,
  AzureAuthGuard,
  AzureAuthModule,
  AzureUser,
  Public,
  Roles,
  Scopes,
  type AzureAuthModuleOptions,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import type { EntraEmulator } from 'nestjs-azure-auth/testing';

export type Adapter = 'express' | 'fastify';
export const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** Routes that exercise every decorator; the controllers below decide how they are guarded. */
export class ProbeRoutes {
  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Get('me')
  me(@AzureUser() user: AzurePrincipal, @AzureUser('oid') oid: string) {
    return { ...user, claims: undefined, oidField: oid };
  }

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @AppPermissions('Todolist.Read.All', 'Todolist.ReadWrite.All')
  @Get('todolist')
  list() {
    return [];
  }

  @Scopes('Todolist.ReadWrite')
  @AppPermissions('Todolist.ReadWrite.All')
  @Post('todolist')
  create() {
    return { id: 1 };
  }

  @AppPermissions('Todolist.Read.All')
  @Get('daemon-only')
  daemonOnly() {
    return { ok: true };
  }

  @Roles('TaskAdmin')
  @Get('admin')
  admin() {
    return { admin: true };
  }
}

/** The probe routes guarded per controller. */
@UseGuards(AzureAuthGuard)
@Controller('api')
export class ProbeController extends ProbeRoutes {}

/** The probe routes without any @UseGuards: only a global guard protects them. */
@Controller('api')
export class UnguardedProbeController extends ProbeRoutes {}

/** Options pointing the module at the emulator, with warm-up off so tests control fetches. */
export function emulatorOptions(entra: EntraEmulator, extra: Partial<AzureAuthModuleOptions> = {}): AzureAuthModuleOptions {
  return { tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost, warmUp: false, ...extra };
}

/** Starts a Nest app on the given adapter, listening on loopback so tests use real HTTP. */
export async function startApp(adapter: Adapter, metadata: ModuleMetadata): Promise<{ app: INestApplication; url: string }> {
  @Module(metadata)
  class TestAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, url: url.replace('[::1]', '127.0.0.1') };
}

/** The probe app guarded per controller. */
export function probeApp(adapter: Adapter, options: AzureAuthModuleOptions) {
  return startApp(adapter, { imports: [AzureAuthModule.forRoot(options)], controllers: [ProbeController] });
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A real HTTP call over loopback. */
export async function call(url: string, init: { method?: string; token?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body };
}
