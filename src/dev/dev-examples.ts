import type { MintOptions } from 'nestjs-azure-auth/testing';
import { DEV_ADMIN_GROUP_ID, DEV_OVERAGE_USER_ID, DEV_STEP_UP_ITEM_ID, DEV_STEP_UP_USER_ID } from './dev-directory.js';

/** One ready-to-paste call printed in dev mode. */
export interface DevExample {
  /** One word naming the caller, first on the comment line. */
  readonly caller: string;
  /** Who the caller is and why the answer is what it is; no parentheses. */
  readonly description: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
  /** The status the API answers; printed so that the line can be checked by eye and by test. */
  readonly expectedStatus: number;
  readonly token: MintOptions;
}

const MICROSOFT_GRAPH = '00000003-0000-0000-c000-000000000000';

/**
 * The calls dev mode prints, in an order that tells a story: the writer adds an item, the same
 * user reading sees it, the daemon sees everyone's, a delete is challenged and then done with a
 * stepped-up token, the admin group's members (one through Graph) see the counts, and others are refused.
 */
export const DEV_EXAMPLES: readonly DevExample[] = Object.freeze([
  {
    caller: 'writer',
    description: 'user, scope Todolist.ReadWrite',
    method: 'POST',
    path: '/api/todolist',
    body: { description: 'Try nestjs-azure-auth' },
    expectedStatus: 201,
    token: { scopes: ['Todolist.ReadWrite'] },
  },
  {
    caller: 'reader',
    description: 'the same user, scope Todolist.Read: sees their own items',
    method: 'GET',
    path: '/api/todolist',
    expectedStatus: 200,
    token: { scopes: ['Todolist.Read'] },
  },
  {
    caller: 'daemon',
    description: 'app-only, app permission Todolist.Read.All: sees the items of every user',
    method: 'GET',
    path: '/api/todolist',
    expectedStatus: 200,
    token: { kind: 'app', roles: ['Todolist.Read.All'] },
  },
  {
    caller: 'admin',
    description: 'user, scope Todolist.Read and app role TaskAdmin',
    method: 'GET',
    path: '/api/admin',
    expectedStatus: 200,
    token: { scopes: ['Todolist.Read'], roles: ['TaskAdmin'] },
  },
  {
    caller: 'reader',
    description: 'refused: writing needs scope Todolist.ReadWrite',
    method: 'POST',
    path: '/api/todolist',
    body: { description: 'Not allowed' },
    expectedStatus: 403,
    token: { scopes: ['Todolist.Read'] },
  },
  {
    caller: 'writer',
    description: 'challenged: deleting also needs the authentication context c1; this SPA declared cp1, so the 401 carries the claims to sign in again with',
    method: 'DELETE',
    path: '/api/todolist/00000000-0000-4000-8000-000000000000',
    expectedStatus: 401,
    token: { scopes: ['Todolist.ReadWrite'], clientCapabilities: ['cp1'] },
  },
  {
    caller: 'stepped',
    description: 'a user whose token satisfied c1, as after that challenge: deletes the item dev mode keeps for them, once',
    method: 'DELETE',
    path: `/api/todolist/${DEV_STEP_UP_ITEM_ID}`,
    expectedStatus: 204,
    token: { scopes: ['Todolist.ReadWrite'], oid: DEV_STEP_UP_USER_ID, authContexts: ['c1'], clientCapabilities: ['cp1'] },
  },
  {
    caller: 'member',
    description: 'user, scope Todolist.Read, in the admin group: items per owner',
    method: 'GET',
    path: '/api/todolist/stats',
    expectedStatus: 200,
    token: { scopes: ['Todolist.Read'], groups: [DEV_ADMIN_GROUP_ID] },
  },
  {
    caller: 'overage',
    description: 'an admin in too many groups for the token: the API asks the emulated Microsoft Graph on their behalf',
    method: 'GET',
    path: '/api/todolist/stats',
    expectedStatus: 200,
    token: { scopes: ['Todolist.Read'], oid: DEV_OVERAGE_USER_ID, groupsOverage: true },
  },
  {
    caller: 'outsider',
    description: 'refused: a user not in the admin group',
    method: 'GET',
    path: '/api/todolist/stats',
    expectedStatus: 403,
    token: { scopes: ['Todolist.Read'], groups: [] },
  },
  {
    caller: 'graph',
    description: 'refused: a Microsoft Graph token, what a SPA gets when it asks for User.Read instead of the scope of this API',
    method: 'GET',
    path: '/api/me',
    expectedStatus: 401,
    token: { scopes: ['User.Read'], audience: MICROSOFT_GRAPH, header: { nonce: 'graph-only' } },
  },
  {
    caller: 'profile',
    description: 'a user, any scope: the API calls Microsoft Graph /v1.0/me on their behalf, the emulator answering as Graph',
    method: 'GET',
    path: '/api/me/profile',
    expectedStatus: 200,
    token: { scopes: ['Todolist.Read'] },
  },
]);

