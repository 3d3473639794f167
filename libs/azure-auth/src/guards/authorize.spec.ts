import { resolveAzureAuthOptions, type ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { createPrincipal, isAppOnly, type AzurePrincipal } from '../token/azure-principal.js';
import type { AzureAccessTokenClaims } from '../token/claims.js';
import { authorize, type PermissionRequirements } from './authorize.js';

const tenantId = '11111111-2222-4333-8444-555555555555';
const homeTenant = '99999999-8888-4777-8666-555555555555';
const clientId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const spaClient = 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';
const daemonClient = 'cccccccc-dddd-4eee-8fff-000000000000';
const iss = `https://login.microsoftonline.com/${tenantId}/v2.0`;

function options(extra: Partial<AzureAuthModuleOptions> = {}): ResolvedAzureAuthOptions {
  return resolveAzureAuthOptions({ tenantId, clientId, ...extra });
}

const base = (extra: Partial<AzureAccessTokenClaims>): AzureAccessTokenClaims => ({
  aud: clientId,
  iss,
  tid: tenantId,
  ver: '2.0',
  exp: 4_000_000_000,
  ...extra,
});

function user(extra: Partial<AzureAccessTokenClaims> = {}): AzurePrincipal {
  return createPrincipal(base({ sub: 'user-sub', oid: 'user-oid', azp: spaClient, scp: 'Todolist.Read', idtyp: 'user', ...extra }), tenantId, '2.0', options());
}

function daemon(extra: Partial<AzureAccessTokenClaims> = {}): AzurePrincipal {
  return createPrincipal(base({ sub: 'sp-oid', oid: 'sp-oid', azp: daemonClient, roles: ['Todolist.Read.All'], idtyp: 'app', ...extra }), tenantId, '2.0', options());
}

/** The same caller, as admitted by an authority with these settings (what authorization judges it by). */
const admittedBy = (principal: AzurePrincipal, resolved: ResolvedAzureAuthOptions) =>
  createPrincipal({ ...principal.claims }, principal.tid, principal.tokenVersion, resolved);

function refusal(principal: AzurePrincipal, requirements: PermissionRequirements, resolved = options()): AzureAuthError {
  try {
    authorize(admittedBy(principal, resolved), requirements);
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthError);
    expect((error as AzureAuthError).status).toBe(403);
    return error as AzureAuthError;
  }
  throw new Error('expected a 403 refusal, the caller was admitted');
}

const admits = (principal: AzurePrincipal, requirements: PermissionRequirements, resolved = options()) =>
  expect(() => authorize(admittedBy(principal, resolved), requirements)).not.toThrow();

