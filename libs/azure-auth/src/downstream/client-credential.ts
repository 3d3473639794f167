import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import type { AzureClientAssertionCallback, AzureClientCertificate, AzureClientCredential } from '../azure-auth.options.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import { isGuid } from '../shared/guid.js';

/** The credential fields of MSAL Node's `auth` configuration, exactly one of them set. */
export interface MsalCredentialFields {
  readonly clientSecret?: string;
  readonly clientCertificate?: { readonly thumbprintSha256: string; readonly privateKey: string; readonly x5c?: string };
  readonly clientAssertion?: AzureClientAssertionCallback;
}

const OPTION = 'clientCredential';

/**
 * The API's credential once checked. What it holds is reachable only through
 * {@link msalCredentialFields}: printing, logging or serializing it shows its kind and nothing else.
 *
 * @internal
 */
export class ResolvedClientCredential {
  readonly #fields: MsalCredentialFields;

  constructor(
    readonly kind: 'client secret' | 'certificate' | 'client assertion',
    fields: MsalCredentialFields,
  ) {
    this.#fields = Object.freeze(fields);
    Object.freeze(this);
  }

  /** What MSAL's `auth` configuration takes. */
  msalCredentialFields(): MsalCredentialFields {
    return this.#fields;
  }

  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  toString(): string {
    return `[client credential: ${this.kind}]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Checks the `clientCredential` option once, at start, with a message that names what is wrong
 * and never repeats the secret.
 *
 * @internal
 */
export function resolveClientCredential(value: AzureClientCredential | undefined): ResolvedClientCredential | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw new AzureAuthConfigurationError(OPTION, 'must be { clientSecret }, { certificate } or { clientAssertion }');
  }
  const given = (['clientSecret', 'certificate', 'clientAssertion'] as const).filter((kind) => (value as Record<string, unknown>)[kind] !== undefined);
  if (given.length !== 1) {
    throw new AzureAuthConfigurationError(OPTION, `must hold exactly one of clientSecret, certificate or clientAssertion, got ${given.length === 0 ? 'none' : given.join(' and ')}`);
  }
  if ('clientSecret' in value && value.clientSecret !== undefined) return new ResolvedClientCredential('client secret', { clientSecret: checkSecret(value.clientSecret) });
  if ('certificate' in value && value.certificate !== undefined) return new ResolvedClientCredential('certificate', { clientCertificate: checkCertificate(value.certificate) });
  const assertion = (value as { clientAssertion: unknown }).clientAssertion;
  if (typeof assertion !== 'function') {
    throw new AzureAuthConfigurationError(`${OPTION}.clientAssertion`, 'must be a function ({ clientId, tokenEndpoint }) => string | Promise<string>');
  }
  return new ResolvedClientCredential('client assertion', { clientAssertion: assertion as AzureClientAssertionCallback });
}

function checkSecret(secret: unknown): string {
  const option = `${OPTION}.clientSecret`;
  if (typeof secret !== 'string' || secret.length === 0) throw new AzureAuthConfigurationError(option, 'must be a non-empty string');
  if (secret.trim() !== secret) throw new AzureAuthConfigurationError(option, 'starts or ends with whitespace (a newline copied along with it?)');
  // The portal shows a secret's ID, a GUID, right beside its Value.
  if (isGuid(secret)) throw new AzureAuthConfigurationError(option, "is a GUID: that is the secret's ID; give its Value (shown once, when the secret is created)");
  return secret;
}

function checkCertificate(certificate: AzureClientCertificate): NonNullable<MsalCredentialFields['clientCertificate']> {
  const option = `${OPTION}.certificate`;
  if (certificate === null || typeof certificate !== 'object') {
    throw new AzureAuthConfigurationError(option, 'must be { privateKey, certificate } or { privateKey, thumbprintSha256 }');
  }
  const privateKey = readPrivateKey(certificate.privateKey, `${option}.privateKey`);
  let thumbprint: string | undefined;
  let x5c: string | undefined;
  if (certificate.certificate !== undefined) {
    const parsed = readCertificate(certificate.certificate, `${option}.certificate`);
    const matches = parsed.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    if (!matches) throw new AzureAuthConfigurationError(`${option}.certificate`, 'is not the certificate of privateKey (their public keys differ)');
    thumbprint = parsed.fingerprint256.replace(/:/g, '').toLowerCase();
    x5c = parsed.toString();
  }
  const given = certificate.thumbprintSha256;
  if (given !== undefined) {
    const normalized = typeof given === 'string' ? given.replace(/:/g, '').toLowerCase() : '';
    if (/^[0-9a-f]{40}$/.test(normalized)) {
      throw new AzureAuthConfigurationError(
        `${option}.thumbprintSha256`,
        'is a SHA-1 thumbprint (40 hex digits, as the portal shows it): give the SHA-256 one (openssl x509 -noout -fingerprint -sha256), or the certificate itself',
      );
    }
    if (!/^[0-9a-f]{64}$/.test(normalized)) throw new AzureAuthConfigurationError(`${option}.thumbprintSha256`, 'must be 64 hex digits (a SHA-256 thumbprint)');
    if (thumbprint !== undefined && thumbprint !== normalized) {
      throw new AzureAuthConfigurationError(`${option}.thumbprintSha256`, 'is not the thumbprint of certificate');
    }
    thumbprint = normalized;
  }
  if (thumbprint === undefined) throw new AzureAuthConfigurationError(option, 'needs certificate or thumbprintSha256 besides privateKey');
  return { thumbprintSha256: thumbprint, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ...(x5c === undefined ? {} : { x5c }) };
}

function readPrivateKey(pem: unknown, option: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    throw new AzureAuthConfigurationError(option, 'must be a PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new AzureAuthConfigurationError(option, 'is encrypted: give it decrypted (openssl pkey -in key.pem -out plain.pem), and keep that file secret');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new AzureAuthConfigurationError(option, 'could not be read as a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new AzureAuthConfigurationError(option, `must be an RSA key (Entra takes RSA-signed client assertions), got ${String(key.asymmetricKeyType)}`);
  }
  return key;
}

function readCertificate(pem: unknown, option: string): X509Certificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AzureAuthConfigurationError(option, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  try {
    // The first certificate of the PEM, which may hold the private key too.
    return new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
  } catch {
    throw new AzureAuthConfigurationError(option, 'could not be read as a PEM certificate');
  }
}
