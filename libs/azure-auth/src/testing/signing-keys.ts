import { createHash, createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/** An RSA key pair the emulator can sign with, named by the `kid` that tokens and the JWKS carry. */
export interface EmulatorSigningKey {
  /** Key id written in a token's header and in the published JWK. */
  readonly kid: string;
  /** Private half: signs tokens. */
  readonly privateKey: KeyObject;
  /** Public half: what the JWKS publishes. */
  readonly publicKey: KeyObject;
}

/** One entry of a `keys` document, shaped like the keys Entra publishes (without the `x5c` certificate chain). */
export interface EntraJsonWebKey {
  kty: 'RSA';
  /** `sig` for every key Entra publishes; {@link EntraEmulator.addKey} can publish another. */
  use: string;
  /** Entra omits it; {@link EntraEmulator.addKey} can publish one. */
  alg?: string;
  kid: string;
  x5t: string;
  n: string;
  e: string;
  /** Only on the v2 keys endpoint: the issuer (or `{tenantid}` template) the key signs for. */
  issuer?: string;
}

// Entra's keys are 2048-bit RSA; a validator tested against smaller keys could hide a length check.
const RSA_MODULUS_LENGTH = 2048;

const generateKeyPairAsync = promisify(generateKeyPair);

/** Encodes bytes or UTF-8 text as unpadded base64url, the encoding of every JWT segment. */
export function base64UrlEncode(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}

/**
 * The `kid` of a public key. Entra's `kid` and `x5t` are the SHA-1 thumbprint of the key's
 * certificate; the emulator has no certificate, so it hashes the public key instead, which gives
 * ids of the same length and alphabet and lets any private key be given its natural `kid`.
 */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha1').update(der).digest('base64url');
}

function toSigningKey(pair: { publicKey: KeyObject; privateKey: KeyObject }): EmulatorSigningKey {
  return { kid: keyIdOf(pair.publicKey), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** Generates a signing key without blocking the event loop (used once, at start). */
export async function generateSigningKeyAsync(): Promise<EmulatorSigningKey> {
  return toSigningKey(await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_LENGTH }));
}

/** Generates a signing key synchronously, so that rotation can return the new `kid` at once. */
export function generateSigningKey(): EmulatorSigningKey {
  return toSigningKey(generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_LENGTH }));
}

/** The public JWK of a signing key; `issuer` is added only when given (the v2 endpoint's shape). */
export function toEntraJwk(key: EmulatorSigningKey, issuer?: string): EntraJsonWebKey {
  const { n, e } = key.publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') {
    throw new Error(`Signing key ${key.kid} is not an RSA key`);
  }
  const jwk: EntraJsonWebKey = { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n, e };
  if (issuer !== undefined) {
    jwk.issuer = issuer;
  }
  return jwk;
}
