import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { KeySource } from '../keys/key-source.js';

/** The state of one key set (one `jwks_uri`) as the health check reports it. */
export type AzureAuthKeySetHealth = {
  /** Where the keys come from, as Entra's metadata named it. */
  readonly jwksUri: string;
  /** Whether the set has been loaded at least once (a failed refresh keeps it loaded). */
  readonly loaded: boolean;
  /** Milliseconds since the set was last loaded; absent when it never was. */
  readonly ageMs?: number;
  /** Usable RS256 keys in the set. */
  readonly keys: number;
  /** Fetches of the set so far, failed ones included. */
  readonly fetches: number;
};

// Types, not interfaces: terminus takes details as a Record, which interfaces do not satisfy.
/** What the `azure_auth` entry of a health check carries besides its status. */
export type AzureAuthHealthDetails = {
  /** One entry per key set in use once the metadata is known (a workforce tenant: one set, for tokens of both versions; B2C: one per policy). */
  readonly keySets: AzureAuthKeySetHealth[];
  /**
   * B2C policies listed in `policies` whose metadata could not be read (a typo, a policy not yet
   * published): their tokens get 503 while the other policies are served, so the check stays up
   * and names them here. Absent when there are none.
   */
  readonly unavailableMetadata?: ReadonlyArray<{ readonly policy: string; readonly metadataUrl: string; readonly problem: string }>;
  /** Why the check is down; absent when it is up. */
  readonly message?: string;
};

/**
 * A `@nestjs/terminus` health indicator: up when every signing key set the module uses has been
 * loaded, down (with each set's state and age) before the first load or when a set never loaded.
 * It only reads the cache and never fetches, so a probe cannot add load on Entra.
 *
 * With `warmUp` (the default) the sets load at start; with `warmUp: false` they load with the
 * first token that needs them, and the check stays down until then.
 *
 * Provide it in a module that imports both `TerminusModule` and `AzureAuthModule` (or registers
 * `AzureAuthModule` with `isGlobal`).
 *
 * @example
 * ```ts
 * import { AzureAuthHealthIndicator } from 'nestjs-azure-auth/health';
 *
 * @Controller('health')
 * export class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly azureAuth: AzureAuthHealthIndicator) {}
 *
 *   @Public()
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.azureAuth.isHealthy()]);
 *   }
 * }
 * ```
 */
@Injectable()
export class AzureAuthHealthIndicator {
  constructor(
    private readonly keys: KeySource,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /**
   * Reports the signing keys under `key` (default `azure_auth`).
   * @param key name of the entry in the health check result.
   */
  isHealthy<const Key extends string = 'azure_auth'>(key: Key = 'azure_auth' as Key): HealthIndicatorResult<Key> {
    const indicator = this.healthIndicatorService.check(key);
    const keySets = this.keys.keySetsInUse().map(
      (set): AzureAuthKeySetHealth => ({
        jwksUri: set.jwksUri,
        loaded: set.loaded,
        ...(set.ageMs === undefined ? {} : { ageMs: set.ageMs }),
        keys: set.size,
        fetches: set.fetches,
      }),
    );
    const unavailable = this.keys.unavailableMetadata();
    const details = unavailable.length > 0 ? { keySets, unavailableMetadata: unavailable } : { keySets };
    if (keySets.length === 0) {
      return indicator.down<AzureAuthHealthDetails>({ message: 'The authority metadata has not been discovered yet', ...details });
    }
    const missing = keySets.filter((set) => !set.loaded);
    if (missing.length > 0) {
      return indicator.down<AzureAuthHealthDetails>({
        message: `Signing keys not loaded from ${missing.map((set) => set.jwksUri).join(', ')}`,
        ...details,
      });
    }
    return indicator.up<AzureAuthHealthDetails>(details);
  }
}
