import { KeyObject, createHash, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * X.509 certificates for the emulator's HTTPS and for the API's certificate credential, issued by
 * `@peculiar/x509` (an optional peer, loaded only when one is asked for: `https: true`,
 * `createClientCertificate()`) over Node's Web Crypto. Node reads certificates but cannot issue them.
 */

/** A key pair and its certificate, in the PEM forms TLS servers, agents and MSAL take. */
export interface IssuedCertificate {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  readonly certificate: string;
  /** Its RSA private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly privateKey: string;
  /** SHA-256 thumbprint of the certificate, lower-case hex: what Entra shows for an uploaded certificate and MSAL's `thumbprintSha256` takes. */
  readonly thumbprintSha256: string;
}

/** A certificate authority: signs the certificates it is asked for. @internal */
export interface CertificateAuthority extends IssuedCertificate {
  readonly signingKey: webcrypto.CryptoKey;
  readonly subject: string;
  /** Its certificate as the library holds it (issuer name and key identifier of what it signs). */
  readonly issued: unknown;
}

type X509 = typeof import('@peculiar/x509');
// The library's Web Crypto types (DOM's), which Node's `webcrypto` objects are at run time.
type LibraryCrypto = Parameters<X509['cryptoProvider']['set']>[0];
type LibraryKeyPair = Parameters<X509['X509CertificateGenerator']['createSelfSigned']>[0]['keys'];
type LibraryKey = LibraryKeyPair['publicKey'];

const RSA: webcrypto.RsaHashedKeyGenParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
// Long enough for any test run or dev session; dev mode makes a new authority at each start.
const VALIDITY_MS = 30 * 24 * 3600 * 1000;

let library: Promise<X509> | undefined;

/** `@peculiar/x509`, with Node's Web Crypto; a clear message when it is not installed. */
function x509(): Promise<X509> {
  library ??= (async () => {
    await import('reflect-metadata'); // tsyringe, which the library uses, needs it loaded first
    const loaded = await import('@peculiar/x509').catch(() => {
      throw new Error('The Entra emulator needs @peculiar/x509 for certificates (https: true, createClientCertificate()): npm install --save-dev @peculiar/x509');
    });
    loaded.cryptoProvider.set(webcrypto as unknown as LibraryCrypto);
    return loaded;
  })();
  return library;
}

/** A positive 16-byte serial (RFC 5280: at most 20 bytes, positive): the first byte 0x01 to 0x7f. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! % 0x7f) + 1;
  return bytes.toString('hex');
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  // A minute back, for clocks a little apart.
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + VALIDITY_MS) };
}

async function issued(certificate: InstanceType<X509['X509Certificate']>, privateKey: webcrypto.CryptoKey): Promise<IssuedCertificate> {
  return {
    // Ending in a newline, as PEM files do: a certificate and its key can then be joined into one file.
    certificate: `${certificate.toString('pem').trimEnd()}\n`,
    privateKey: KeyObject.from(privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
    thumbprintSha256: createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex'),
  };
}

/**
 * Makes a certificate authority of its own, trusted by nobody until a process is told to (an
 * `https.Agent({ ca })`, or `NODE_EXTRA_CA_CERTS`).
 *
 * @internal
 */
export async function createCertificateAuthority(subject: string): Promise<CertificateAuthority> {
  const lib = await x509();
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const certificate = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${subject}`,
    ...validity(),
    signingAlgorithm: RSA,
    keys: keys as unknown as LibraryKeyPair,
    extensions: [
      new lib.BasicConstraintsExtension(true, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibraryKey),
    ],
  });
  return { ...(await issued(certificate, keys.privateKey)), signingKey: keys.privateKey, subject, issued: certificate };
}

/**
 * An end-entity certificate signed by `authority`: a TLS server's for `hosts`, or a client's (an
 * application's certificate credential).
 *
 * @internal
 */
export async function issueCertificate(
  authority: CertificateAuthority,
  subject: string,
  profile: { usage: 'server' | 'client'; hosts?: readonly string[] },
): Promise<IssuedCertificate> {
  const lib = await x509();
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const issuer = authority.issued as InstanceType<X509['X509Certificate']>;
  const hosts = profile.hosts ?? [];
  const certificate = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${subject}`,
    issuer: issuer.subject,
    ...validity(),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey as unknown as LibraryKey,
    signingKey: authority.signingKey as unknown as LibraryKey,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyEncipherment, true),
      new lib.ExtendedKeyUsageExtension([profile.usage === 'server' ? lib.ExtendedKeyUsage.serverAuth : lib.ExtendedKeyUsage.clientAuth]),
      ...(hosts.length ? [new lib.SubjectAlternativeNameExtension(hosts.map((host) => ({ type: isIP(host) ? ('ip' as const) : ('dns' as const), value: host })))] : []),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibraryKey),
      await lib.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
  return issued(certificate, keys.privateKey);
}
