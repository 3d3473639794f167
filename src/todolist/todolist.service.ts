import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { TodoItem, TodoListCaller } from './todo-item.js';

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
    const items = this.tenants.get(caller.tid);
    if (items) items.push(item);
    else this.tenants.set(caller.tid, [item]);
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

  /** Counts for the admin view of one tenant. */
  summary(tenantId: string): { items: number; owners: number } {
    const items = this.tenants.get(tenantId) ?? [];
    return { items: items.length, owners: new Set(items.map((item) => item.owner)).size };
  }
}
