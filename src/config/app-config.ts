import { AzureAuthConfigurationError, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { AzureAuthSwaggerConfigurationError } from 'nestjs-azure-auth/swagger';
import { CREDENTIAL_OPTION_VARIABLES } from './credentials.js';
import { AppConfigError, type AppEnvironment } from './environment.js';
import { isLoopback } from './loopback.js';

/** The module options the sample takes from the environment. */
export type AzureAuthEnvironmentOptions = Pick<AzureAuthModuleOptions, 'tenantId' | 'clientId' | 'authorityHost' | 'allowedTenants' | 'authority'>;

/** AZURE_CLIENT_ID and either AZURE_TENANT_ID or AZURE_AUTHORITY are set: tokens come from a real Entra authority. */
export interface AzureModeConfig {
  readonly mode: 'azure';
  readonly auth: AzureAuthEnvironmentOptions;
  /** Swagger UI's own (SPA) app registration, from AZURE_SWAGGER_CLIENT_ID. */
  readonly swaggerClientId: string | undefined;
  /** HTTP_ADAPTER. */
  readonly httpAdapter: HttpAdapterName;
  readonly port: number;
  /** Interface to bind; `undefined` binds every interface, as a deployed API needs. */
  readonly host: string | undefined;
  /** AZURE_ADMIN_GROUP_ID: the security group whose members see `GET /api/todolist/stats`; unset, the route is not served. */
  readonly adminGroupId: string | undefined;
}

/** Neither is set: the app starts a local Entra emulator and trusts only it. */
export interface DevModeConfig {
  readonly mode: 'dev';
  readonly swaggerClientId: string | undefined;
  /** HTTP_ADAPTER. */
  readonly httpAdapter: HttpAdapterName;
  readonly port: number;
  /** A loopback interface, unless {@link allowNetwork}. */
  readonly host: string;
  /** `DEV_MODE_ALLOW_NETWORK=1`: the operator chose to let dev mode listen beyond loopback. */
  readonly allowNetwork: boolean;
}

export type AppConfig = AzureModeConfig | DevModeConfig;

/** Nest's HTTP adapters the sample runs on: `@nestjs/platform-express` (the default) or `@nestjs/platform-fastify`. */
export type HttpAdapterName = 'express' | 'fastify';

export const DEFAULT_PORT = 3000;
/** Dev mode trusts tokens anyone on this machine can mint: keep it off the network unless told otherwise. */
export const DEV_MODE_HOST = '127.0.0.1';
/** The only way to let dev mode listen beyond loopback: set to `1`. */
export const DEV_MODE_ALLOW_NETWORK = 'DEV_MODE_ALLOW_NETWORK';

/** The environment variable behind each option the sample sets from the environment. */
const OPTION_VARIABLES: Readonly<Record<string, string>> = {
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  authorityHost: 'AZURE_AUTHORITY_HOST',
  authority: 'AZURE_AUTHORITY',
  allowedTenants: 'AZURE_ALLOWED_TENANTS',
  swaggerClientId: 'AZURE_SWAGGER_CLIENT_ID',
  adminGroupId: 'AZURE_ADMIN_GROUP_ID',
};
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

/** A comma list; one without any entry counts as unset, as a blank variable does. */
function parseList(raw: string | undefined): string[] | undefined {
  const entries = raw
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries?.length ? entries : undefined;
}

function parseHttpAdapter(env: AppEnvironment): HttpAdapterName {
  const raw = read(env, 'HTTP_ADAPTER');
  if (raw === undefined) return 'express';
  if (raw !== 'express' && raw !== 'fastify') {
    throw new AppConfigError(`HTTP_ADAPTER must be express (the default) or fastify, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseAdminGroupId(env: AppEnvironment): string | undefined {
  const raw = read(env, OPTION_VARIABLES.adminGroupId);
  if (raw !== undefined && !GUID.test(raw)) {
    throw new AppConfigError(`AZURE_ADMIN_GROUP_ID must be the object id (a GUID) of a security group, from Entra > Groups > the group > Overview, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function parseAllowNetwork(env: AppEnvironment): boolean {
  const raw = read(env, DEV_MODE_ALLOW_NETWORK);
  if (raw !== undefined && raw !== '1') {
    throw new AppConfigError(`${DEV_MODE_ALLOW_NETWORK} must be 1 (or unset), got ${JSON.stringify(raw)}`);
  }
  return raw === '1';
}

/**
 * The refusal of dev mode on an interface beyond loopback: `where` is what would face the network
 * (`HOST=0.0.0.0`, or the address a loopback-looking HOST really bound).
 */
export function devModeBeyondLoopbackError(where: string): AppConfigError {
  return new AppConfigError(
    `${where} is not a loopback interface, and dev mode must not face a network: it trusts only a local Entra emulator ` +
      `and prints ready-to-use tokens (admin and daemon included) to its log. Unset HOST (dev mode then listens on ${DEV_MODE_HOST}) ` +
      `or use localhost, 127.0.0.1 or ::1; set ${DEV_MODE_ALLOW_NETWORK}=1 to listen there anyway; ` +
      'or set AZURE_TENANT_ID and AZURE_CLIENT_ID to validate tokens of your tenant',
  );
}

/** B2C names each user flow or custom policy `B2C_1_…` / `B2C_1A_…`: one path segment of its authority. */
const B2C_POLICY_SEGMENT = /^b2c_1a?_/i;

/**
 * What the sample refuses in an `AZURE_AUTHORITY` before the module sees it: it takes one
 * authority URL, so a B2C authority must name its one policy, and the authority is not its
 * metadata URL. Whether the value is a URL, and an https:// one, is `AzureAuthModule`'s to check
 * (option `authority`).
 */
function authorityProblem(authority: string): string | undefined {
  if (/\{policy\}|%7Bpolicy%7D/i.test(authority)) {
    return 'AZURE_AUTHORITY holds {policy}: the sample takes one B2C policy (user flow), so write its name there, e.g. https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0';
  }
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    return undefined;
  }
  if (/\/\.well-known\/openid-configuration\/?$/i.test(url.pathname)) {
    return `AZURE_AUTHORITY ${JSON.stringify(authority)} is a metadata URL: give the authority itself, without /.well-known/openid-configuration (the module reads the metadata there)`;
  }
  if (url.hostname.toLowerCase().endsWith('.b2clogin.com') && !url.pathname.split('/').some((segment) => B2C_POLICY_SEGMENT.test(segment))) {
    return (
      `AZURE_AUTHORITY ${JSON.stringify(authority)} is an Azure AD B2C authority without a policy: B2C publishes metadata and keys per policy (user flow), ` +
      'so name it in the URL, e.g. https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0'
    );
  }
  return undefined;
}

/** `AZURE_AUTHORITY` (B2C, External ID, a custom domain) with `AZURE_CLIENT_ID`, in place of `AZURE_TENANT_ID` + `AZURE_AUTHORITY_HOST`. */
function authorityOptions(env: AppEnvironment, authority: string, clientId: string | undefined): AzureAuthEnvironmentOptions {
  const otherForm = [OPTION_VARIABLES.tenantId, OPTION_VARIABLES.authorityHost].filter((name) => read(env, name) !== undefined);
  if (otherForm.length > 0) {
    throw new AppConfigError(
      `AZURE_AUTHORITY and ${otherForm.join(' and ')} are both set: AZURE_AUTHORITY is the whole authority URL (Azure AD B2C, External ID, a custom domain) ` +
        'and replaces AZURE_TENANT_ID + AZURE_AUTHORITY_HOST. Set one form only',
    );
  }
  if (read(env, OPTION_VARIABLES.allowedTenants) !== undefined) {
    throw new AppConfigError('AZURE_ALLOWED_TENANTS is set with AZURE_AUTHORITY: it lists the tenants of a multi-tenant AZURE_TENANT_ID (common / organizations), and an authority URL names one tenant. Unset it');
  }
  if (clientId === undefined) {
    throw new AppConfigError(
      "AZURE_CLIENT_ID is missing: AZURE_AUTHORITY is set, so also set AZURE_CLIENT_ID to the API's application (client) id, or unset AZURE_AUTHORITY to run in dev mode with a local Entra emulator",
    );
  }
  const problem = authorityProblem(authority);
  if (problem !== undefined) throw new AppConfigError(problem);
  return { authority, clientId };
}

/**
 * Reads the sample's configuration from environment variables named as in the Azure SDKs. Pure:
 * it only reads `env`, and throws {@link AppConfigError} with a message naming the variable at fault.
 * What the values must look like (GUIDs, tenants, allow-lists, the authority URL) is for
 * `AzureAuthModule` and `setupAzureAuthSwagger` to check, at start-up, naming the option
 * ({@link startupErrorMessage} adds the variable).
 *
 * - `AZURE_TENANT_ID` and `AZURE_CLIENT_ID` both set: validate tokens of that tenant for that API.
 * - `AZURE_AUTHORITY` and `AZURE_CLIENT_ID`: validate tokens of that authority (a B2C policy,
 *   External ID, a custom domain); refused together with `AZURE_TENANT_ID` or `AZURE_AUTHORITY_HOST`.
 * - none of them set: dev mode (never when `NODE_ENV` is `production`), on loopback only unless
 *   `DEV_MODE_ALLOW_NETWORK=1`.
 * - one set without the other: refused, naming the missing one.
 * - `HTTP_ADAPTER`: `express` (default) or `fastify`.
 * - `AZURE_ADMIN_GROUP_ID`: the admin group's object id (dev mode has its own).
 */
export function parseAppConfig(env: AppEnvironment): AppConfig {
  const tenantId = read(env, OPTION_VARIABLES.tenantId);
  const clientId = read(env, OPTION_VARIABLES.clientId);
  const authority = read(env, OPTION_VARIABLES.authority);
  const authorityHost = read(env, OPTION_VARIABLES.authorityHost);
  const allowedTenants = read(env, OPTION_VARIABLES.allowedTenants);
  const swaggerClientId = read(env, OPTION_VARIABLES.swaggerClientId);
  const httpAdapter = parseHttpAdapter(env);
  const port = parsePort(env);
  const host = read(env, 'HOST');

  if (authority !== undefined) {
    return { mode: 'azure', auth: authorityOptions(env, authority, clientId), swaggerClientId, httpAdapter, port, host, adminGroupId: parseAdminGroupId(env) };
  }
  if (tenantId === undefined && clientId === undefined) {
    if (read(env, 'NODE_ENV') === 'production') {
      throw new AppConfigError(
        'AZURE_TENANT_ID and AZURE_CLIENT_ID are not set and NODE_ENV is production: dev mode (a local token emulator) never runs in production. Set both variables (or AZURE_AUTHORITY and AZURE_CLIENT_ID)',
      );
    }
    // A half-configured real mode must not silently fall back to trusting the emulator.
    const stray = authorityHost !== undefined ? 'AZURE_AUTHORITY_HOST' : allowedTenants !== undefined ? 'AZURE_ALLOWED_TENANTS' : undefined;
    if (stray !== undefined) {
      throw new AppConfigError(`${stray} is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not: set both of them too, or unset ${stray} for dev mode`);
    }
    const allowNetwork = parseAllowNetwork(env);
    if (host !== undefined && !allowNetwork && !isLoopback(host)) throw devModeBeyondLoopbackError(`HOST=${host}`);
    return { mode: 'dev', swaggerClientId, httpAdapter, port, host: host ?? DEV_MODE_HOST, allowNetwork };
  }
  if (clientId === undefined) {
    throw new AppConfigError(`AZURE_CLIENT_ID is missing: AZURE_TENANT_ID is set, so also set AZURE_CLIENT_ID to the API's application (client) id, or ${DEV_MODE_HINT}`);
  }
  if (tenantId === undefined) {
    throw new AppConfigError(
      `AZURE_TENANT_ID is missing: AZURE_CLIENT_ID is set, so also set AZURE_TENANT_ID to the tenant id (or common / organizations), or AZURE_AUTHORITY to the whole authority URL (B2C, External ID), or ${DEV_MODE_HINT}`,
    );
  }

  const tenants = parseList(allowedTenants);
  const auth: AzureAuthEnvironmentOptions = {
    tenantId,
    clientId,
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...(tenants === undefined ? {} : { allowedTenants: tenants }),
  };
  return { mode: 'azure', auth, swaggerClientId, httpAdapter, port, host, adminGroupId: parseAdminGroupId(env) };
}

/**
 * The line the app exits with. The library's option errors name the option (`"allowedTenants"`);
 * the reader of this app's log set an environment variable, so it is named too (when one sets it).
 */
export function startupErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const option = error instanceof AzureAuthConfigurationError || error instanceof AzureAuthSwaggerConfigurationError ? error.option : undefined;
  const variable = option === undefined ? undefined : (OPTION_VARIABLES[option] ?? CREDENTIAL_OPTION_VARIABLES[option]);
  return variable === undefined ? message : `${message} (environment variable ${variable})`;
}
