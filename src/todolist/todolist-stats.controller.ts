import { Controller, Get, Inject, type Type } from '@nestjs/common';
import { AzureUser, Groups } from 'nestjs-azure-auth';
import { TodoListService, type OwnerCount } from './todolist.service.js';

/**
 * `GET /api/todolist/stats` for the members of one security group, the admin group: its object id
 * comes from configuration (`AZURE_ADMIN_GROUP_ID`), so the controller is made for it at start.
 * A member whose token has a groups overage is looked up in Microsoft Graph by the module.
 */
export function todoListStatsController(adminGroupId: string): Type {
  @Controller('api/todolist')
  class TodoListStatsController {
    constructor(@Inject(TodoListService) private readonly todoList: TodoListService) {}

    @Groups(adminGroupId)
    @Get('stats')
    stats(@AzureUser('tid') tenantId: string): { tenantId: string; owners: OwnerCount[] } {
      return { tenantId, owners: this.todoList.countsByOwner(tenantId) };
    }
  }
  return TodoListStatsController;
}
