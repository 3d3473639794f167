import { ConfigurableModuleBuilder } from '@nestjs/common';
import { AZURE_AUTH_MODULE_OPTIONS } from './azure-auth.constants.js';
import type { AzureAuthModuleOptions } from './azure-auth.options.js';

/** Extras of `forRoot` / `forRootAsync` beyond the options themselves. */
export interface AzureAuthModuleExtras {
  /** Register the module globally, so feature modules can use the guards without importing it. Default false. */
  isGlobal?: boolean;
}

export const { ConfigurableModuleClass: AzureAuthConfigurableModule } = new ConfigurableModuleBuilder<AzureAuthModuleOptions>({ optionsInjectionToken: AZURE_AUTH_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAzureAuthOptions')
  .setExtras<AzureAuthModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
