import { Controller, Delete, Get, HttpCode, UseGuards } from '@nestjs/common';
import { AzureAuthGuard, AzureAuthModule, RequireAuthContext, Scopes } from 'nestjs-azure-auth';
import { EntraEmulator, type MintOptions } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, emulatorOptions, startApp } from './support/test-app.js';

/** Deleting is the sensitive step: the scope, and then the authentication context c1. */
@UseGuards(AzureAuthGuard)
@Controller('api')
class StepUpController {
  @Scopes('Todolist.ReadWrite')
  @RequireAuthContext('c1')
  @HttpCode(204)
  @Delete('items/1')
  remove() {}

  @Scopes('Todolist.Read')
  @RequireAuthContext('c1', 'c2')
  @Get('either')
  either() {
    return { ok: true };
  }
}

/** Written on the class: every route of the controller needs c3. */
@UseGuards(AzureAuthGuard)
@RequireAuthContext('c3')
@Controller('vault')
class VaultController {
  @Get()
  open() {
    return { vault: true };
  }
}

const decode = (claims: string) => JSON.parse(Buffer.from(claims, 'base64').toString('utf8'));

describe.each(ADAPTERS)('step-up with an authentication context over %s', (adapter) => {
  let entra: EntraEmulator;
  let started: Awaited<ReturnType<typeof startApp>>;
  let realm: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    started = await startApp(adapter, { imports: [AzureAuthModule.forRoot(emulatorOptions(entra))], controllers: [StepUpController, VaultController] });
    realm = `api://${entra.clientId}`;
  });
  afterAll(async () => {
    await started?.app.close();
    await entra?.stop();
  });

  const token = (claims: Record<string, unknown>, extra: MintOptions = {}) => entra.mintAccessToken({ scopes: ['Todolist.ReadWrite', 'Todolist.Read'], claims, ...extra });
  const remove = (t: string) => call(`${started.url}/api/items/1`, { method: 'DELETE', token: t });

  it('lets in a stepped-up token (acrs holds c1)', async () => {
    const answer = await remove(token({ acrs: ['c1'], xms_cc: ['cp1'] }));
    expect(answer.status).toBe(204);
  });

  it('challenges a cp1 client without the context: 401 insufficient_claims with the claims to ask for', async () => {
    const answer = await remove(token({ xms_cc: ['cp1'] }));
    expect(answer.status).toBe(401);
    const claims = Buffer.from('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}').toString('base64');
    expect(answer.headers.get('www-authenticate')).toBe(
      `Bearer realm="${realm}", authorization_uri="${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/authorize", error="insufficient_claims", ` +
        `error_description="${answer.body.message}", claims="${claims}"`,
    );
    expect(decode(answer.body.claims)).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } });
    expect(answer.body).toMatchObject({ statusCode: 401, reason: 'insufficient_claims', authContexts: ['c1'] });
  });

  it('challenges a token that satisfied another context only', async () => {
    const answer = await remove(token({ acrs: ['c2'], xms_cc: ['cp1'] }));
    expect([answer.status, answer.body.reason]).toEqual([401, 'insufficient_claims']);
  });

  it('tells a client that cannot answer a challenge what it lacks: 403 auth_context_required with the hint', async () => {
    const answer = await remove(token({}));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ reason: 'auth_context_required', authContexts: ['c1'] });
    expect(answer.body.hint).toContain("clientCapabilities: ['cp1']");
    expect(answer.body.claims).toBeUndefined();
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}", error="insufficient_scope", error_description="${answer.body.message}"`);
  });

  it('never takes a string acrs for the list (hostile "c1" string: refused, no 500)', async () => {
    const answer = await remove(token({ acrs: 'c1', xms_cc: 'cp1' }));
    expect([answer.status, answer.body.reason]).toEqual([403, 'auth_context_required']);
  });

  it('checks the scope before the context: a missing scope is 403 insufficient_permissions, not a challenge', async () => {
    const answer = await remove(token({ xms_cc: ['cp1'] }, { scopes: ['Todolist.Read'] }));
    expect([answer.status, answer.body.reason]).toEqual([403, 'insufficient_permissions']);
  });

  it('accepts any one of several contexts, and asks for them all with values', async () => {
    expect((await call(`${started.url}/api/either`, { token: token({ acrs: ['c2'] }) })).status).toBe(200);
    const answer = await call(`${started.url}/api/either`, { token: token({ xms_cc: ['cp1'] }) });
    expect(decode(answer.body.claims)).toEqual({ access_token: { acrs: { essential: true, values: ['c1', 'c2'] } } });
  });

  it('applies a context written on the controller to its routes', async () => {
    expect((await call(`${started.url}/vault`, { token: token({ acrs: ['c3'] }) })).status).toBe(200);
    const answer = await call(`${started.url}/vault`, { token: token({ acrs: ['c1'] }) });
    expect([answer.status, answer.body.reason, answer.body.authContexts]).toEqual([403, 'auth_context_required', ['c3']]);
  });

  it('refuses an app-only token on a stepped-up route', async () => {
    const answer = await call(`${started.url}/vault`, { token: entra.mintAccessToken({ kind: 'app', roles: ['Todolist.Read.All'] }) });
    expect([answer.status, answer.body.reason]).toEqual([403, 'auth_context_required']);
  });
});

describe('@RequireAuthContext()', () => {
  it.each([[[]], [['']], [['C1']], [['c0']], [['c100']], [['c1 c2']]])('refuses %j at definition time', (ids) => {
    expect(() => RequireAuthContext(...(ids as string[]))).toThrow(TypeError);
  });
});
