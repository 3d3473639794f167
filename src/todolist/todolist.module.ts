import { Module, type DynamicModule } from '@nestjs/common';
import { TodoListAdminController } from './todolist-admin.controller.js';
import { todoListStatsController } from './todolist-stats.controller.js';
import { TodoListController } from './todolist.controller.js';
import { TodoListGateway } from './todolist.gateway.js';
import { TODOLIST_SEED, TodoListService, type TodoListSeed } from './todolist.service.js';

export type { TodoListSeed } from './todolist.service.js';

/** What the TodoList feature is configured with. */
export interface TodoListOptions {
  /** Object id of the admin group (`AZURE_ADMIN_GROUP_ID`): `GET /api/todolist/stats` is served only when it is set. */
  readonly adminGroupId?: string;
  /** Items to start with. */
  readonly seed?: TodoListSeed;
}

@Module({})
export class TodoListModule {
  static register(options: TodoListOptions = {}): DynamicModule {
    return {
      module: TodoListModule,
      // The stats route only when there is an admin group to check.
      controllers: [...(options.adminGroupId ? [todoListStatsController(options.adminGroupId)] : []), TodoListController, TodoListAdminController],
      providers: [TodoListService, TodoListGateway, { provide: TODOLIST_SEED, useValue: options.seed ?? [] }],
    };
  }
}
