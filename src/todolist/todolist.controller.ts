import { Body, Controller, Get, Post } from '@nestjs/common';
import { AppPermissions, AzureUser, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
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
}
