import { TodoListService } from './todolist.service.js';

const TENANT = '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d';
const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const alice = { oid: 'alice', tid: TENANT, appOnly: false };
const bob = { oid: 'bob', tid: TENANT, appOnly: false };
const daemon = { oid: 'daemon', tid: TENANT, appOnly: true };

describe('TodoListService', () => {
  let service: TodoListService;
  beforeEach(() => (service = new TodoListService()));

  it('gives each item an id and its creator as owner', () => {
    const first = service.add(alice, 'Buy milk');
    const second = service.add(alice, 'Buy milk');
    expect(first).toEqual({ id: expect.any(String), description: 'Buy milk', owner: 'alice' });
    expect(second.id).not.toBe(first.id);
  });

  it('shows users their own items and an app-only caller every item of its tenant, in creation order', () => {
    const a = service.add(alice, 'a');
    const b = service.add(bob, 'b');
    const d = service.add(daemon, 'd');
    expect(service.list(alice)).toEqual([a]);
    expect(service.list(bob)).toEqual([b]);
    expect(service.list(daemon)).toEqual([a, b, d]);
  });

  it('keeps tenants apart, even for the same oid', () => {
    service.add(alice, 'home');
    expect(service.list({ ...alice, tid: OTHER_TENANT })).toEqual([]);
    expect(service.list({ ...daemon, tid: OTHER_TENANT })).toEqual([]);
    expect(service.summary(OTHER_TENANT)).toEqual({ items: 0, owners: 0 });
  });

  it("removes only the caller's own item, in the caller's tenant", () => {
    const a = service.add(alice, 'a');
    const b = service.add(bob, 'b');
    expect(service.remove(bob, a.id)).toBe(false);
    expect(service.remove({ ...alice, tid: OTHER_TENANT }, a.id)).toBe(false);
    expect(service.remove(alice, a.id)).toBe(true);
    expect(service.remove(alice, a.id)).toBe(false);
    expect(service.list(daemon)).toEqual([b]);
  });

  it('hands out copies: a caller cannot change the store through a listed array', () => {
    service.add(alice, 'a');
    (service.list(daemon) as unknown[]).push('junk');
    expect(service.list(daemon)).toHaveLength(1);
  });

  it('counts items and distinct owners per tenant', () => {
    service.add(alice, 'a');
    service.add(alice, 'b');
    service.add(bob, 'c');
    expect(service.summary(TENANT)).toEqual({ items: 3, owners: 2 });
  });

  it('counts items per owner of one tenant, most first', () => {
    service.add(bob, 'c');
    service.add(alice, 'a');
    service.add(alice, 'b');
    service.add({ ...alice, tid: OTHER_TENANT }, 'elsewhere');
    expect(service.countsByOwner(TENANT)).toEqual([
      { owner: alice.oid, items: 2 },
      { owner: bob.oid, items: 1 },
    ]);
    expect(service.countsByOwner('5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f')).toEqual([]);
  });

  it('starts with the seed it is given, each item in its tenant', () => {
    const seeded = new TodoListService([{ tenantId: TENANT, item: { id: 'seeded', description: 'kept', owner: alice.oid } }]);
    expect(seeded.list(alice)).toEqual([{ id: 'seeded', description: 'kept', owner: alice.oid }]);
    expect(seeded.list({ ...alice, tid: OTHER_TENANT })).toEqual([]);
    expect(seeded.remove(alice, 'seeded')).toBe(true);
  });
});
