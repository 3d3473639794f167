// A CommonJS TypeScript consumer (no "type": "module", module nodenext): TypeScript 5.8+ lets it
// import the ESM package, compiled to require(). Only type-checked, never run.
import { AzureAuthModule, type AzureAuthModuleOptions, type AzurePrincipal } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';

const options: AzureAuthModuleOptions = { tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000000' };
export const authModule = AzureAuthModule.forRoot(options);
export const scopesOf = (principal: AzurePrincipal): readonly string[] => principal.scopes;
export const startEmulator = (): Promise<EntraEmulator> => EntraEmulator.start();
