import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';

/** The environment as `process.env` gives it; only the variables below are read. */
export type AppEnvironment = Readonly<Record<string, string | undefined>>;

/** The module options the sample takes from the environment. */
export type AzureAuthEnvironmentOptions = Pick<AzureAuthModuleOptions, 'tenantId' | 'clientId' | 'authorityHost' | 'allowedTenants'>;

/** Both AZURE_TENANT_ID and AZURE_CLIENT_ID are set: tokens come from a real Entra authority. */
export interface AzureModeConfig {
  readonly mode: 'azure';
  readonly auth: AzureAuthEnvironmentOptions;
  /** Swagger UI's own (SPA) app registration, from AZURE_SWAGGER_CLIENT_ID. */
  readonly swaggerClientId: string | undefined;
  readonly port: number;
  /** Interface to bind; `undefined` binds every interface, as a deployed API needs. */
  readonly host: string | undefined;
}

/** Neither is set: the app starts a local Entra emulator and trusts only it. */
export interface DevModeConfig {
  readonly mode: 'dev';
  readonly swaggerClientId: string | undefined;
  readonly port: number;
  readonly host: string;
}

export type AppConfig = AzureModeConfig | DevModeConfig;

/** A configuration the app refuses to start with; the message names the variable to fix. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
}

export const DEFAULT_PORT = 3000;
/** Dev mode trusts tokens anyone on this machine can mint: keep it off the network unless HOST says otherwise. */
export const DEV_MODE_HOST = '127.0.0.1';

// Entra's names for "any tenant of a kind"; `consumers` is a single tenant (personal accounts) and
// needs no allow-list, which is also how AzureAuthModule sees it.
const TENANTS_NEEDING_ALLOW_LIST: ReadonlySet<string> = new Set(['common', 'organizations']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEV_MODE_HINT = 'unset both AZURE_TENANT_ID and AZURE_CLIENT_ID to run in dev mode with a local Entra emulator';

/** A blank variable (`AZURE_TENANT_ID=` in a .env file) counts as unset. */
function read(env: AppEnvironment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function parsePort(env: AppEnvironment): number {
  const raw = read(env, 'PORT');
  if (raw === undefined) return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new AppConfigError(`PORT must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function parseAllowedTenants(raw: string, tenantId: string): string[] {
  if (!TENANTS_NEEDING_ALLOW_LIST.has(tenantId.toLowerCase())) {
    throw new AppConfigError(
      `AZURE_ALLOWED_TENANTS applies only when AZURE_TENANT_ID is common or organizations; AZURE_TENANT_ID is "${tenantId}", which trusts that tenant alone: unset AZURE_ALLOWED_TENANTS`,
    );
  }
  const tenants = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const wrong = tenants.find((entry) => !GUID.test(entry));
  if (tenants.length === 0 || wrong !== undefined) {
    throw new AppConfigError(
      `AZURE_ALLOWED_TENANTS must be a comma-separated list of tenant GUIDs${wrong === undefined ? '' : `, got ${JSON.stringify(wrong)}`}`,
    );
  }
  return tenants;
}

/**
 * Reads the sample's configuration from environment variables named as in the Azure SDKs. Pure:
 * it only reads `env`, and throws {@link AppConfigError} with a message naming the variable at fault.
 * Formats the library checks itself (GUIDs, the authority URL) are left to `AzureAuthModule`,
 * whose messages name the option.
 *
 * - `AZURE_TENANT_ID` and `AZURE_CLIENT_ID` both set: validate tokens of that tenant for that API.
 * - neither set: dev mode (never when `NODE_ENV` is `production`).
 * - one set without the other: refused, naming the missing one.
 */
export function parseAppConfig(env: AppEnvironment): AppConfig {
  const tenantId = read(env, 'AZURE_TENANT_ID');
  const clientId = read(env, 'AZURE_CLIENT_ID');
  const authorityHost = read(env, 'AZURE_AUTHORITY_HOST');
  const allowedTenants = read(env, 'AZURE_ALLOWED_TENANTS');
  const port = parsePort(env);
  const host = read(env, 'HOST');
  const swaggerClientId = read(env, 'AZURE_SWAGGER_CLIENT_ID');
  if (swaggerClientId !== undefined && !GUID.test(swaggerClientId)) {
    throw new AppConfigError(`AZURE_SWAGGER_CLIENT_ID must be the application (client) id GUID of Swagger UI's app registration, got ${JSON.stringify(swaggerClientId)}`);
  }

  if (tenantId === undefined && clientId === undefined) {
    if (read(env, 'NODE_ENV') === 'production') {
      throw new AppConfigError(
        'AZURE_TENANT_ID and AZURE_CLIENT_ID are not set and NODE_ENV is production: dev mode (a local token emulator) never runs in production. Set both variables',
      );
    }
    // A half-configured real mode must not silently fall back to trusting the emulator.
    const stray = authorityHost !== undefined ? 'AZURE_AUTHORITY_HOST' : allowedTenants !== undefined ? 'AZURE_ALLOWED_TENANTS' : undefined;
    if (stray !== undefined) {
      throw new AppConfigError(`${stray} is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not: set both of them too, or unset ${stray} for dev mode`);
    }
    return { mode: 'dev', swaggerClientId, port, host: host ?? DEV_MODE_HOST };
  }
  if (clientId === undefined) {
    throw new AppConfigError(`AZURE_CLIENT_ID is missing: AZURE_TENANT_ID is set, so also set AZURE_CLIENT_ID to the API's application (client) id, or ${DEV_MODE_HINT}`);
  }
  if (tenantId === undefined) {
    throw new AppConfigError(`AZURE_TENANT_ID is missing: AZURE_CLIENT_ID is set, so also set AZURE_TENANT_ID to the tenant id (or common / organizations), or ${DEV_MODE_HINT}`);
  }
  if (TENANTS_NEEDING_ALLOW_LIST.has(tenantId.toLowerCase()) && allowedTenants === undefined) {
    throw new AppConfigError(
      `AZURE_ALLOWED_TENANTS is required when AZURE_TENANT_ID is "${tenantId}": list the tenant GUIDs this API trusts, separated by commas`,
    );
  }

  const auth: AzureAuthEnvironmentOptions = {
    tenantId,
    clientId,
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...(allowedTenants === undefined ? {} : { allowedTenants: parseAllowedTenants(allowedTenants, tenantId) }),
  };
  return { mode: 'azure', auth, swaggerClientId, port, host };
}
