import { Module } from '@nestjs/common';
import { TodoListAdminController } from './todolist-admin.controller.js';
import { TodoListController } from './todolist.controller.js';
import { TodoListGateway } from './todolist.gateway.js';
import { TodoListService } from './todolist.service.js';

@Module({
  controllers: [TodoListController, TodoListAdminController],
  providers: [TodoListService, TodoListGateway],
})
export class TodoListModule {}
