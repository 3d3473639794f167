import { HealthIndicatorService } from '@nestjs/terminus';
import type { JwksKeySet } from '../keys/jwks-key-set.js';
import type { KeySource } from '../keys/key-source.js';
import { AzureAuthHealthIndicator } from './azure-auth.health-indicator.js';

const V2_KEYS = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys';
const V1_KEYS = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/keys';

/** The read-only face of a key set that the indicator looks at; anything else would throw. */
type KeySetState = Pick<JwksKeySet, 'jwksUri' | 'loaded' | 'ageMs' | 'size' | 'fetches'>;

function indicatorWith(keySets: KeySetState[]): AzureAuthHealthIndicator {
  const keySource = { keySetsInUse: () => keySets, unavailableMetadata: () => [] } as unknown as KeySource;
  return new AzureAuthHealthIndicator(keySource, new HealthIndicatorService());
}

const loaded = (jwksUri: string, ageMs: number): KeySetState => ({ jwksUri, loaded: true, ageMs, size: 2, fetches: 1 });
const neverLoaded = (jwksUri: string, fetches = 0): KeySetState => ({ jwksUri, loaded: false, ageMs: undefined, size: 0, fetches });

describe('AzureAuthHealthIndicator', () => {
  it('is down before the metadata is discovered (no key set in use yet)', () => {
    expect(indicatorWith([]).isHealthy()).toEqual({
      azure_auth: { status: 'down', message: 'The authority metadata has not been discovered yet', keySets: [] },
    });
  });

  it('is up when every key set is loaded, and reports each one with its age', () => {
    expect(indicatorWith([loaded(V2_KEYS, 1500), loaded(V1_KEYS, 20)]).isHealthy()).toEqual({
      azure_auth: {
        status: 'up',
        keySets: [
          { jwksUri: V2_KEYS, loaded: true, ageMs: 1500, keys: 2, fetches: 1 },
          { jwksUri: V1_KEYS, loaded: true, ageMs: 20, keys: 2, fetches: 1 },
        ],
      },
    });
  });

  it('is down while one key set has never loaded, naming it, and leaves out the age it does not have', () => {
    const result = indicatorWith([loaded(V2_KEYS, 10), neverLoaded(V1_KEYS, 3)]).isHealthy();
    expect(result.azure_auth.status).toBe('down');
    expect(result.azure_auth.message).toBe(`Signing keys not loaded from ${V1_KEYS}`);
    expect(result.azure_auth.keySets[1]).toEqual({ jwksUri: V1_KEYS, loaded: false, keys: 0, fetches: 3 });
    expect(result.azure_auth.keySets[1]).not.toHaveProperty('ageMs');
  });

  it('stays up on the last good keys whatever the number of failed fetches since', () => {
    const result = indicatorWith([{ ...loaded(V2_KEYS, 90_000_000), fetches: 12 }]).isHealthy();
    expect(result.azure_auth).toMatchObject({ status: 'up', keySets: [{ ageMs: 90_000_000, fetches: 12 }] });
  });

  it('reports under the key it is given', () => {
    expect(Object.keys(indicatorWith([loaded(V2_KEYS, 1)]).isHealthy('entra'))).toEqual(['entra']);
  });

  it('reads the key sets afresh on every check', () => {
    const sets: KeySetState[] = [];
    const indicator = indicatorWith(sets);
    expect(indicator.isHealthy().azure_auth.status).toBe('down');
    sets.push(loaded(V2_KEYS, 5));
    expect(indicator.isHealthy().azure_auth.status).toBe('up');
  });
});
