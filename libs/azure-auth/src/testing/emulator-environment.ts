import { DOCTOR_ENV_VARIABLES } from '../cli/config.js';
import type { EntraEmulator } from './entra-emulator.js';

/**
 * Where an emulator is and whom it signs for: what an app's configuration needs to trust it; with
 * an HTTPS emulator, the authority its certificate is signed by, and the client secret it takes
 * from the API (an `EntraEmulator` has both).
 */
export type EntraEmulatorIdentity = Pick<EntraEmulator, 'tenantId' | 'clientId' | 'authorityHost'> & Partial<Pick<EntraEmulator, 'certificateAuthority' | 'clientSecret'>>;

/**
 * The variables an app reads its Entra settings from (as in README's "Use it in your API", the
 * sample app and the token doctor), pointing at an emulator. A type, not an interface, so that it
 * fits where an environment (`NodeJS.ProcessEnv`) is expected.
 */
export type EntraEmulatorEnvironment = {
  /** The emulator's tenant (`entra.tenantId`), for `tenantId`. */
  readonly AZURE_TENANT_ID: string;
  /** The API's client id the emulator mints tokens for (`entra.clientId`), for `clientId`. */
  readonly AZURE_CLIENT_ID: string;
  /** The emulator's loopback address (`entra.authorityHost`), for `authorityHost`. */
  readonly AZURE_AUTHORITY_HOST: string;
};

/**
 * The `AZURE_*` environment of an app pointed at the emulator. Set it before the app reads its
 * configuration: before `compile()` when `forRootAsync` reads it (e.g. from `ConfigService`), or
 * before the app module is imported when `forRoot` reads `process.env` as the module is declared
 * (else see {@link overrideAzureAuthWithEmulator}).
 *
 * @example
 * ```ts
 * entra = await EntraEmulator.start();
 * Object.assign(process.env, entraEmulatorEnvironment(entra));
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
 * ```
 */
export function entraEmulatorEnvironment(entra: EntraEmulatorIdentity): EntraEmulatorEnvironment {
  return {
    [DOCTOR_ENV_VARIABLES.tenantId]: entra.tenantId,
    [DOCTOR_ENV_VARIABLES.clientId]: entra.clientId,
    [DOCTOR_ENV_VARIABLES.authorityHost]: entra.authorityHost,
  };
}
