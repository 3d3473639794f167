import type { AzureAuthModuleOptions } from '../azure-auth.options.js';

/** The environment variables the doctor reads: the same ones the sample app is configured with. */
export const DOCTOR_ENV_VARIABLES = {
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  authorityHost: 'AZURE_AUTHORITY_HOST',
  allowedTenants: 'AZURE_ALLOWED_TENANTS',
} as const;

/** What the environment says about verification. */
export type DoctorConfig =
  /** Neither tenant nor client id is set: the user only wants the token decoded. */
  | { readonly kind: 'none' }
  /** Half a configuration is a mistake worth stopping for, not a reason to skip silently. */
  | { readonly kind: 'incomplete'; readonly missing: string }
  | { readonly kind: 'complete'; readonly options: AzureAuthModuleOptions };

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Reads the module options from the environment. Only what the variables say is set; every other
 * option keeps the module's default, so the verdict is the one the API would give.
 * `AZURE_ALLOWED_TENANTS` is a list of tenant GUIDs separated by commas or spaces.
 */
export function readDoctorConfig(env: NodeJS.ProcessEnv): DoctorConfig {
  const tenantId = setting(env, DOCTOR_ENV_VARIABLES.tenantId);
  const clientId = setting(env, DOCTOR_ENV_VARIABLES.clientId);
  if (tenantId === undefined && clientId === undefined) return { kind: 'none' };
  if (tenantId === undefined) return { kind: 'incomplete', missing: DOCTOR_ENV_VARIABLES.tenantId };
  if (clientId === undefined) return { kind: 'incomplete', missing: DOCTOR_ENV_VARIABLES.clientId };
  const options: AzureAuthModuleOptions = { tenantId, clientId };
  const authorityHost = setting(env, DOCTOR_ENV_VARIABLES.authorityHost);
  if (authorityHost !== undefined) options.authorityHost = authorityHost;
  const allowedTenants = setting(env, DOCTOR_ENV_VARIABLES.allowedTenants);
  if (allowedTenants !== undefined) options.allowedTenants = allowedTenants.split(/[\s,]+/).filter(Boolean);
  return { kind: 'complete', options };
}