/** Quotes a word for POSIX shells only when it needs it, so URLs stay readable. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The curl command for one example. */
export function curlCommand(example: DevExample, baseUrl: string, token: string): string {
  const words = ['curl', '-i'];
  if (example.method !== 'GET') words.push('-X', example.method);
  words.push('-H', shellWord(`Authorization: Bearer ${token}`));
  if (example.body !== undefined) {
    words.push('-H', shellWord('Content-Type: application/json'), '-d', shellWord(JSON.stringify(example.body)));
  }
  words.push(shellWord(`${baseUrl}${example.path}`));
  return words.join(' ');
}

/** The comment line above a curl command: `# caller (description): METHOD /path -> status`. */
export function exampleHeading(example: DevExample): string {
  return `# ${example.caller} (${example.description}): ${example.method} ${example.path} -> ${example.expectedStatus}`;
}

/**
 * A socket.io client to paste (in the repository, which has socket.io-client) that watches the
 * sample gateway: it subscribes on `/todolist` and prints each item its user adds, or why it was refused.
 */
export function liveUpdatesCommand(baseUrl: string, token: string): string {
  const script = [
    `import { io } from 'socket.io-client';`,
    `const socket = io(${JSON.stringify(`${baseUrl}/todolist`)}, { auth: { token: ${JSON.stringify(token)} } });`,
    `socket.on('connect', () => socket.emit('subscribe'));`,
    `socket.on('subscribed', ({ items }) => console.log('subscribed:', items.length, 'items so far; waiting for new ones'));`,
    `socket.on('todoAdded', (item) => console.log('todoAdded', item));`,
    `socket.on('exception', (refusal) => console.log('refused', refusal));`,
    `socket.on('connect_error', (error) => console.log('refused', error.data ?? error.message));`,
    `socket.on('disconnect', (reason) => console.log('disconnected:', reason));`,
  ].join(' ');
  return `node --input-type=module -e ${shellWord(script)}`;
}

/** The heading of the live-updates client in the dev-mode block. */
export const LIVE_UPDATES_HEADING =
  "# live (the reader, scope Todolist.Read): socket.io namespace /todolist; run it in another terminal, then the writer's call above";

/** What {@link formatDevExamples} prints about the emulator. */
export interface DevExamplesContext {
  readonly baseUrl: string;
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  /** Mints a token for an example; the lifetime is set by the caller. */
  readonly mint: (options: MintOptions) => string;
  /** Lifetime of the printed tokens, in seconds. */
  readonly lifetimeSeconds: number;
  readonly now?: Date;
  /** Where Swagger UI is served; its Authorize button signs in through the emulator. */
  readonly swaggerUiUrl?: string;
}

/** The whole dev-mode block: an explanation, then one heading and one curl command per example. */
export function formatDevExamples(context: DevExamplesContext, examples: readonly DevExample[] = DEV_EXAMPLES): string {
  const now = context.now ?? new Date();
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + context.lifetimeSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Every line that is not a command is a shell comment, so pasting the whole block is harmless.
  const lines = [
    '',
    '# Dev mode: AZURE_TENANT_ID and AZURE_CLIENT_ID are not set, so this API trusts only a local Entra emulator',
    `# at ${context.authorityHost} (tenant ${context.tenantId}, API client id ${context.clientId}).`,
    `# Paste these calls into a terminal; their tokens are valid until ${expiresAt} (restart for fresh ones).`,
    ...(context.swaggerUiUrl === undefined ? [] : [`# Swagger UI: ${context.swaggerUiUrl} (Authorize signs you in at once as the emulator's user).`]),
    '',
  ];
  for (const example of examples) {
    const token = context.mint({ ...example.token, issuedAt, expiresInSeconds: context.lifetimeSeconds });
    lines.push(exampleHeading(example), curlCommand(example, context.baseUrl, token), '');
  }
  const reader = context.mint({ scopes: ['Todolist.Read'], issuedAt, expiresInSeconds: context.lifetimeSeconds });
  lines.push(LIVE_UPDATES_HEADING, liveUpdatesCommand(context.baseUrl, reader), '');
  lines.push('# Set AZURE_TENANT_ID and AZURE_CLIENT_ID to validate tokens from your own tenant instead.', '');
  return lines.join('\n');
}
