import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';

const CLIENT = '8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f';

describe('groupsOverage options', () => {
  it.each([
    [{ resolve: 'graph' }, /groupsOverage\.resolve/],
    [{ cacheSeconds: -1 }, /groupsOverage\.cacheSeconds/],
    [{ maxCachedUsers: 0 }, /groupsOverage\.maxCachedUsers/],
    ['yes', /groupsOverage/],
  ])('refuses %j at start', (groupsOverage, message) => {
    expect(() => resolveAzureAuthOptions({ tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT, groupsOverage: groupsOverage as never })).toThrow(message);
  });

  it("refuses a Graph source named without a credential, and takes the default or a function without one", () => {
    const base = { tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT };
    expect(() => resolveAzureAuthOptions({ ...base, groupsOverage: { resolve: 'app' } })).toThrow(/needs clientCredential/);
    expect(resolveAzureAuthOptions(base).groupsOverage).toMatchObject({ resolve: 'on-behalf-of', cacheMs: 3_600_000, maxCachedUsers: 10_000 });
    expect(resolveAzureAuthOptions({ ...base, groupsOverage: { resolve: () => [] } }).groupsOverage?.resolve).toBeInstanceOf(Function);
  });
});
