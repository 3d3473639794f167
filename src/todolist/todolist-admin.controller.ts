import { Controller, Get } from '@nestjs/common';
import { AzureUser, Roles } from 'nestjs-azure-auth';
import { TodoListService } from './todolist.service.js';

/** For users holding the `TaskAdmin` app role (assigned in Entra under Enterprise applications). */
@Controller('api/admin')
export class TodoListAdminController {
  constructor(private readonly todoList: TodoListService) {}

  @Roles('TaskAdmin')
  @Get()
  summary(@AzureUser('tid') tenantId: string): { tenantId: string; items: number; owners: number } {
    return { tenantId, ...this.todoList.summary(tenantId) };
  }
}
