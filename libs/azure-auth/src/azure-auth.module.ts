import { Inject, Module } from '@nestjs/common';
import { AZURE_AUTH_MODULE_OPTIONS, AZURE_AUTH_OPTIONS } from './azure-auth.constants.js';
import { AzureAuthConfigurableModule } from './azure-auth.module-definition.js';
import type { AzureAuthModuleOptions } from './azure-auth.options.js';
import { resolveAzureAuthOptions } from './azure-auth.options.resolve.js';
import { GraphqlFieldResolverCheck } from './graphql/field-resolver-check.js';
import { AzureAuthGuard } from './guards/azure-auth.guard.js';
import { AzurePassportAuthGuard } from './guards/azure-passport-auth.guard.js';
import { AzurePermissionsGuard } from './guards/azure-permissions.guard.js';
import { AzureAuthRefusals } from './errors/azure-auth-refusals.js';
import { AzureDownstreamApi } from './downstream/azure-downstream-api.js';
import { KeySource } from './keys/key-source.js';
import { AzureGroupMembership } from './membership/group-membership.js';
import { AzureAdStrategy } from './strategy/azure-ad.strategy.js';
import { AzureTokenVerifier } from './token/azure-token-verifier.js';
import { AzureWebSocketAuth } from './websocket/azure-websocket-auth.js';

/** What importers of the module may inject, besides the resolved options. */
const EXPORTED_PROVIDERS = [
  KeySource,
  AzureTokenVerifier,
  AzureAdStrategy,
  AzureAuthRefusals,
  AzureAuthGuard,
  AzurePassportAuthGuard,
  AzurePermissionsGuard,
  AzureDownstreamApi,
  AzureWebSocketAuth,
];

/**
 * Verifies Microsoft Entra ID access tokens. Register once with `forRoot` (or `forRootAsync`),
 * then guard routes with `AzureAuthGuard` and the permission decorators. With `clientCredential`,
 * `AzureDownstreamApi` calls other APIs on the caller's behalf.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [AzureAuthModule.forRoot({ tenantId: process.env.AZURE_TENANT_ID!, clientId: process.env.AZURE_CLIENT_ID! })],
 *   providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    {
      provide: AZURE_AUTH_OPTIONS,
      useFactory: (options: AzureAuthModuleOptions) => resolveAzureAuthOptions(options),
      inject: [AZURE_AUTH_MODULE_OPTIONS],
    },
    ...EXPORTED_PROVIDERS,
    AzureGroupMembership,
    GraphqlFieldResolverCheck,
  ],
  // The guards' own dependency goes along: an importer's module builds them (`APP_GUARD`, `@UseGuards`).
  exports: [AZURE_AUTH_OPTIONS, ...EXPORTED_PROVIDERS, AzureGroupMembership],
})
export class AzureAuthModule extends AzureAuthConfigurableModule {}

/** Injects the resolved options ({@link ResolvedAzureAuthOptions}). */
export const InjectAzureAuthOptions = (): ParameterDecorator & PropertyDecorator => Inject(AZURE_AUTH_OPTIONS);
