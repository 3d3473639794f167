import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { AppPermissions, AzureUser, RequireAuthContext, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
import { CreateTodoItemDto } from './create-todo-item.dto.js';
import type { TodoItem } from './todo-item.js';
import { TodoListService } from './todolist.service.js';

/**
 * The TodoList API. Users reach it through the scopes a SPA asks MSAL for
 * (`api://{clientId}/Todolist.Read`); daemons through the application permissions granted to them.
 */
@Controller('api/todolist')
export class TodoListController {
  constructor(private readonly todoList: TodoListService) {}

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @AppPermissions('Todolist.Read.All', 'Todolist.ReadWrite.All')
  @Get()
  list(@AzureUser() caller: AzurePrincipal): TodoItem[] {
    return this.todoList.list(caller);
  }

  @Scopes('Todolist.ReadWrite')
  @AppPermissions('Todolist.ReadWrite.All')
  @Post()
  add(@AzureUser() caller: AzurePrincipal, @Body() body: CreateTodoItemDto): TodoItem {
    return this.todoList.add(caller, body.description);
  }

  /**
   * Deleting is the sensitive step: besides the scope, the user must have satisfied the
   * Conditional Access authentication context `c1` (step-up). Only the caller's own items.
   */
  @Scopes('Todolist.ReadWrite')
  @RequireAuthContext('c1')
  @HttpCode(204)
  @Delete(':id')
  remove(@AzureUser() caller: AzurePrincipal, @Param('id') id: string): void {
    if (!this.todoList.remove(caller, id)) throw new NotFoundException(`No item ${id} of yours`);
  }
}
