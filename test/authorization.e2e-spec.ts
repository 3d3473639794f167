import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { AzureAuthGuard, AzureAuthModule, Scopes, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator, type MintOptions } from 'nestjs-azure-auth/testing';
import { ADAPTERS, ProbeController, call, emulatorOptions, startApp, type Adapter, type HttpAnswer } from './support/test-app.js';

const OTHER_CLIENT_APP = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

/** The one route the probe lacks: delegated scopes and nothing else. */
@UseGuards(AzureAuthGuard)
@Controller('authz')
class UserOnlyController {
  @Scopes('Todolist.Read')
  @Get('user-only')
  userOnly() {
    return { ok: true };
  }
}

function authorizationApp(adapter: Adapter, options: AzureAuthModuleOptions) {
  return startApp(adapter, { imports: [AzureAuthModule.forRoot(options)], controllers: [ProbeController, UserOnlyController] });
}

describe.each(ADAPTERS)('authorization over %s', (adapter) => {
  let entra: EntraEmulator;
  let url: string;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    const started = await authorizationApp(adapter, emulatorOptions(entra));
    apps.push(started.app);
    url = started.url;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await entra?.stop();
  });

  /** A second app on the same emulator with other caller policies. */
  async function appWith(extra: Partial<AzureAuthModuleOptions>): Promise<string> {
    const started = await authorizationApp(adapter, emulatorOptions(entra, extra));
    apps.push(started.app);
    return started.url;
  }

  const user = (scopes: string[], extra: MintOptions = {}) => entra.mintAccessToken({ scopes, ...extra });
  const daemon = (roles: string[], extra: MintOptions = {}) => entra.mintAccessToken({ kind: 'app', roles, ...extra });

  const get = (path: string, token?: string, base = url) => call(`${base}${path}`, { token });
  const post = (path: string, token?: string, base = url) => call(`${base}${path}`, { method: 'POST', token, body: { title: 'x' } });

  function expectForbidden(answer: HttpAnswer, reason: string, required?: string[]) {
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 403, reason });
    if (required) expect(answer.body.required).toEqual(required);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api:\/\/[0-9a-f-]+", error="insufficient_scope", error_description="[^"]+"/);
  }

  it('answers concurrent requests with fresh tokens each with its own caller', async () => {
    const oids = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
    const answers = await Promise.all(oids.map((oid) => get('/api/me', user(['Todolist.Read'], { oid }))));
    expect(answers.map((answer) => [answer.status, answer.body.oid])).toEqual(oids.map((oid) => [200, oid]));
  });

  describe('users (delegated tokens)', () => {
    it('a user with Todolist.Read reads', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read']))).status).toBe(200);
    });

    it('a user with Todolist.Read cannot write: 403 naming Todolist.ReadWrite', async () => {
      expectForbidden(await post('/api/todolist', user(['Todolist.Read'])), 'insufficient_permissions', ['Todolist.ReadWrite']);
    });

    it('a user with Todolist.ReadWrite writes, and reads', async () => {
      const token = user(['Todolist.ReadWrite']);
      const created = await post('/api/todolist', token);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: 1 });
      expect((await get('/api/todolist', token)).status).toBe(200);
    });
  });

  describe('daemons (app-only tokens)', () => {
    it('a daemon with Todolist.Read.All reads', async () => {
      expect((await get('/api/todolist', daemon(['Todolist.Read.All']))).status).toBe(200);
      expect((await get('/api/daemon-only', daemon(['Todolist.Read.All']))).status).toBe(200);
    });

    it('a daemon with Todolist.Read.All cannot write: 403 naming Todolist.ReadWrite.All', async () => {
      const answer = await post('/api/todolist', daemon(['Todolist.Read.All']));
      expectForbidden(answer, 'insufficient_permissions', ['Todolist.ReadWrite.All']);
      expect(answer.headers.get('www-authenticate')).toBe(
        `Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="Token lacks a required app permission", scope="Todolist.ReadWrite.All"`,
      );
    });

    it('a daemon with Todolist.ReadWrite.All writes', async () => {
      expect((await post('/api/todolist', daemon(['Todolist.ReadWrite.All']))).status).toBe(201);
    });

    it('is recognised by idtyp as well as by oid == sub without scp', async () => {
      expect((await get('/api/daemon-only', daemon(['Todolist.Read.All'], { includeIdtyp: true }))).status).toBe(200);
    });
  });

  describe('the two kinds of caller never stand in for each other', () => {
    it('a user whose roles hold Todolist.Read.All is NOT let in by an @AppPermissions-only route', async () => {
      expectForbidden(await get('/api/daemon-only', user(['Todolist.Read'], { roles: ['Todolist.Read.All'] })), 'insufficient_permissions', [
        'Todolist.Read.All',
      ]);
    });

    it('a delegated token never passes @AppPermissions-only, whatever it carries', async () => {
      const delegated = [
        user(['Todolist.Read', 'Todolist.ReadWrite', 'Todolist.Read.All'], { roles: ['Todolist.Read.All', 'Todolist.ReadWrite.All'] }),
        user(['Todolist.Read'], { roles: ['Todolist.Read.All'], includeIdtyp: true }),
        // no scp but a user's sub (different from oid): still a user
        entra.mintAccessToken({ roles: ['Todolist.Read.All'] }),
        user(['Todolist.Read'], { roles: ['Todolist.Read.All'], version: 1 }),
      ];
      for (const token of delegated) {
        expectForbidden(await get('/api/daemon-only', token), 'insufficient_permissions', ['Todolist.Read.All']);
      }
    });

    it('an app-only token never passes @Scopes-only, whatever it carries', async () => {
      const appOnly = [
        daemon(['Todolist.Read']),
        daemon(['Todolist.Read', 'Todolist.Read.All'], { includeIdtyp: true }),
        // idtyp app decides, even with a scp that would match
        daemon(['Todolist.Read.All'], { includeIdtyp: true, claims: { scp: 'Todolist.Read' } }),
        daemon(['Todolist.Read'], { version: 1 }),
      ];
      for (const token of appOnly) {
        expectForbidden(await get('/authz/user-only', token), 'insufficient_permissions', ['Todolist.Read']);
      }
      // the same route admits a user with the scope
      expect((await get('/authz/user-only', user(['Todolist.Read']))).status).toBe(200);
    });
  });

  describe('@Roles', () => {
    it('a user with the TaskAdmin app role gets in', async () => {
      expect((await get('/api/admin', user(['Todolist.Read'], { roles: ['TaskAdmin'] }))).status).toBe(200);
    });

    it('a user without it is refused with 403 naming TaskAdmin', async () => {
      expectForbidden(await get('/api/admin', user(['Todolist.Read'], { roles: ['TaskUser'] })), 'insufficient_permissions', ['TaskAdmin']);
      expectForbidden(await get('/api/admin', user(['Todolist.Read'])), 'insufficient_permissions', ['TaskAdmin']);
    });

    it('an app-only token with TaskAdmin in its roles is refused', async () => {
      expectForbidden(await get('/api/admin', daemon(['TaskAdmin'])), 'insufficient_permissions', ['TaskAdmin']);
      expectForbidden(await get('/api/admin', daemon(['TaskAdmin'], { includeIdtyp: true })), 'insufficient_permissions', ['TaskAdmin']);
    });
  });

  describe('names match exactly, whole words only', () => {
    it.each([
      ['another case', 'todolist.read'],
      ['all capitals', 'TODOLIST.READ'],
      ['a prefix', 'Todolist.Rea'],
      ['a longer name', 'Todolist.ReadWrite.Extra'],
      ['a name with a suffix', 'Todolist.Read.All'],
      ['the resource alone', 'Todolist'],
      ['the full App ID URI form', 'api://todo/Todolist.Read'],
    ])('refuses scp with %s (%s)', async (_case, scp) => {
      expectForbidden(await get('/api/todolist', entra.mintAccessToken({ claims: { scp } })), 'insufficient_permissions', [
        'Todolist.Read',
        'Todolist.ReadWrite',
      ]);
    });

    it('finds Todolist.Read among several space-separated scopes', async () => {
      expect((await get('/api/todolist', entra.mintAccessToken({ claims: { scp: 'Todolist.Read Todolist.Write' } }))).status).toBe(200);
      expect((await get('/authz/user-only', entra.mintAccessToken({ claims: { scp: 'openid User.Read Todolist.Read' } }))).status).toBe(200);
    });

    it('refuses app permissions and app roles in another case or as a substring', async () => {
      for (const roles of [['todolist.read.all'], ['Todolist.Read.Al'], ['Todolist.Read.All.Extra'], ['Todolist.Read.All Todolist.ReadWrite.All']]) {
        expectForbidden(await get('/api/daemon-only', daemon(roles)), 'insufficient_permissions', ['Todolist.Read.All']);
      }
      for (const roles of [['taskadmin'], ['TaskAdmins'], ['Task']]) {
        expectForbidden(await get('/api/admin', user(['Todolist.Read'], { roles })), 'insufficient_permissions', ['TaskAdmin']);
      }
    });
  });

  describe('the 403 answer', () => {
    it('carries the exact RFC 6750 challenge with the scope that would have passed', async () => {
      const answer = await post('/api/todolist', user(['Todolist.Read']));
      expect(answer.status).toBe(403);
      expect(answer.headers.get('www-authenticate')).toBe(
        `Bearer realm="api://${entra.clientId}", error="insufficient_scope", error_description="Token lacks a required scope", scope="Todolist.ReadWrite"`,
      );
    });

    it('lists every name that would have passed, space separated, in the scope attribute', async () => {
      const answer = await get('/api/todolist', user(['User.Read']));
      expect(answer.headers.get('www-authenticate')).toMatch(/, scope="Todolist\.Read Todolist\.ReadWrite"$/);
    });

    it('has a JSON body naming the reason and what was required', async () => {
      const answer = await post('/api/todolist', user(['Todolist.Read']));
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body).toMatchObject({
        statusCode: 403,
        error: 'Forbidden',
        reason: 'insufficient_permissions',
        message: 'Token lacks a required scope',
        required: ['Todolist.ReadWrite'],
      });
      expect(answer.body.hint).toContain('Todolist.ReadWrite');
    });
  });

  describe('tokens without permissions', () => {
    const bare = () => entra.mintAccessToken({});

    it('a valid token with neither scp nor roles is refused with 403 no_permissions', async () => {
      const answer = await get('/api/me', bare());
      expectForbidden(answer, 'no_permissions');
      // nothing to ask for, so no scope attribute
      expect(answer.headers.get('www-authenticate')).not.toContain('scope="');
    });

    it('is admitted with allowTokensWithoutPermissions on a route without requirements, and still refused where a scope is required', async () => {
      const acl = await appWith({ allowTokensWithoutPermissions: true });
      const answer = await get('/api/me', bare(), acl);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ scopes: [], roles: [] });
      expectForbidden(await get('/api/todolist', bare(), acl), 'insufficient_permissions', ['Todolist.Read', 'Todolist.ReadWrite']);
    });
  });

  describe('allowedClientApps', () => {
    let listed: string;
    beforeAll(async () => {
      listed = await appWith({ allowedClientApps: [entra.clientAppId] });
    });

    it('refuses another client application with 403 client_not_allowed, even with the right scope', async () => {
      expectForbidden(await get('/api/todolist', user(['Todolist.Read'], { clientAppId: OTHER_CLIENT_APP }), listed), 'client_not_allowed');
      expectForbidden(await get('/api/todolist', daemon(['Todolist.Read.All'], { clientAppId: OTHER_CLIENT_APP }), listed), 'client_not_allowed');
      // v1 tokens name the client in appid
      expectForbidden(await get('/api/todolist', user(['Todolist.Read'], { clientAppId: OTHER_CLIENT_APP, version: 1 }), listed), 'client_not_allowed');
    });

    it('admits the listed client, v2 (azp) and v1 (appid)', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read']), listed)).status).toBe(200);
      expect((await get('/api/todolist', user(['Todolist.Read'], { version: 1 }), listed)).status).toBe(200);
      expect((await get('/api/todolist', daemon(['Todolist.Read.All']), listed)).status).toBe(200);
    });

    it('without the option, any client is admitted', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read'], { clientAppId: OTHER_CLIENT_APP }))).status).toBe(200);
    });
  });

  describe('guest users', () => {
    it('are admitted by default', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read'], { kind: 'guest' }))).status).toBe(200);
    });

    it('are refused with 403 guest_not_allowed when allowGuestUsers is false; members still get in', async () => {
      const membersOnly = await appWith({ allowGuestUsers: false });
      expectForbidden(await get('/api/todolist', user(['Todolist.Read'], { kind: 'guest' }), membersOnly), 'guest_not_allowed');
      expectForbidden(await get('/api/todolist', user(['Todolist.Read'], { kind: 'guest', version: 1 }), membersOnly), 'guest_not_allowed');
      expect((await get('/api/todolist', user(['Todolist.Read']), membersOnly)).status).toBe(200);
      expect((await get('/api/todolist', daemon(['Todolist.Read.All']), membersOnly)).status).toBe(200);
    });
  });

  describe('v1 tokens', () => {
    const v1 = { version: 1 } as const;

    it('a v1 user with Todolist.Read reads and cannot write, as in v2', async () => {
      expect((await get('/api/todolist', user(['Todolist.Read'], v1))).status).toBe(200);
      const answer = await post('/api/todolist', user(['Todolist.Read'], v1));
      expectForbidden(answer, 'insufficient_permissions', ['Todolist.ReadWrite']);
      expect(answer.headers.get('www-authenticate')).toMatch(/, scope="Todolist\.ReadWrite"$/);
    });

    it('a v1 user with Todolist.ReadWrite writes', async () => {
      expect((await post('/api/todolist', user(['Todolist.ReadWrite'], v1))).status).toBe(201);
    });

    it('v1 scope matching is exact too', async () => {
      expectForbidden(await get('/api/todolist', entra.mintAccessToken({ ...v1, claims: { scp: 'todolist.read' } })), 'insufficient_permissions');
      expect((await get('/api/todolist', entra.mintAccessToken({ ...v1, claims: { scp: 'Todolist.Read Todolist.Write' } }))).status).toBe(200);
    });

    it('a v1 daemon reads with Todolist.Read.All and cannot write', async () => {
      expect((await get('/api/todolist', daemon(['Todolist.Read.All'], v1))).status).toBe(200);
      expectForbidden(await post('/api/todolist', daemon(['Todolist.Read.All'], v1)), 'insufficient_permissions', ['Todolist.ReadWrite.All']);
    });
  });
});
