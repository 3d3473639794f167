import { setTimeout as sleep } from 'node:timers/promises';
import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { createPrincipal, type AzurePrincipal } from './azure-principal.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

interface Entry {
  readonly kid: string;
  readonly principal: AzurePrincipal;
}

const tenantId = '11111111-2222-4333-8444-555555555555';

function principal(oid: string): AzurePrincipal {
  return createPrincipal(
    { aud: 'api', iss: `https://login.microsoftonline.com/${tenantId}/v2.0`, tid: tenantId, exp: 4_000_000_000, sub: oid, oid, scp: 'Todolist.Read' },
    tenantId,
    '2.0',
    resolveAzureAuthOptions({ tenantId, clientId: tenantId }),
  );
}

const HOUR = 3_600_000;

describe('VerifiedTokenCache', () => {
  it('returns the principal stored for a token', () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    const alice = principal('alice');
    cache.set('token-a', { principal: alice, kid: 'kid-1' }, HOUR);
    expect(cache.get('token-a')?.principal).toBe(alice);
    expect(cache.size).toBe(1);
  });

  it('misses for a different token, even one differing by a character', () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    cache.set('token-a', { principal: principal('alice'), kid: 'kid-1' }, HOUR);
    expect(cache.get('token-b')).toBeUndefined();
    expect(cache.get('token-a ')).toBeUndefined();
    expect(cache.get('token-')).toBeUndefined();
  });

  it('never holds more than maxEntries, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache<Entry>(3);
    for (let i = 0; i < 20; i++) {
      cache.set(`token-${i}`, { principal: principal(`p${i}`), kid: 'kid-1' }, HOUR);
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.size).toBe(3);
    expect(cache.get('token-0')).toBeUndefined();
    expect(cache.get('token-19')?.principal.oid).toBe('p19');
  });

  it('forgets an entry after its ttl', async () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    cache.set('short', { principal: principal('a'), kid: 'kid-1' }, 15);
    cache.set('long', { principal: principal('b'), kid: 'kid-1' }, HOUR);
    expect(cache.get('short')?.principal.oid).toBe('a');
    await sleep(40);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('long')?.principal.oid).toBe('b');
  });

  it('replace keeps the expiry of the entry it replaces', async () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    // Margins wide enough for a loaded machine: replaced well within the second, looked up well after it.
    cache.set('short', { principal: principal('a'), kid: 'kid-1' }, 1000);
    await sleep(100);
    const replacement = { principal: principal('b'), kid: 'kid-1' };
    cache.replace('short', replacement);
    expect(cache.get('short')).toBe(replacement);
    await sleep(1000);
    expect(cache.get('short')).toBeUndefined();
  });

  it('does not store with a ttl of zero or less', () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    cache.set('zero', { principal: principal('a'), kid: 'kid-1' }, 0);
    cache.set('negative', { principal: principal('b'), kid: 'kid-1' }, -5);
    expect(cache.get('zero')).toBeUndefined();
    expect(cache.get('negative')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('dropKeys removes only the entries verified by those kids', () => {
    const cache = new VerifiedTokenCache<Entry>(10);
    cache.set('t1', { principal: principal('a'), kid: 'kid-old' }, HOUR);
    cache.set('t2', { principal: principal('b'), kid: 'kid-new' }, HOUR);
    cache.set('t3', { principal: principal('c'), kid: 'kid-old' }, HOUR);
    cache.set('t4', { principal: principal('d'), kid: 'kid-other' }, HOUR);
    cache.dropKeys(['kid-old', 'kid-unknown']);
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.get('t3')).toBeUndefined();
    expect(cache.get('t2')?.principal.oid).toBe('b');
    expect(cache.get('t4')?.principal.oid).toBe('d');
    expect(cache.size).toBe(2);
  });

  it('maxEntries 0 disables it', () => {
    const cache = new VerifiedTokenCache<Entry>(0);
    cache.set('t1', { principal: principal('a'), kid: 'kid-1' }, HOUR);
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(() => cache.dropKeys(['kid-1'])).not.toThrow();
  });
});
