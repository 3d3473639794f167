import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { TodoItem, TodoListCaller } from './todo-item.js';

/** Items the list starts with, each in its tenant (dev mode's item for the stepped-up delete). */
export type TodoListSeed = ReadonlyArray<{ readonly tenantId: string; readonly item: TodoItem }>;
export const TODOLIST_SEED = 'SAMPLE:TODOLIST_SEED';

/** How many items one owner has. */
export interface OwnerCount {
  readonly owner: string;
  readonly items: number;
}

/**
 * In-memory to-do lists, as in Microsoft's TodoList samples: a user sees the items they created,
 * an application calling as itself sees everyone's. Items are kept per tenant, because an `oid`
 * names an object within its tenant and a multi-tenant API must never show one tenant's data to
 * another.
 */
@Injectable()
export class TodoListService {
  private readonly tenants = new Map<string, TodoItem[]>();
  private readonly addedListeners: Array<(caller: TodoListCaller, item: TodoItem) => void> = [];

  constructor(@Optional() @Inject(TODOLIST_SEED) seed: TodoListSeed = []) {
    for (const { tenantId, item } of seed) this.itemsOf(tenantId).push(Object.freeze({ ...item }));
  }

  private itemsOf(tenantId: string): TodoItem[] {
    let items = this.tenants.get(tenantId);
    if (!items) {
      items = [];
      this.tenants.set(tenantId, items);
    }
    return items;
  }

  /** Calls `listener` with each item added from now on (the live updates of the gateway). */
  onAdded(listener: (caller: TodoListCaller, item: TodoItem) => void): void {
    this.addedListeners.push(listener);
  }

  list(caller: TodoListCaller): TodoItem[] {
    const items = this.tenants.get(caller.tid) ?? [];
    return caller.appOnly ? [...items] : items.filter((item) => item.owner === caller.oid);
  }

  add(caller: TodoListCaller, description: string): TodoItem {
    const item: TodoItem = Object.freeze({ id: randomUUID(), description, owner: caller.oid });
    this.itemsOf(caller.tid).push(item);
    for (const listener of this.addedListeners) listener(caller, item);
    return item;
  }

  /** Deletes one of the caller's own items; `false` when the caller has no item with that id. */
  remove(caller: TodoListCaller, id: string): boolean {
    const items = this.tenants.get(caller.tid) ?? [];
    const index = items.findIndex((item) => item.id === id && item.owner === caller.oid);
    if (index === -1) return false;
    items.splice(index, 1);
    return true;
  }

  /** Items per owner in one tenant, most first (then by owner id). */
  countsByOwner(tenantId: string): OwnerCount[] {
    const counts = new Map<string, number>();
    for (const item of this.tenants.get(tenantId) ?? []) counts.set(item.owner, (counts.get(item.owner) ?? 0) + 1);
    return [...counts].map(([owner, items]) => ({ owner, items })).sort((a, b) => b.items - a.items || a.owner.localeCompare(b.owner));
  }

  /** Counts for the admin view of one tenant. */
  summary(tenantId: string): { items: number; owners: number } {
    const items = this.tenants.get(tenantId) ?? [];
    return { items: items.length, owners: new Set(items.map((item) => item.owner)).size };
  }
}
