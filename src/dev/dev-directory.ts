import { ENTRA_EMULATOR_DEFAULTS, type EmulatedDirectoryUser } from 'nestjs-azure-auth/testing';
import type { TodoListSeed } from '../todolist/todolist.module.js';

/** The dev-mode admin group (`GET /api/todolist/stats`): an emulator group, in no real tenant. */
export const DEV_ADMIN_GROUP_ID = '5e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b';
/** A member of the admin group whose tokens carry a groups overage: the API asks the emulator's Graph. */
export const DEV_OVERAGE_USER_ID = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
/** A user who owns one item, which dev mode's stepped-up delete removes. */
export const DEV_STEP_UP_USER_ID = '9c0d1e2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f';
/** That item's id. */
export const DEV_STEP_UP_ITEM_ID = '3f4e5d6c-7b8a-4996-8877-665544332211';

/** Who the emulated directory (its Microsoft Graph) knows: the default user and the overage user, both admins. */
export const DEV_DIRECTORY_USERS: EmulatedDirectoryUser[] = [
  { oid: ENTRA_EMULATOR_DEFAULTS.userObjectId, groups: [DEV_ADMIN_GROUP_ID] },
  { oid: DEV_OVERAGE_USER_ID, displayName: 'Emulated Overage User', groups: [DEV_ADMIN_GROUP_ID] },
];

/** The item the stepped-up delete removes, in the emulator's tenant. */
export function devSeed(tenantId: string): TodoListSeed {
  return [{ tenantId, item: { id: DEV_STEP_UP_ITEM_ID, description: 'Delete me with a stepped-up token', owner: DEV_STEP_UP_USER_ID } }];
}
