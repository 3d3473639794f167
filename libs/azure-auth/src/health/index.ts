export { AzureAuthHealthIndicator } from './azure-auth.health-indicator.js';
export type { AzureAuthHealthDetails, AzureAuthKeySetHealth } from './azure-auth.health-indicator.js';
