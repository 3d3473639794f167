/**
 * `nestjs-azure-auth/swagger`: OpenAPI security and a Swagger UI that signs in with Entra ID.
 * A separate entry point because `@nestjs/swagger` is an optional peer dependency: only apps
 * that import this entry need it installed.
 */
export { setupAzureAuthSwagger, createAzureAuthSwaggerDocument, AzureAuthSwaggerConfigurationError } from './setup-azure-auth-swagger.js';
export type { AzureAuthSwaggerOptions } from './azure-auth-swagger.options.js';
export { AZURE_AD_SECURITY_SCHEME } from './azure-ad-security.js';
