import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import {
  AzureAuthGuard,
  AzureAuthModule,
  AzurePermissionsGuard,
  AzureTokenVerifier,
  AzureUser,
  Public,
  Scopes,
  type AzureAuthFailureEvent,
  type AzureAuthModuleOptions,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, emulatorOptions, startApp, type Adapter } from './support/test-app.js';

// Findings of the security review (issue 20) that need a running app: each case failed on the code
// before the fix.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Resolver()
class OperationResolver {
  @UseGuards(AzureAuthGuard)
  @Scopes('Todolist.ReadWrite')
  @Query(() => String, { nullable: true })
  write(): string {
    return 'written';
  }

  /** Resolved in the same operation after the refused field: it must not see the refused caller. */
  @Public()
  @Query(() => String, { nullable: true })
  async whoami(@AzureUser('oid') oid: string | undefined): Promise<string | null> {
    await sleep(20);
    return oid ?? null;
  }
}

describe('GraphQL: a refused caller is invisible to a @Public field of the same operation (Apollo)', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await startApp('express', {
      imports: [
        AzureAuthModule.forRoot(emulatorOptions(entra)),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
      ],
      providers: [OperationResolver],
    }));
    // Metadata and keys loaded: the refused field's guard then decides at once, before the @Public field resolves.
    await call(`${url}/graphql`, { method: 'POST', token: entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'] }), body: { query: '{ write }' } });
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('answers the refused field with its refusal and the @Public one without the caller', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    const answer = await call(`${url}/graphql`, { method: 'POST', token, body: { query: '{ write whoami }' } });
    expect(answer.body.data).toEqual({ write: null, whoami: null });
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: ['write'] })]);
  });

  it('still gives the @Public field the caller when nothing refused it', async () => {
    const token = entra.mintAccessToken({ scopes: ['Todolist.ReadWrite'] });
    const answer = await call(`${url}/graphql`, { method: 'POST', token, body: { query: '{ write whoami }' } });
    expect(answer.body.data).toEqual({ write: 'written', whoami: expect.any(String) });
  });
});

/** A handler that tries to change the caller it was given, as a careless one might. */
@Controller('api')
class MutatingController {
  @Get('mutate')
  mutate(@AzureUser() user: AzurePrincipal): { groups: unknown; threw: boolean } {
    let threw = false;
    try {
      (user.claims.groups as string[]).push('00000000-0000-4000-8000-000000000bad');
    } catch {
      threw = true;
    }
    return { groups: user.claims.groups, threw };
  }
}

describe.each(ADAPTERS)('over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  const apps: INestApplication[] = [];
  const events: AzureAuthFailureEvent[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await entra?.stop();
  });
  beforeEach(() => {
    events.length = 0;
  });

  async function appWith(extra: Partial<AzureAuthModuleOptions> = {}): Promise<string> {
    const { app, url } = await startApp(adapter, {
      imports: [AzureAuthModule.forRoot(emulatorOptions(entra, { onAuthFailure: (event) => void events.push(event), ...extra }))],
      controllers: [MutatingController],
      providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
    });
    apps.push(app);
    return url;
  }

  it('hands out the cached caller frozen to its nested claims: a change by one handler never reaches the next request', async () => {
    const url = await appWith();
    const groups = ['4e3d2c1b-0a9f-4e8d-8c7b-6a5f4e3d2c1b'];
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'], claims: { groups } });
    const first = await call(`${url}/api/mutate`, { token });
    const second = await call(`${url}/api/mutate`, { token });
    expect(first.body).toEqual({ groups, threw: true });
    expect(second.body).toEqual({ groups, threw: true });
  });

  it('marks the claims of a refused token as unverified and strips control characters from them', async () => {
    const url = await appWith();
    const forged = `${entra.tenantId}\r\nINFO login ok for admin`;
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'], claims: { tid: forged }, expiresInSeconds: -3600 });
    expect((await call(`${url}/api/mutate`, { token })).status).toBe(401);
    expect(events).toHaveLength(1);
    expect(events[0].claims).toMatchObject({ verified: false, tid: `${entra.tenantId}INFO login ok for admin` });
    expect(JSON.stringify(events[0].claims)).not.toMatch(/\\r|\\n/);
  });

  it('marks the claims of a verified caller refused by a permission as verified', async () => {
    const url = await appWith({ allowedClientApps: ['0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f'] });
    expect((await call(`${url}/api/mutate`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) })).status).toBe(403);
    expect(events.map((event) => [event.error.reason, event.claims?.verified, event.claims?.tid])).toEqual([['client_not_allowed', true, entra.tenantId]]);
  });

  it('refuses a token re-spelled with characters above U+00FF that keep their low byte (verify() called directly)', async () => {
    await appWith();
    const verifier = apps.at(-1)!.get(AzureTokenVerifier);
    const token = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    await expect(Promise.resolve(verifier.verify(token))).resolves.toMatchObject({ tid: entra.tenantId });
    // Over HTTP such a header cannot even be sent; a custom transport hands the string on as it is.
    for (const at of [0, token.indexOf('.') + 1, token.lastIndexOf('.') + 1]) {
      const respelled = token.slice(0, at) + String.fromCharCode(0x100 + token.charCodeAt(at)) + token.slice(at + 1);
      expect(() => verifier.verify(respelled)).toThrow(expect.objectContaining({ reason: 'malformed_token' }));
    }
  });
});

/** Another authentication scheme's guard that puts its own user on the request. */
class ImpostorGuard {
  canActivate(context: { getArgByIndex(index: number): Record<string, unknown> }): boolean {
    context.getArgByIndex(0).user = { oid: 'x', tid: 'x', sub: 'x', scopes: ['Todolist.Read'], roles: ['Todolist.Read.All'], appOnly: true, guest: false, clientId: 'x' };
    return true;
  }
}

@Controller('api')
@UseGuards(ImpostorGuard, AzurePermissionsGuard)
class ImpostorController {
  @Scopes('Todolist.Read')
  @Get('impostor')
  read(): string {
    return 'read';
  }
}

describe.each(ADAPTERS)('AzurePermissionsGuard behind another scheme over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await startApp(adapter, { imports: [AzureAuthModule.forRoot(emulatorOptions(entra))], controllers: [ImpostorController] }));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('refuses a request.user this module did not create, even one shaped like a caller', async () => {
    const answer = await call(`${url}/api/impostor`);
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_missing' });
  });
});
