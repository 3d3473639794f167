import { ConnectedSocket, SubscribeMessage, WebSocketGateway, type OnGatewayInit } from '@nestjs/websockets';
import { AppPermissions, AzureUser, AzureWebSocketAuth, Scopes, type AzurePrincipal } from 'nestjs-azure-auth';
import type { Namespace, Socket } from 'socket.io';
import type { TodoItem, TodoListCaller } from './todo-item.js';
import { TodoListService } from './todolist.service.js';

/** The event a subscribed client receives for each item its owner adds. */
export const TODO_ADDED_EVENT = 'todoAdded';

/** Who receives an item: its owner's connections, and the daemons of its tenant. */
const ownerRoom = (tid: string, oid: string) => `owner:${tid}:${oid}`;
const tenantRoom = (tid: string) => `tenant:${tid}`;

/**
 * Live updates of the TodoList over socket.io (namespace `/todolist`). The connection is
 * authenticated once, at connect, with the caller's access token (`io(url, { auth: { token } })`)
 * and closed when it expires; `subscribe` then needs what reading the list over HTTP needs. The
 * app's global `AzureAuthGuard` checks every message, as it checks every HTTP call.
 */
@WebSocketGateway({ namespace: 'todolist' })
export class TodoListGateway implements OnGatewayInit {
  constructor(
    private readonly todoList: TodoListService,
    private readonly webSocketAuth: AzureWebSocketAuth,
  ) {}

  afterInit(server: Namespace): void {
    this.webSocketAuth.protect(server);
    this.todoList.onAdded((caller: TodoListCaller, item: TodoItem) => {
      server.to([ownerRoom(caller.tid, item.owner), tenantRoom(caller.tid)]).emit(TODO_ADDED_EVENT, item);
    });
  }

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @AppPermissions('Todolist.Read.All', 'Todolist.ReadWrite.All')
  @SubscribeMessage('subscribe')
  async subscribe(@AzureUser() caller: AzurePrincipal, @ConnectedSocket() socket: Socket) {
    // A user follows their own items; an application calling as itself, everyone's in its tenant.
    await socket.join(caller.appOnly ? tenantRoom(caller.tid) : ownerRoom(caller.tid, caller.oid));
    return { event: 'subscribed', data: { items: this.todoList.list(caller) } };
  }
}
