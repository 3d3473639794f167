import { Agent } from 'node:https';
import type { DynamicModule } from '@nestjs/common';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import type { TodoListOptions } from '../todolist/todolist.module.js';
import { DEV_ADMIN_GROUP_ID, DEV_DIRECTORY_USERS, devSeed } from './dev-directory.js';
import { DevEmulatorModule } from './dev-emulator.module.js';
import { formatDevExamples } from './dev-examples.js';

/** Entra's usual access-token lifetime is about an hour; the printed tokens last as long. */
const TOKEN_LIFETIME_SECONDS = 3600;

/** A running dev mode: the emulator, the module options that trust it, and the printed examples. */
export interface DevMode {
  /** Options for `AzureAuthModule.forRoot` pointing at the emulator. */
  readonly auth: AzureAuthModuleOptions;
  /** The TodoList's admin group (an emulator group) and the item of the stepped-up delete. */
  readonly todoList: TodoListOptions;
  /** Stops the emulator when the app closes. */
  readonly module: DynamicModule;
  /**
   * Swagger UI's client id when AZURE_SWAGGER_CLIENT_ID is not set: the emulator's calling
   * application, so that the Authorize button signs in through the emulator with nothing to configure.
   */
  readonly swaggerClientId: string;
  /**
   * Where Swagger UI's sign-in goes: the emulator's plain-HTTP door, since a browser does not
   * trust the certificate authority the emulator's HTTPS comes with.
   */
  readonly swaggerAuthorityHost: string;
  /**
   * The block of ready-to-paste curl commands for an API listening at `baseUrl`, with fresh tokens,
   * and a pointer to Swagger UI when `swaggerUiUrl` is given.
   */
  examples(baseUrl: string, swaggerUiUrl?: string): string;
  /** For a start that failed before the app took ownership of the emulator. */
  stop(): Promise<void>;
}

/**
 * Starts a local Entra emulator on loopback, in this process. Loaded only in dev mode, so a
 * configured API never even imports the emulator. Its sign-in endpoints make Swagger UI's
 * Authorize button work: they sign the emulated user in without any page, for loopback pages only.
 */
export async function startDevMode(swaggerClientId?: string): Promise<DevMode> {
  // The emulator's sign-in serves only clients it knows: its own, and Swagger UI's when one is configured.
  // HTTPS, because MSAL Node (the on-behalf-of call of GET /api/me/profile) refuses http://
  // authorities; only this process trusts the emulator's certificate authority, through the
  // module's agent. The emulator also answers as Microsoft Graph: it knows the admin group's
  // members, for the user whose token has a groups overage.
  const entra = await EntraEmulator.start({ https: true, signInClientIds: swaggerClientId ? [swaggerClientId] : [], directoryUsers: DEV_DIRECTORY_USERS });
  const agent = new Agent({ ca: entra.certificateAuthority, keepAlive: true });
  return {
    auth: {
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      authorityHost: entra.authorityHost,
      httpAgent: agent,
      clientCredential: { clientSecret: entra.clientSecret },
    },
    todoList: { adminGroupId: DEV_ADMIN_GROUP_ID, seed: devSeed(entra.tenantId) },
    module: DevEmulatorModule.forEmulator(entra, agent),
    swaggerClientId: entra.clientAppId,
    swaggerAuthorityHost: entra.httpAuthorityHost!,
    examples: (baseUrl, swaggerUiUrl) =>
      formatDevExamples({
        baseUrl,
        swaggerUiUrl,
        authorityHost: entra.authorityHost,
        tenantId: entra.tenantId,
        clientId: entra.clientId,
        mint: (options) => entra.mintAccessToken(options),
        lifetimeSeconds: TOKEN_LIFETIME_SECONDS,
      }),
    stop: async () => {
      agent.destroy();
      await entra.stop();
    },
  };
}
