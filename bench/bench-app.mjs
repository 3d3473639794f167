/**
 * The benchmark's Nest app, written with Nest's decorators called as plain functions so that the
 * bench runs as JavaScript with no compile step of its own. Routes mirror the sample API:
 * `GET /api/open` (@Public), `GET /api/me` (any valid token), `GET /api/todolist` (@Scopes); and two
 * diagnostic routes, requested only when `BENCH_HTTP_DIAGNOSTIC=1`: `GET /api/me-answer` (@Public,
 * `/api/me`'s answer) and `GET /api/checked` (any valid token, `/api/open`'s answer).
 */
import 'reflect-metadata';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Scopes } from 'nestjs-azure-auth';
import { BENCH_SCOPES } from './tokens.mjs';

/** `GET /api/open`, `/api/me`, `/api/todolist`, guarded by `AzureAuthGuard`. */
export class BenchController {
  open() {
    return { open: true };
  }

  me(user) {
    return { oid: user.oid, tid: user.tid, name: user.name, scopes: user.scopes };
  }

  todolist() {
    return [{ id: 1, title: 'Measure before optimising', done: false }];
  }

  /** `/api/me`'s answer to the bench's tokens, the same shape and size, without a caller (a diagnostic route). */
  meAnswer() {
    return { oid: ANSWER_GUID, tid: ANSWER_GUID, name: 'Emulated User', scopes: [...BENCH_SCOPES] };
  }

  /** Any valid token, answered as `/api/open` answers: the guard's check alone (a diagnostic route). */
  checked() {
    return { open: true };
  }
}

/** A GUID as long as the `oid` and `tid` that `/api/me` answers with. */
const ANSWER_GUID = '00000000-0000-4000-8000-000000000000';

function decorateMethod(target, name, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  for (const decorator of decorators) decorator(target.prototype, name, descriptor);
}

Controller('api')(BenchController);
UseGuards(AzureAuthGuard)(BenchController);
decorateMethod(BenchController, 'open', Get('open'), Public());
decorateMethod(BenchController, 'me', Get('me'));
AzureUser()(BenchController.prototype, 'me', 0);
decorateMethod(BenchController, 'todolist', Get('todolist'), Scopes('Todolist.Read'));
decorateMethod(BenchController, 'meAnswer', Get('me-answer'), Public());
decorateMethod(BenchController, 'checked', Get('checked'));

/** A root module with the library configured against the emulator. */
export function benchModule(entra, extra = {}) {
  class BenchAppModule {}
  Module({
    imports: [
      AzureAuthModule.forRoot({ tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost, ...extra }),
    ],
    controllers: [BenchController],
  })(BenchAppModule);
  return BenchAppModule;
}
