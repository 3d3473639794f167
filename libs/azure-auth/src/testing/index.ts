/**
 * `nestjs-azure-auth/testing`: a local Microsoft Entra ID emulator for tests and dev mode.
 * Never import it from production code: it signs any token it is asked for.
 */
export { EntraEmulator } from './entra-emulator.js';
export type { EntraEmulatorOptions } from './emulator-options.js';
export type { AddKeyOptions, EmulatorKeyPair, UnpublishedSigningKey } from './key-store.js';
export type { EmulatorFault, EmulatorFaultTarget } from './fault-injection.js';
export type { EmulatorRequest, EmulatorRequestKind } from './request-log.js';
export type { MintOptions } from './access-token.js';
export type { EmulatedSignInUser } from './sign-in.js';
export { ENTRA_EMULATOR_DEFAULTS } from './emulator-defaults.js';
export { base64UrlEncode } from './signing-keys.js';
export type { EntraJsonWebKey } from './signing-keys.js';
export { decodeJwtUnverified } from './jwt.js';
export type { DecodedJwt } from './jwt.js';

// Pointing an app's own AzureAuthModule at the emulator.
export { entraEmulatorEnvironment } from './emulator-environment.js';
export type { EntraEmulatorEnvironment, EntraEmulatorIdentity } from './emulator-environment.js';
export { overrideAzureAuthWithEmulator } from './override-azure-auth.js';
export type { AzureAuthOverridableBuilder } from './override-azure-auth.js';
