import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { AppPermissions } from '../decorators/app-permissions.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { Roles } from '../decorators/roles.decorator.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { RouteRequirementsReader } from './route-requirements.js';

@Scopes('Todolist.Read')
@Roles('Reader')
class GuardedController {
  inherits() {}

  @AppPermissions('Todolist.Read.All')
  daemonOnly() {}

  @Public()
  open() {}
}

@Public()
class PublicController {
  open() {}

  @Scopes('Todolist.Read')
  guarded() {}
}

/** A controller inheriting every handler of GuardedController, with requirements of its own. */
@Scopes('Todolist.ReadWrite')
class WriterController extends GuardedController {}

function contextFor(controller: new () => object, handler: string) {
  const context = new ExecutionContextHost([]);
  context.setType('http');
  Object.assign(context, { getClass: () => controller, getHandler: () => (controller.prototype as Record<string, unknown>)[handler] });
  return context;
}

function read(controller: new () => object, handler: string, reader = new RouteRequirementsReader()) {
  return reader.read(contextFor(controller, handler));
}

describe('RouteRequirementsReader', () => {
  it('gives a handler without decorators the controller requirements', () => {
    expect(read(GuardedController, 'inherits')).toEqual({
      isPublic: false,
      permissions: { scopes: ['Todolist.Read'], roles: ['Reader'], appPermissions: undefined },
    });
  });

  it('replaces all controller requirements when the handler states any (no merging of kinds)', () => {
    expect(read(GuardedController, 'daemonOnly')).toEqual({
      isPublic: false,
      permissions: { scopes: undefined, roles: undefined, appPermissions: ['Todolist.Read.All'] },
    });
    expect(read(GuardedController, 'open').isPublic).toBe(true);
  });

  it('guards a handler with @Scopes inside a @Public controller', () => {
    expect(read(PublicController, 'open').isPublic).toBe(true);
    expect(read(PublicController, 'guarded')).toEqual({ isPublic: false, permissions: { scopes: ['Todolist.Read'], roles: undefined, appPermissions: undefined } });
  });

  it('gives one inherited handler the requirements of each controller, also once read (remembered per controller)', () => {
    const reader = new RouteRequirementsReader();
    for (let round = 0; round < 2; round++) {
      expect(read(GuardedController, 'inherits', reader).permissions.scopes).toEqual(['Todolist.Read']);
      expect(read(WriterController, 'inherits', reader).permissions.scopes).toEqual(['Todolist.ReadWrite']);
    }
    // The handler's own decorators still win in both controllers.
    expect(read(WriterController, 'daemonOnly', reader).permissions.appPermissions).toEqual(['Todolist.Read.All']);
  });
});

/** A subclass of a @Public base that guards itself. */
@Public()
class OpenBaseController {
  list() {}
}

@Scopes('Todolist.Read')
class GuardedSubController extends OpenBaseController {}

class UndecoratedSubController extends OpenBaseController {}

describe('RouteRequirementsReader with inherited controllers', () => {
  it("lets a subclass's own @Scopes win over a base class's @Public", () => {
    expect(read(GuardedSubController, 'list')).toEqual({
      isPublic: false,
      permissions: { scopes: ['Todolist.Read'], roles: undefined, appPermissions: undefined },
    });
  });

  it("does not mix a base class's @Roles into a subclass that states its own requirements", () => {
    expect(read(WriterController, 'inherits').permissions).toEqual({ scopes: ['Todolist.ReadWrite'], roles: undefined, appPermissions: undefined });
  });

  it('gives a subclass without decorators of its own the nearest base class requirements', () => {
    expect(read(UndecoratedSubController, 'list').isPublic).toBe(true);
  });
});
