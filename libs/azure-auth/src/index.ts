export { AzureAuthModule, InjectAzureAuthOptions } from './azure-auth.module.js';
export type { AzureAuthModuleExtras, AzureAuthOptionsFactory } from './azure-auth.module-definition.js';
export type {
  AzureAuthModuleOptions,
  AzureAuthorityOptions,
  AzureAuthFailureEvent,
  AzureClientAssertionCallback,
  AzureClientCertificate,
  AzureClientCredential,
  AzureGroupsOverageOptions,
  AzureGroupsResolver,
  AzureTenantValidator,
  AzureTokenVersion,
} from './azure-auth.options.js';
export type { ResolvedAzureAuthOptions } from './azure-auth.options.resolve.js';
export { AzureAuthConfigurationError } from './errors/azure-auth-configuration.error.js';
export { AZURE_AD_STRATEGY, AZURE_AUTH_OPTIONS, AZURE_AUTH_MODULE_OPTIONS, DEFAULT_AUTHORITY_HOST } from './azure-auth.constants.js';

export { AzureAuthGuard } from './guards/azure-auth.guard.js';
export { AzurePassportAuthGuard } from './guards/azure-passport-auth.guard.js';
export { AzurePermissionsGuard } from './guards/azure-permissions.guard.js';
export type { PermissionRequirements } from './guards/authorize.js';

export { Public } from './decorators/public.decorator.js';
export { Scopes } from './decorators/scopes.decorator.js';
export { AppPermissions } from './decorators/app-permissions.decorator.js';
export { Roles } from './decorators/roles.decorator.js';
export { RequireAuthContext } from './decorators/require-auth-context.decorator.js';
export { DirectoryRoles, Groups } from './decorators/groups.decorator.js';
export { AzureUser } from './decorators/azure-user.decorator.js';

export type { AzurePrincipal } from './token/azure-principal.js';
export type { AzureAccessTokenClaims } from './token/claims.js';
export { AzureTokenVerifier } from './token/azure-token-verifier.js';
export { AzureAdStrategy } from './strategy/azure-ad.strategy.js';
export { extractBearerToken } from './guards/extract-bearer-token.js';
export {
  AzureWebSocketAuth,
  AZURE_REAUTHENTICATE_EVENT,
  AZURE_REAUTHENTICATED_EVENT,
  type AzureWebSocketOptions,
  type AzureGraphqlWsHooks,
  type AzureMercuriusHooks,
  type MercuriusConnectionInit,
  type MercuriusConnectionLike,
  type GraphqlWsContextLike,
  type SocketIoServerLike,
  type SocketIoSocketLike,
  type WsServerLike,
  type WsSocketLike,
} from './websocket/azure-websocket-auth.js';
export type { WebSocketHandshake } from './websocket/handshake-token.js';
export { azureAuthGraphqlErrors, type SerializedGraphqlError } from './graphql/refusal-extensions.js';

export { AzureDownstreamApi, type AzureDownstreamRequestInit, type AzureDownstreamToken } from './downstream/azure-downstream-api.js';
export { AzureCaller } from './downstream/azure-caller.decorator.js';

export { AzureAuthError, type AzureAuthStatus } from './errors/azure-auth.error.js';
export type { AzureAuthReason } from './errors/reason-codes.js';
export { AzureAuthException } from './errors/azure-auth.exception.js';
export type { AzureAuthErrorBody } from './errors/www-authenticate.js';
