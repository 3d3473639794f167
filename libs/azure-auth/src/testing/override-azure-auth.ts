import { Agent } from 'node:https';
import { AZURE_AUTH_MODULE_OPTIONS, AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { resolveAzureAuthOptions, type ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { EntraEmulatorIdentity } from './emulator-environment.js';

/**
 * The part of `@nestjs/testing`'s `TestingModuleBuilder` that {@link overrideAzureAuthWithEmulator}
 * uses (so that this package needs no `@nestjs/testing` of its own).
 */
export interface AzureAuthOverridableBuilder<Builder> {
  overrideProvider(token: typeof AZURE_AUTH_OPTIONS): {
    useFactory(override: { factory: (appOptions: AzureAuthModuleOptions) => ResolvedAzureAuthOptions; inject: [typeof AZURE_AUTH_MODULE_OPTIONS] }): Builder;
  };
}

/** The options that say which Entra tenant and app registration to trust, how to reach them, and how the API proves itself to them. */
const EMULATED_OPTIONS = [
  'tenantId',
  'clientId',
  'authority',
  'authorityHost',
  'policies',
  'authorities',
  'audience',
  'allowedTenants',
  'tenantValidator',
  'allowAnyTenant',
  'appSpecificSigningKeys',
  'httpAgent',
  'clientCredential',
] as const satisfies readonly (keyof AzureAuthModuleOptions)[];

/**
 * The app's options pointed at the emulator: its tenant, client id and authority host replace
 * the app's Entra settings; an HTTPS emulator is reached through an agent that trusts its
 * certificate authority, and an app with a credential proves itself to it with the emulator's
 * client secret (over HTTP, with none); the app's own credential never goes to the emulator;
 * then `overrides` apply.
 * @internal
 */
export function emulatedAzureAuthOptions(appOptions: AzureAuthModuleOptions, entra: EntraEmulatorIdentity, overrides: AzureAuthModuleOptions = {}): AzureAuthModuleOptions {
  const kept: AzureAuthModuleOptions = { ...appOptions };
  for (const option of EMULATED_OPTIONS) delete kept[option];
  const emulated: AzureAuthModuleOptions = { tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost };
  if (entra.certificateAuthority !== undefined) {
    emulated.httpAgent = new Agent({ ca: entra.certificateAuthority });
    // MSAL Node, which uses the credential, refuses http:// authorities: over HTTP the app runs without one.
    if (appOptions.clientCredential !== undefined && entra.clientSecret !== undefined) emulated.clientCredential = { clientSecret: entra.clientSecret };
  }
  return { ...kept, ...emulated, ...overrides };
}

/**
 * Points every `AzureAuthModule` of a testing module at the emulator, whatever the app gave
 * `forRoot(...)` / `forRootAsync(...)`. The emulator's tenant, client id and authority host replace
 * the app's Entra settings (`tenantId`, `clientId`, `authority`, `authorityHost`, `policies`,
 * `authorities`, `audience`, `allowedTenants`, `tenantValidator`, `allowAnyTenant`,
 * `appSpecificSigningKeys`, `httpAgent`, `clientCredential`). An emulator started with
 * `https: true` is reached through an agent trusting its `certificateAuthority`, and an app that
 * has a `clientCredential` gets the emulator's `clientSecret` in its place, so that on-behalf-of
 * and other downstream calls reach the emulator as the app's would reach Entra (over HTTP, which
 * MSAL Node refuses, the app runs without a credential: its downstream calls answer 503). The app's other
 * options stay, so the test runs the app's own rules, validated as at start. `overrides` apply last, e.g.
 * `{ tenantId: 'organizations', allowedTenants: [entra.tenantId] }` for a multi-tenant setup.
 * The app's own `forRootAsync` factory still runs: give it the variables it insists on
 * (`entraEmulatorEnvironment(entra)`).
 *
 * @example
 * ```ts
 * entra = await EntraEmulator.start();
 * const moduleRef = await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: [AppModule] }), entra).compile();
 * app = moduleRef.createNestApplication();
 * await app.init(); // AppModule's APP_GUARD now checks tokens minted by entra.mintAccessToken()
 * ```
 */
export function overrideAzureAuthWithEmulator<Builder extends AzureAuthOverridableBuilder<Builder>>(builder: Builder, entra: EntraEmulatorIdentity, overrides?: AzureAuthModuleOptions): Builder {
  return builder.overrideProvider(AZURE_AUTH_OPTIONS).useFactory({
    factory: (appOptions) => resolveAzureAuthOptions(emulatedAzureAuthOptions(appOptions, entra, overrides)),
    inject: [AZURE_AUTH_MODULE_OPTIONS],
  });
}