describe('authorize', () => {
  describe('delegated scopes', () => {
    it('admits a user holding the scope', () => {
      admits(user(), { scopes: ['Todolist.Read'] });
    });

    it('refuses a user without the scope, listing what would have passed', () => {
      const error = refusal(user(), { scopes: ['Todolist.ReadWrite'] });
      expect(error.reason).toBe('insufficient_permissions');
      expect(error.requiredPermissions).toEqual(['Todolist.ReadWrite']);
    });

    it.each([
      ['Todolist.Read', 'Todolist.ReadWrite'],
      ['Todolist.ReadWrite', 'Todolist.Read'],
      ['Todolist.Read', 'todolist.read'],
      ['todolist.read', 'Todolist.Read'],
      ['Todolist.Read.All', 'Todolist.Read'],
      ['Todolist.Read', 'Read'],
      ['Todolist.Read', 'Todolist'],
    ])('scp "%s" does not satisfy @Scopes(%s)', (scp, required) => {
      expect(refusal(user({ scp }), { scopes: [required] }).reason).toBe('insufficient_permissions');
    });

    it('matches whole words of a space-separated scp', () => {
      admits(user({ scp: 'User.Read Todolist.ReadWrite openid' }), { scopes: ['Todolist.ReadWrite'] });
      expect(refusal(user({ scp: 'User.Read Todolist.ReadWrite' }), { scopes: ['Todolist.Read'] }).reason).toBe('insufficient_permissions');
    });

    it('has any-of semantics', () => {
      admits(user({ scp: 'Todolist.ReadWrite' }), { scopes: ['Todolist.Read', 'Todolist.ReadWrite'] });
      const error = refusal(user({ scp: 'User.Read' }), { scopes: ['Todolist.Read', 'Todolist.ReadWrite'] });
      expect(error.requiredPermissions).toEqual(['Todolist.Read', 'Todolist.ReadWrite']);
    });

    it('admits any caller with permissions on a route without requirements', () => {
      admits(user(), {});
      admits(daemon(), {});
    });
  });

  describe('app permissions', () => {
    it('admits a daemon holding the app permission', () => {
      admits(daemon(), { appPermissions: ['Todolist.Read.All'] });
    });

    it('refuses a daemon without the app permission', () => {
      const error = refusal(daemon(), { appPermissions: ['Todolist.ReadWrite.All'] });
      expect(error.reason).toBe('insufficient_permissions');
      expect(error.requiredPermissions).toEqual(['Todolist.ReadWrite.All']);
    });

    it('refuses a daemon on a Scopes-only route, even if its roles carry the scope name', () => {
      const error = refusal(daemon({ roles: ['Todolist.Read'] }), { scopes: ['Todolist.Read'] });
      expect(error.reason).toBe('insufficient_permissions');
      expect(error.requiredPermissions).toEqual(['Todolist.Read']);
    });

    it('refuses a daemon on a Roles-only route', () => {
      expect(refusal(daemon({ roles: ['TaskAdmin'] }), { roles: ['TaskAdmin'] }).reason).toBe('insufficient_permissions');
    });

    it('refuses a user whose roles hold the app permission on an AppPermissions-only route', () => {
      const error = refusal(user({ roles: ['Todolist.Read.All'] }), { appPermissions: ['Todolist.Read.All'] });
      expect(error.reason).toBe('insufficient_permissions');
      expect(error.requiredPermissions).toEqual(['Todolist.Read.All']);
    });
  });

  describe('routes with several requirement kinds', () => {
    const both: PermissionRequirements = { scopes: ['Todolist.Read'], appPermissions: ['Todolist.Read.All'] };

    it('admits a user with the scope and a daemon with the app permission', () => {
      admits(user(), both);
      admits(daemon(), both);
    });

    it('judges each caller by its own kind', () => {
      expect(refusal(user({ scp: 'User.Read', roles: ['Todolist.Read.All'] }), both).requiredPermissions).toEqual(['Todolist.Read']);
      expect(refusal(daemon({ roles: ['Other.All'] }), both).requiredPermissions).toEqual(['Todolist.Read.All']);
    });

    it('requires a user to hold both a scope and a role when both are asked', () => {
      const requirements: PermissionRequirements = { scopes: ['Todolist.Read'], roles: ['TaskAdmin'] };
      admits(user({ roles: ['TaskAdmin'] }), requirements);
      const noRole = refusal(user(), requirements);
      expect(noRole.requiredPermissions).toEqual(['TaskAdmin']);
      expect(noRole.description).toContain('app role');
      const noScope = refusal(user({ scp: 'User.Read', roles: ['TaskAdmin'] }), requirements);
      expect(noScope.requiredPermissions).toEqual(['Todolist.Read']);
      expect(noScope.description).toContain('scope');
    });

    it('@Roles alone: admits a user with the app role, refuses one without', () => {
      admits(user({ roles: ['TaskAdmin'] }), { roles: ['TaskAdmin'] });
      const error = refusal(user({ roles: ['TaskUser'] }), { roles: ['TaskAdmin'] });
      expect(error.requiredPermissions).toEqual(['TaskAdmin']);
      expect(refusal(user({ roles: ['taskadmin'] }), { roles: ['TaskAdmin'] }).reason).toBe('insufficient_permissions');
    });
  });

  describe('tokens without permissions', () => {
    const bare = () => user({ scp: undefined, roles: undefined });

    it('refuses a token with neither scp nor roles', () => {
      const error = refusal(bare(), {});
      expect(error.reason).toBe('no_permissions');
    });

    it('refuses an empty scp and empty roles too', () => {
      expect(refusal(user({ scp: '', roles: [] }), {}).reason).toBe('no_permissions');
    });

    it('admits it when allowTokensWithoutPermissions is set and the route asks nothing', () => {
      admits(bare(), {}, options({ allowTokensWithoutPermissions: true }));
    });

    it('still refuses it on a route with requirements when allowTokensWithoutPermissions is set', () => {
      expect(refusal(bare(), { scopes: ['Todolist.Read'] }, options({ allowTokensWithoutPermissions: true })).reason).toBe(
        'insufficient_permissions',
      );
    });
  });

  describe('allowedClientApps', () => {
    const allowed = () => options({ allowedClientApps: [spaClient.toUpperCase()] });

    it('admits a listed client, comparing case-insensitively', () => {
      admits(user(), { scopes: ['Todolist.Read'] }, allowed());
    });

    it('refuses another client with client_not_allowed', () => {
      const error = refusal(daemon(), { appPermissions: ['Todolist.Read.All'] }, allowed());
      expect(error.reason).toBe('client_not_allowed');
    });

    it('uses appid for v1 tokens', () => {
      const v1 = createPrincipal(
        base({ ver: '1.0', sub: 's', oid: 'o', appid: spaClient, scp: 'Todolist.Read', idtyp: 'user' }),
        tenantId,
        '1.0',
        options(),
      );
      admits(v1, { scopes: ['Todolist.Read'] }, allowed());
      const other = createPrincipal(base({ ver: '1.0', sub: 's', oid: 'o', appid: daemonClient, scp: 'Todolist.Read' }), tenantId, '1.0', options());
      expect(refusal(other, { scopes: ['Todolist.Read'] }, allowed()).reason).toBe('client_not_allowed');
    });
  });

  describe('guest users', () => {
    const noGuests = () => options({ allowGuestUsers: false });

    it('admits guests by default', () => {
      admits(user({ acct: 1 }), { scopes: ['Todolist.Read'] });
    });

    it('refuses acct 1 when allowGuestUsers is false', () => {
      expect(refusal(user({ acct: 1 }), { scopes: ['Todolist.Read'] }, noGuests()).reason).toBe('guest_not_allowed');
    });

    it('refuses a user whose idp is not the issuer when allowGuestUsers is false', () => {
      const guest = user({ idp: `https://sts.windows.net/${homeTenant}/` });
      expect(guest.guest).toBe(true);
      expect(refusal(guest, { scopes: ['Todolist.Read'] }, noGuests()).reason).toBe('guest_not_allowed');
    });

    it('admits a member (acct 0, idp equal to iss) when allowGuestUsers is false', () => {
      admits(user({ acct: 0, idp: iss }), { scopes: ['Todolist.Read'] }, noGuests());
    });

    it('never treats an app-only token as a guest', () => {
      admits(daemon({ idp: `https://sts.windows.net/${homeTenant}/` }), { appPermissions: ['Todolist.Read.All'] }, noGuests());
    });
  });

  it('every refusal is a 403', () => {
    const cases: Array<[AzurePrincipal, PermissionRequirements, ResolvedAzureAuthOptions]> = [
      [user(), { scopes: ['X'] }, options()],
      [user({ scp: undefined }), {}, options()],
      [user(), {}, options({ allowedClientApps: [daemonClient] })],
      [user({ acct: 1 }), {}, options({ allowGuestUsers: false })],
    ];
    expect(cases.map(([p, r, o]) => refusal(p, r, o).status)).toEqual([403, 403, 403, 403]);
  });
});

