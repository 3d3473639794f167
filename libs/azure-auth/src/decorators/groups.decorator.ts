import { Reflector } from '@nestjs/core';
import { DIRECTORY_ROLES_KEY, GROUPS_KEY } from '../azure-auth.constants.js';
import { isGuid } from '../shared/guid.js';
import { decoratorValues } from './permission-names.js';

/** @internal */
export const GroupsMetadata = Reflector.createDecorator<readonly string[]>({ key: GROUPS_KEY });
/** @internal */
export const DirectoryRolesMetadata = Reflector.createDecorator<readonly string[]>({ key: DIRECTORY_ROLES_KEY });

/** Validates object ids at definition time (the `groups` and `wids` claims hold GUIDs, lower case). */
function objectIds(decorator: string, ids: readonly string[]): readonly string[] {
  return Object.freeze(decoratorValues(decorator, ids, { one: 'id', valid: 'an object id (a GUID)', test: isGuid }).map((id) => id.toLowerCase()));
}

/**
 * Security groups: a token whose `groups` claim holds **any one** of the group object ids (the
 * app registration must emit the claim: Token configuration > Add groups claim). A user in more
 * groups than a token holds (overage) has no `groups` claim: see README "Groups and directory roles".
 *
 * @example
 * ```ts
 * @Groups('8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f')
 * @Get('stats')
 * stats() { ... }
 * ```
 */
export const Groups = (...groupObjectIds: string[]): ClassDecorator & MethodDecorator => GroupsMetadata(objectIds('Groups', groupObjectIds));

/**
 * Microsoft Entra directory roles: a token whose `wids` claim holds **any one** of the role
 * template ids (for example Global Administrator `62e90394-69f5-4237-9190-012177145e10`).
 */
export const DirectoryRoles = (...roleTemplateIds: string[]): ClassDecorator & MethodDecorator =>
  DirectoryRolesMetadata(objectIds('DirectoryRoles', roleTemplateIds));
