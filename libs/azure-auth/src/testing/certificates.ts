import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';

/**
 * X.509 certificates for the emulator's HTTPS and for the API's certificate credential, made
 * with node:crypto alone. Node can read certificates (`X509Certificate`) but not issue them, and
 * neither the `openssl` CLI nor a certificate library can be counted on where tests run: the few
 * DER structures a certificate needs are written here (RFC 5280), and the result is checked by
 * Node's own TLS and `X509Certificate` in the tests.
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
  readonly key: KeyObject;
  readonly subject: string;
  readonly keyId: Buffer;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const RSA_MODULUS_LENGTH = 2048;
// Long enough for any test run or dev session; dev mode makes a new authority at each start.
const VALIDITY_MS = 30 * 24 * 3600 * 1000;

// ----- DER (X.690), the few types a certificate uses -----

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const value = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(value.length), value]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octetString = (value: Buffer) => tlv(0x04, value);
const bitString = (value: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), value);
const utf8String = (value: string) => tlv(0x0c, Buffer.from(value, 'utf8'));
const booleanTrue = () => tlv(0x01, Buffer.from([0xff]));
const explicit = (tagNumber: number, content: Buffer) => tlv(0xa0 | tagNumber, content);

/**
 * A non-negative DER INTEGER of big-endian bytes: minimal (DER refuses leading zero bytes, which
 * random serial numbers have one time in 256), with a zero byte in front when the first bit is set
 * (it would read as negative).
 *
 * @internal
 */
export function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const minimal = value.subarray(start);
  return tlv(0x02, minimal[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let rest = arc >>> 7; rest > 0; rest >>>= 7) base128.unshift(0x80 | (rest & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

// ----- X.509 (RFC 5280) -----

const OID = {
  commonName: '2.5.4.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const name = (commonName: string) => sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
const sha256WithRsa = () => sequence(objectIdentifier(OID.sha256WithRsa), tlv(0x05));

function extension(oid: string, value: Buffer, critical = false): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

/** `dNSName` and `iPAddress` entries of a subjectAltName. */
function alternativeNames(hosts: readonly string[]): Buffer {
  return sequence(
    ...hosts.map((host) => {
      const bare = host.replace(/^\[|\]$/g, '');
      if (isIP(bare) === 4) return tlv(0x87, Buffer.from(bare.split('.').map(Number)));
      if (isIP(bare) === 6) return tlv(0x87, ipv6Bytes(bare));
      return tlv(0x82, Buffer.from(host, 'ascii'));
    }),
  );
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...groups(tail)];
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

/** RFC 5280's method 1: the SHA-1 of the public key bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // The BIT STRING that ends the SubjectPublicKeyInfo: its bytes after the unused-bits byte.
  return createHash('sha1').update(rsaPublicKeyBits(spki)).digest();
}

function rsaPublicKeyBits(spki: Buffer): Buffer {
  // SEQUENCE { SEQUENCE algorithm, BIT STRING }: skip the outer header and the algorithm.
  let offset = headerLength(spki, 0);
  offset += headerLength(spki, offset) + contentLength(spki, offset);
  return spki.subarray(offset + headerLength(spki, offset) + 1);
}

function headerLength(der: Buffer, offset: number): number {
  const first = der[offset + 1]!;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer, offset: number): number {
  const first = der[offset + 1]!;
  if (first < 0x80) return first;
  let size = 0;
  for (let i = 0; i < (first & 0x7f); i++) size = size * 256 + der[offset + 2 + i]!;
  return size;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

interface CertificateRequest {
  readonly subject: string;
  readonly publicKey: KeyObject;
  readonly issuer: { readonly subject: string; readonly keyId: Buffer } | 'self';
  /** A certificate authority (may sign others), or an end entity for these uses. */
  readonly profile: { readonly authority: true } | { readonly authority?: false; readonly usage: 'server' | 'client'; readonly hosts?: readonly string[] };
  readonly signingKey: KeyObject;
}

function certificateDer(request: CertificateRequest): Buffer {
  const { subject, publicKey, profile } = request;
  const keyId = keyIdentifier(publicKey);
  const issuer = request.issuer === 'self' ? { subject, keyId } : request.issuer;
  const now = Date.now();
  const extensions = profile.authority
    ? [
        extension(OID.basicConstraints, sequence(booleanTrue()), true),
        // keyCertSign and cRLSign
        extension(OID.keyUsage, bitString(Buffer.from([0x06]), 1), true),
      ]
    : [
        extension(OID.basicConstraints, sequence(), true),
        // digitalSignature and keyEncipherment
        extension(OID.keyUsage, bitString(Buffer.from([0xa0]), 5), true),
        extension(OID.extendedKeyUsage, sequence(objectIdentifier(profile.usage === 'server' ? OID.serverAuth : OID.clientAuth))),
        ...(profile.hosts?.length ? [extension(OID.subjectAltName, alternativeNames(profile.hosts))] : []),
      ];
  extensions.push(extension(OID.subjectKeyIdentifier, octetString(keyId)));
  extensions.push(extension(OID.authorityKeyIdentifier, sequence(tlv(0x80, issuer.keyId))));
  const tbs = sequence(
    explicit(0, derInteger(Buffer.from([2]))),
    derInteger(randomBytes(16)),
    sha256WithRsa(),
    name(issuer.subject),
    // A minute back, for clocks a little apart.
    sequence(time(new Date(now - 60_000)), time(new Date(now + VALIDITY_MS))),
    name(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  return sequence(tbs, sha256WithRsa(), bitString(sign('sha256', tbs, request.signingKey)));
}

function issued(der: Buffer, privateKey: KeyObject): IssuedCertificate {
  return {
    certificate: pem('CERTIFICATE', der),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex'),
  };
}

/**
 * Makes a certificate authority of its own, trusted by nobody until a process is told to (an
 * `https.Agent({ ca })`, or `NODE_EXTRA_CA_CERTS`).
 *
 * @internal
 */
export async function createCertificateAuthority(subject: string): Promise<CertificateAuthority> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_LENGTH });
  const der = certificateDer({ subject, publicKey, issuer: 'self', profile: { authority: true }, signingKey: privateKey });
  return { ...issued(der, privateKey), key: privateKey, subject, keyId: keyIdentifier(publicKey) };
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
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_LENGTH });
  const der = certificateDer({
    subject,
    publicKey,
    issuer: { subject: authority.subject, keyId: authority.keyId },
    profile,
    signingKey: authority.key,
  });
  return issued(der, privateKey);
}
