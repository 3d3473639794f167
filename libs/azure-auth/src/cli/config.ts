import type { AzureAuthModuleOptions } from '../azure-auth.options.js';

/** The environment variables the doctor reads: the same ones the sample app is configured with. */
export const DOCTOR_ENV_VARIABLES = {
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  authorityHost: 'AZURE_AUTHORITY_HOST',
  allowedTenants: 'AZURE_ALLOWED_TENANTS',
  authority: 'AZURE_AUTHORITY',
} as const;

/** What the environment says about verification. */
export type DoctorConfig =
  /** None of tenant id, client id and authority is set: the user only wants the token decoded. */
  | { readonly kind: 'none' }
  /** Half a configuration, or two forms at once, is a mistake worth stopping for, not a reason to skip silently. */
  | { readonly kind: 'incomplete'; readonly problem: string }
  | { readonly kind: 'complete'; readonly options: AzureAuthModuleOptions };

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Reads the module options from the environment. Only what the variables say is set; every other
 * option keeps the module's default, so the verdict is the one the API would give.
 * `AZURE_ALLOWED_TENANTS` is a list of tenant GUIDs separated by commas or spaces.
 * `AZURE_AUTHORITY` (a whole authority URL: a B2C policy, External ID, a custom domain) with
 * `AZURE_CLIENT_ID` is the other form, in place of `AZURE_TENANT_ID` and `AZURE_AUTHORITY_HOST`.
 */
export function readDoctorConfig(env: NodeJS.ProcessEnv): DoctorConfig {
  const { tenantId: TENANT, clientId: CLIENT, authority: AUTHORITY, authorityHost: HOST, allowedTenants: ALLOWED } = DOCTOR_ENV_VARIABLES;
  const tenantId = setting(env, TENANT);
  const clientId = setting(env, CLIENT);
  const authority = setting(env, AUTHORITY);
  const authorityHost = setting(env, HOST);
  const allowedTenants = setting(env, ALLOWED);
  if (tenantId === undefined && clientId === undefined && authority === undefined) return { kind: 'none' };
  if (authority !== undefined) {
    const conflicting = [tenantId && TENANT, authorityHost && HOST, allowedTenants && ALLOWED].filter(Boolean);
    if (conflicting.length > 0) {
      return { kind: 'incomplete', problem: `${AUTHORITY} and ${conflicting.join(' and ')} are both set: ${AUTHORITY} is the whole authority and replaces ${TENANT} + ${HOST}. Set one form only.` };
    }
    if (clientId === undefined) return { kind: 'incomplete', problem: `${CLIENT} is not set: set it with ${AUTHORITY} to verify, or unset both to decode only.` };
    return { kind: 'complete', options: { authority, clientId } };
  }
  if (tenantId === undefined || clientId === undefined) {
    return { kind: 'incomplete', problem: `${tenantId === undefined ? TENANT : CLIENT} is not set: set both ${TENANT} and ${CLIENT} (or ${AUTHORITY} and ${CLIENT}) to verify, or neither to decode only.` };
  }
  const options: AzureAuthModuleOptions = { tenantId, clientId };
  if (authorityHost !== undefined) options.authorityHost = authorityHost;
  if (allowedTenants !== undefined) options.allowedTenants = allowedTenants.split(/[\s,]+/).filter(Boolean);
  return { kind: 'complete', options };
}
