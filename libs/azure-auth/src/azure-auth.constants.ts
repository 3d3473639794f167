/** Injection token of the options exactly as the user gave them to `forRoot` / `forRootAsync`. */
export const AZURE_AUTH_MODULE_OPTIONS = 'AZURE_AUTH:MODULE_OPTIONS';
/** Injection token of the validated options with every default applied ({@link ResolvedAzureAuthOptions}). */
export const AZURE_AUTH_OPTIONS = 'AZURE_AUTH:OPTIONS';

/** Passport strategy name. Passport names are global to the process, so ours is specific. */
export const AZURE_AD_STRATEGY = 'azure-ad';

export const IS_PUBLIC_KEY = 'azure-auth:public';
export const SCOPES_KEY = 'azure-auth:scopes';
export const APP_PERMISSIONS_KEY = 'azure-auth:app-permissions';
export const ROLES_KEY = 'azure-auth:roles';
export const AUTH_CONTEXT_KEY = 'azure-auth:auth-context';
export const GROUPS_KEY = 'azure-auth:groups';
export const DIRECTORY_ROLES_KEY = 'azure-auth:directory-roles';

/** Microsoft's own public cloud authority host. */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** Audiences of tokens issued for Microsoft Graph: only Graph can verify them. */
export const GRAPH_AUDIENCES: ReadonlySet<string> = new Set([
  '00000003-0000-0000-c000-000000000000',
  'https://graph.microsoft.com',
  'https://graph.microsoft.com/',
]);

/** Tenant of personal Microsoft accounts, the one behind the `consumers` authority. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
