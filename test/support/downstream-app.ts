import { rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { Body, Controller, Get, Module, Post, UseGuards, type INestApplication, type LoggerService } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { inspect } from 'node:util';
import {
  AzureAuthGuard,
  AzureAuthModule,
  AzureCaller,
  AzureDownstreamApi,
  AzurePassportAuthGuard,
  AzurePermissionsGuard,
  type AzureAuthModuleOptions,
} from 'nestjs-azure-auth';
import { EntraEmulator, decodeJwtUnverified, type EntraEmulatorOptions } from 'nestjs-azure-auth/testing';
import { APP_GUARD } from '@nestjs/core';
import type { Adapter } from './test-app.js';

/** What a route tells of the downstream token it got: its claims, never the token. */
function claimsOf(accessToken: string) {
  const { payload } = decodeJwtUnverified(accessToken);
  return { oid: payload.oid, tid: payload.tid, aud: payload.aud, scp: payload.scp, roles: payload.roles, uti: payload.uti, appid: payload.appid ?? payload.azp };
}

/** Routes that call downstream the ways an API does: Graph on the caller's behalf, another API, Graph as the API itself. */
@Controller('api')
export class DownstreamController {
  constructor(private readonly downstream: AzureDownstreamApi) {}

  @Get('profile')
  async profile(@AzureCaller() caller: AzureCaller) {
    const answer = await this.downstream.fetch(caller, '/v1.0/me', { scopes: ['User.Read'] });
    const { displayName, mail, userPrincipalName, id } = (await answer.json()) as Record<string, unknown>;
    return { status: answer.status, displayName, mail, userPrincipalName, id };
  }

  @Get('groups')
  async groups(@AzureCaller() caller: AzureCaller) {
    const answer = await this.downstream.fetch(caller, '/v1.0/me/transitiveMemberOf', { scopes: ['https://graph.microsoft.com/User.Read'] });
    return { status: answer.status, body: await answer.json() };
  }

  @Post('member-objects')
  async memberObjects(@AzureCaller() caller: AzureCaller, @Body() body: { userId: string }) {
    const answer = await this.downstream.fetch(caller, `/v1.0/users/${encodeURIComponent(body.userId)}/getMemberObjects`, {
      asApp: true,
      scopes: ['https://graph.microsoft.com/.default'],
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ securityEnabledOnly: true }),
    });
    return { status: answer.status, body: await answer.json() };
  }

  @Get('obo-token')
  async oboToken(@AzureCaller() caller: AzureCaller) {
    const token = await this.downstream.acquireTokenOnBehalfOf(caller, ['User.Read']);
    return { claims: claimsOf(token.accessToken), serialized: JSON.stringify(token), inspected: inspect(token) };
  }

  @Get('other-api-token')
  async otherApiToken(@AzureCaller() caller: AzureCaller) {
    const token = await this.downstream.acquireTokenOnBehalfOf(caller, [`api://${OTHER_API_ID}/Reports.Read`]);
    return { claims: claimsOf(token.accessToken) };
  }

  @Get('app-token')
  async appToken(@AzureCaller() caller: AzureCaller) {
    const token = await this.downstream.acquireTokenForApp([`api://${OTHER_API_ID}/.default`], { caller });
    return { claims: claimsOf(token.accessToken) };
  }
}

/** The same routes behind the passport door (`AzurePassportAuthGuard`), without the global guard. */
@UseGuards(AzurePassportAuthGuard, AzurePermissionsGuard)
@Controller('api')
export class PassportDownstreamController extends DownstreamController {}

/** Another API of the tenant, called with its own scopes. */
export const OTHER_API_ID = '7b4c2d1e-3f5a-4b6c-8d7e-9f0a1b2c3d4e';

/** Keeps every line at every level, to check that no token or secret reaches a log. */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  private readonly record = (message: unknown, ...params: unknown[]): void => {
    this.lines.push([message, ...params].map((part) => (typeof part === 'string' ? part : inspect(part, { depth: 5 }))).join(' '));
  };
  readonly log = this.record;
  readonly error = this.record;
  readonly warn = this.record;
  readonly debug = this.record;
  readonly verbose = this.record;
  readonly fatal = this.record;
}

/** An emulator over HTTPS and an agent that trusts it, and only it. */
export async function startHttpsEmulator(options: EntraEmulatorOptions = {}): Promise<{ entra: EntraEmulator; agent: Agent }> {
  const entra = await EntraEmulator.start({ https: true, ...options });
  return { entra, agent: new Agent({ ca: entra.certificateAuthority, keepAlive: true }) };
}

/** Closes what a suite started: its apps, the emulator and its agent, a temporary directory. */
export async function closeAll(apps: readonly INestApplication[], entra: EntraEmulator | undefined, agent: Agent | undefined, directory?: string): Promise<void> {
  for (const app of apps) await app.close();
  await entra?.stop();
  agent?.destroy();
  if (directory) await rm(directory, { recursive: true, force: true });
}

/** Module options for the HTTPS emulator, with the API's client secret unless told otherwise. */
export function downstreamOptions(entra: EntraEmulator, agent: Agent, extra: Partial<AzureAuthModuleOptions> = {}): AzureAuthModuleOptions {
  return {
    tenantId: entra.tenantId,
    clientId: entra.clientId,
    authorityHost: entra.authorityHost,
    httpAgent: agent,
    warmUp: false,
    clientCredential: { clientSecret: entra.clientSecret },
    ...extra,
  };
}

/** The downstream routes behind a global AzureAuthGuard (or the passport door), on loopback; every log line goes to `logger` when given. */
export async function startDownstreamApp(
  adapter: Adapter,
  options: AzureAuthModuleOptions,
  logger?: LoggerService,
  door: 'guard' | 'passport' = 'guard',
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [AzureAuthModule.forRoot(options)],
    controllers: [door === 'guard' ? DownstreamController : PassportDownstreamController],
    providers: door === 'guard' ? [{ provide: APP_GUARD, useClass: AzureAuthGuard }] : [],
  })
  class DownstreamAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [DownstreamAppModule] }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: logger ?? false })
      : moduleRef.createNestApplication({ logger: logger ?? false });
  if (logger) app.useLogger(logger);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