describe('isAppOnly', () => {
  it('follows idtyp when present', () => {
    expect(isAppOnly(base({ idtyp: 'app', scp: 'Todolist.Read', sub: 'a', oid: 'b' }))).toBe(true);
    expect(isAppOnly(base({ idtyp: 'user', sub: 'x', oid: 'x' }))).toBe(false);
  });

  it('without idtyp: app-only when there is no scp and oid equals sub', () => {
    expect(isAppOnly(base({ sub: 'x', oid: 'x', roles: ['Todolist.Read.All'] }))).toBe(true);
    expect(isAppOnly(base({ sub: 'x', oid: 'x', scp: 'Todolist.Read' }))).toBe(false);
    expect(isAppOnly(base({ sub: 'x', oid: 'y' }))).toBe(false);
    expect(isAppOnly(base({ sub: 'x' }))).toBe(false);
  });

  it('is reflected in the principal', () => {
    expect(daemon().appOnly).toBe(true);
    expect(user().appOnly).toBe(false);
    expect(createPrincipal(base({ sub: 'x', oid: 'x', roles: ['R'] }), tenantId, '2.0', options()).appOnly).toBe(true);
  });
});

describe('authorize: authentication context (step-up)', () => {
  const thrown = (principal: AzurePrincipal, requirements: PermissionRequirements): AzureAuthError => {
    try {
      authorize(principal, requirements);
    } catch (error) {
      return error as AzureAuthError;
    }
    throw new Error('expected a refusal, the caller was admitted');
  };
  const decoded = (claims: string | undefined) => JSON.parse(Buffer.from(claims ?? '', 'base64').toString('utf8'));

  it('admits a token whose acrs holds any one of the contexts', () => {
    expect(() => authorize(user({ acrs: ['c2'] }), { scopes: ['Todolist.Read'], authContexts: ['c1', 'c2'] })).not.toThrow();
  });

  it('sends a cp1 client a claims challenge (401) for the one context, with the tenant authorize endpoint', () => {
    const error = thrown(user({ acrs: ['c3'], xms_cc: ['cp1'] }), { authContexts: ['c1'] });
    expect([error.status, error.reason]).toEqual([401, 'insufficient_claims']);
    expect(decoded(error.claims)).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } });
    expect(error.authContexts).toEqual(['c1']);
    expect(error.authorizationUri).toBe(`https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/authorize`);
  });

  it('asks for any of several contexts with values', () => {
    const error = thrown(user({ xms_cc: ['cp1'] }), { authContexts: ['c1', 'c2'] });
    expect(decoded(error.claims)).toEqual({ access_token: { acrs: { essential: true, values: ['c1', 'c2'] } } });
  });

  it('tells a client without cp1 what it lacks (403 auth_context_required) rather than challenging it', () => {
    const error = thrown(user({ xms_cc: ['cp2'] }), { authContexts: ['c1'] });
    expect([error.status, error.reason, error.authContexts, error.claims]).toEqual([403, 'auth_context_required', ['c1'], undefined]);
    expect(error.hint).toContain("clientCapabilities: ['cp1']");
  });

  it('never matches acrs or xms_cc that are not arrays (no substring match)', () => {
    const error = thrown(user({ acrs: 'c1' as unknown as string[], xms_cc: 'cp1' as unknown as string[] }), { authContexts: ['c1'] });
    expect(error.reason).toBe('auth_context_required');
  });

  it('checks scopes first: stepping up cannot grant a missing scope', () => {
    const error = thrown(user({ xms_cc: ['cp1'] }), { scopes: ['Todolist.ReadWrite'], authContexts: ['c1'] });
    expect(error.reason).toBe('insufficient_permissions');
  });

  it('refuses an app-only token on a route that needs a context (no user to step up)', () => {
    expect(thrown(daemon(), { appPermissions: ['Todolist.Read.All'], authContexts: ['c1'] }).reason).toBe('auth_context_required');
  });

  it('names no authorization_uri for a custom authority (B2C, External ID)', () => {
    const custom = createPrincipal(
      base({ sub: 'user-sub', oid: 'user-oid', azp: spaClient, scp: 'Todolist.Read', xms_cc: ['cp1'] }),
      tenantId,
      '2.0',
      options({ tenantId: undefined, authority: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0' }),
    );
    expect(thrown(custom, { authContexts: ['c1'] }).authorizationUri).toBeUndefined();
  });
});

