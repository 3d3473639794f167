import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { AzureAuthGuard, AzureAuthModule, AzureUser, DirectoryRoles, Groups, type AzurePrincipal } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { ADAPTERS, call, emulatorOptions, startApp } from './support/test-app.js';

const ADMINS = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';
const AUDITORS = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';

@UseGuards(AzureAuthGuard)
@Controller('api')
class MembershipController {
  @Groups(ADMINS, AUDITORS)
  @Get('stats')
  stats(@AzureUser() caller: AzurePrincipal) {
    return { groups: caller.groups, wids: caller.wids };
  }

  @DirectoryRoles(GLOBAL_ADMINISTRATOR)
  @Get('tenant-settings')
  settings() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('@Groups and @DirectoryRoles over %s', (adapter) => {
  let entra: EntraEmulator;
  let started: Awaited<ReturnType<typeof startApp>>;
  // Where an overage token says the groups are: it must never be called.
  let claimSource: Server;
  let claimSourceHits = 0;

  beforeAll(async () => {
    claimSource = createServer((_request, response) => {
      claimSourceHits += 1;
      response.end('{"value":[]}');
    });
    await new Promise<void>((resolve) => claimSource.listen(0, '127.0.0.1', resolve));
    entra = await EntraEmulator.start();
    started = await startApp(adapter, { imports: [AzureAuthModule.forRoot(emulatorOptions(entra))], controllers: [MembershipController] });
  });
  afterAll(async () => {
    await started?.app.close();
    await entra?.stop();
    await new Promise((resolve) => claimSource?.close(resolve));
  });

  const get = (path: string, claims: Record<string, unknown>) =>
    call(`${started.url}/api/${path}`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'], claims }) });

  it('lets in a member of any one of the groups, and shows the caller its groups and wids', async () => {
    const answer = await get('stats', { groups: [AUDITORS], wids: [GLOBAL_ADMINISTRATOR] });
    expect([answer.status, answer.body]).toEqual([200, { groups: [AUDITORS], wids: [GLOBAL_ADMINISTRATOR] }]);
  });

  it('refuses a non-member with 403 insufficient_permissions, the groups in required and no scope attribute', async () => {
    const answer = await get('stats', { groups: ['0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a'] });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ reason: 'insufficient_permissions', required: [ADMINS, AUDITORS] });
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="${answer.body.message}"`);
  });

  it('answers an overage token 403 groups_overage with a hint, and never calls the endpoint the token names', async () => {
    const endpoint = `http://127.0.0.1:${(claimSource.address() as AddressInfo).port}/users/x/getMemberObjects`;
    const answer = await get('stats', { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint } } });
    expect([answer.status, answer.body.reason]).toEqual([403, 'groups_overage']);
    expect(answer.body.hint).toMatch(/Groups assigned to the application/);
    const marked = await get('stats', { hasgroups: true });
    expect([marked.status, marked.body.reason]).toEqual([403, 'groups_overage']);
    expect(claimSourceHits).toBe(0);
  });

  it.each([
    ['a string', { groups: ADMINS }],
    ['numbers', { groups: [1, 2] }],
    ['an object', { groups: { 0: ADMINS } }],
  ])('never takes groups as %s for a membership (403, no 500)', async (_name, claims) => {
    const answer = await get('stats', claims);
    expect([answer.status, answer.body.reason]).toEqual([403, 'insufficient_permissions']);
  });

  it('lets in a holder of the directory role (wids) and refuses the others', async () => {
    expect((await get('tenant-settings', { wids: [GLOBAL_ADMINISTRATOR] })).status).toBe(200);
    const answer = await get('tenant-settings', { wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509'] });
    expect([answer.status, answer.body.reason, answer.body.required]).toEqual([403, 'insufficient_permissions', [GLOBAL_ADMINISTRATOR]]);
  });
});

describe('@Groups() and @DirectoryRoles()', () => {
  it.each([[[]], [['admins']], [['']]])('refuse %j at definition time', (ids) => {
    expect(() => Groups(...(ids as string[]))).toThrow(TypeError);
    expect(() => DirectoryRoles(...(ids as string[]))).toThrow(TypeError);
  });
});
