import type { KeyObject } from 'node:crypto';
import { buildAccessToken, type AccessTokenContext, type MintOptions } from './access-token.js';
import { requireB2cPolicyName } from './entra-documents.js';
import { signRs256, type JwtSegment } from './jwt.js';
import type { KeyStore } from './key-store.js';
import { keyIdOf } from './signing-keys.js';

/**
 * Who the emulator is, as every token it mints says.
 *
 * @internal
 */
export type MintingIdentity = Omit<AccessTokenContext, 'kid'>;

/**
 * Mints access tokens and signs raw ones with the emulator's keys: the claims come from
 * `buildAccessToken`, the key from the store, the signature from `signRs256`.
 *
 * @internal
 */
export class TokenMinter {
  constructor(
    private readonly keys: KeyStore,
    private readonly identity: MintingIdentity,
  ) {}

  /** Key precedence: `privateKey`, then `appId`, then the `b2cPolicy` key, then the signing key. */
  mint(options: MintOptions): string {
    const key =
      options.privateKey !== undefined
        ? { kid: keyIdOf(options.privateKey), privateKey: options.privateKey }
        : options.appId !== undefined
          ? this.keys.appKey(options.appId)
          : options.b2cPolicy !== undefined
            ? this.keys.policyKey(requireB2cPolicyName('mintAccessToken', options.b2cPolicy)).key
            : this.keys.signingKey;
    const { header, payload } = buildAccessToken(options, { ...this.identity, kid: key.kid });
    return signRs256(header, payload, key.privateKey);
  }

  /** Signs exactly what it is given, whatever the header claims: hostile-token tests need that. */
  sign(header: JwtSegment, payload: JwtSegment, options: { privateKey?: KeyObject; kid?: string }): string {
    let privateKey = options.privateKey;
    if (privateKey === undefined && options.kid !== undefined) {
      privateKey = this.keys.privateKeyOf(options.kid);
      if (privateKey === undefined) {
        throw new Error(`EntraEmulator.sign: the emulator has no key with kid "${options.kid}"`);
      }
    }
    return signRs256(header, payload, privateKey ?? this.keys.signingKey.privateKey);
  }
}
