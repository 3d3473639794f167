import { ConfigurableModuleBuilder } from '@nestjs/common';
import { AZURE_AUTH_MODULE_OPTIONS } from './azure-auth.constants.js';
import type { AzureAuthModuleOptions } from './azure-auth.options.js';

/** Extras of `forRoot` / `forRootAsync` beyond the options themselves. */
export interface AzureAuthModuleExtras {
  /** Register the module globally, so feature modules can use the guards without importing it. Default false. */
  isGlobal?: boolean;
}

/**
 * A class that gives the module its options, for `forRootAsync({ useClass })` or `useExisting`.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class AzureAuthConfig implements AzureAuthOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createAzureAuthOptions(): AzureAuthModuleOptions {
 *     return { tenantId: this.config.getOrThrow('AZURE_TENANT_ID'), clientId: this.config.getOrThrow('AZURE_CLIENT_ID') };
 *   }
 * }
 * ```
 */
export interface AzureAuthOptionsFactory {
  createAzureAuthOptions(): AzureAuthModuleOptions | Promise<AzureAuthModuleOptions>;
}

export const { ConfigurableModuleClass: AzureAuthConfigurableModule } = new ConfigurableModuleBuilder<AzureAuthModuleOptions>({ optionsInjectionToken: AZURE_AUTH_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAzureAuthOptions')
  .setExtras<AzureAuthModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