describe('authorize: groups and directory roles', () => {
  const GROUP = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';
  const OTHER_GROUP = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';

  it('admits a member of any one of the groups, whatever the case of the claim', () => {
    admits(user({ groups: [OTHER_GROUP.toUpperCase(), GROUP] }), { groups: [OTHER_GROUP] });
    expect(user({ groups: [GROUP.toUpperCase()] }).groups).toEqual([GROUP]);
  });

  it('refuses a non-member with 403 insufficient_permissions, listing the groups in required (not as scopes)', () => {
    const error = refusal(user({ groups: [OTHER_GROUP] }), { groups: [GROUP] });
    expect([error.reason, error.requiredMembership, error.requiredPermissions]).toEqual(['insufficient_permissions', [GROUP], undefined]);
  });

  it.each([
    ['_claim_names.groups', { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.windows.net/t/users/u/getMemberObjects' } } }],
    ['hasgroups', { hasgroups: true }],
  ])('refuses an overage token (%s) with 403 groups_overage, never as a plain non-member', (_name, claims) => {
    const error = refusal(user(claims as Partial<AzureAccessTokenClaims>), { groups: [GROUP] });
    expect(error.reason).toBe('groups_overage');
    expect(error.hint).toContain('Groups assigned to the application');
  });

  it('never reads a groups claim that is not a list of strings', () => {
    expect(user({ groups: GROUP as unknown as string[] }).groups).toEqual([]);
    expect(user({ groups: [1, GROUP] as unknown as string[] }).groups).toEqual([GROUP]);
    expect(refusal(user({ groups: GROUP as unknown as string[] }), { groups: [GROUP] }).reason).toBe('insufficient_permissions');
  });

  it('admits a holder of any one of the directory roles (wids), and refuses the others', () => {
    admits(user({ wids: [GLOBAL_ADMIN] }), { directoryRoles: ['fe930be7-5e62-47db-91af-98c3a49a38b1', GLOBAL_ADMIN] });
    const error = refusal(user({ wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509'] }), { directoryRoles: [GLOBAL_ADMIN] });
    expect([error.reason, error.requiredMembership]).toEqual(['insufficient_permissions', [GLOBAL_ADMIN]]);
    expect(refusal(user({ wids: 1 as unknown as string[] }), { directoryRoles: [GLOBAL_ADMIN] }).reason).toBe('insufficient_permissions');
  });

  it('checks scopes before groups', () => {
    expect(refusal(user({ groups: [GROUP] }), { scopes: ['Todolist.ReadWrite'], groups: [GROUP] }).requiredPermissions).toEqual(['Todolist.ReadWrite']);
  });
});

describe('authorize: groups of an overage token, from a lookup', () => {
  const GROUP = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';
  const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
  const overage = (extra: Partial<AzureAccessTokenClaims> = {}) => user({ _claim_names: { groups: 'src1' }, ...extra } as Partial<AzureAccessTokenClaims>);
  const lookup = (groups: readonly string[]) => {
    const asked: AzurePrincipal[] = [];
    const find = (principal: AzurePrincipal) => {
      asked.push(principal);
      return Promise.resolve(groups);
    };
    return { asked, find };
  };

  it('admits a member the lookup finds, as a caller carrying those groups (lower case), and answers the rest at once', async () => {
    const { asked, find } = lookup([GROUP.toUpperCase()]);
    const caller = overage();
    const admitted = authorize(caller, { groups: [GROUP] }, find);
    expect(admitted).toBeInstanceOf(Promise);
    const member = await admitted;
    expect([member.groups, member.oid, asked]).toEqual([[GROUP], caller.oid, [caller]]);
    // A route without groups, or a token that lists its groups, never asks.
    expect(authorize(caller, {}, find)).toBe(caller);
    const listed = user({ groups: [GROUP] });
    expect(authorize(listed, { groups: [GROUP] }, find)).toBe(listed);
    expect(asked).toHaveLength(1);
  });

  it('refuses a non-member the lookup finds with 403 insufficient_permissions', async () => {
    const error = await Promise.resolve(authorize(overage(), { groups: [GROUP] }, lookup(['0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a']).find)).catch((failure: unknown) => failure);
    expect([(error as AzureAuthError).reason, (error as AzureAuthError).requiredMembership]).toEqual(['insufficient_permissions', [GROUP]]);
  });

  it('refuses with 403 groups_overage when the lookup may not look for this caller', () => {
    expect(() => authorize(overage(), { groups: [GROUP] }, () => undefined)).toThrow(expect.objectContaining({ reason: 'groups_overage' }));
  });

  it('checks scopes and directory roles before asking, and the authentication context after', async () => {
    const { asked, find } = lookup([GROUP]);
    expect(() => authorize(overage(), { scopes: ['Todolist.ReadWrite'], groups: [GROUP] }, find)).toThrow(expect.objectContaining({ reason: 'insufficient_permissions' }));
    expect(() => authorize(overage(), { directoryRoles: [GLOBAL_ADMIN], groups: [GROUP] }, find)).toThrow(expect.objectContaining({ requiredMembership: [GLOBAL_ADMIN] }));
    expect(asked).toHaveLength(0);
    const challenged = await Promise.resolve(authorize(overage({ xms_cc: ['cp1'] }), { groups: [GROUP], authContexts: ['c1'] }, find)).catch((failure: unknown) => failure);
    expect((challenged as AzureAuthError).reason).toBe('insufficient_claims');
    await expect(authorize(overage({ acrs: ['c1'] }), { groups: [GROUP], authContexts: ['c1'] }, find)).resolves.toMatchObject({ groups: [GROUP] });
  });

  it('passes the lookup failure on as it is', async () => {
    const failure = new AzureAuthError('groups_unavailable', { description: 'down', retryAfterSeconds: 10 });
    await expect(authorize(overage(), { groups: [GROUP] }, () => Promise.reject(failure))).rejects.toBe(failure);
  });
});
