import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../testing/certificates.js';
import { resolveAzureAuthOptions } from '../azure-auth.options.resolve.js';
import type { AzureClientCredential } from '../azure-auth.options.js';
import { resolveClientCredential } from './client-credential.js';

const TENANT = '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d';
const CLIENT = 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f';
const SECRET = 'Zq8~Xy_3kLmN0pQrStUvWxYz.AbCdEfGhIjKlMn';

describe('clientCredential', () => {
  let issued: IssuedCertificate;
  let another: IssuedCertificate;

  beforeAll(async () => {
    const authority = await createCertificateAuthority('Spec CA');
    issued = await issueCertificate(authority, 'api', { usage: 'client' });
    another = await issueCertificate(authority, 'other', { usage: 'client' });
  });

  const refusal = (credential: unknown) => {
    try {
      resolveClientCredential(credential as AzureClientCredential);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('takes a client secret, and shows its kind only when printed or serialized', () => {
    const credential = resolveClientCredential({ clientSecret: SECRET })!;
    expect(credential.msalCredentialFields()).toEqual({ clientSecret: SECRET });
    expect(inspect(credential)).toBe('[client credential: client secret]');
    expect(JSON.stringify({ credential })).toBe('{"credential":{"kind":"client secret"}}');
    expect(`${credential}`).not.toContain(SECRET);
    expect(inspect(resolveAzureAuthOptions({ tenantId: TENANT, clientId: CLIENT, clientCredential: { clientSecret: SECRET } }), { depth: 10 })).not.toContain(SECRET);
  });

  it.each([
    ['a GUID (the secret ID)', { clientSecret: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a' }, /"clientCredential.clientSecret" is a GUID: that is the secret's ID/],
    ['an empty secret', { clientSecret: '' }, /"clientCredential.clientSecret" must be a non-empty string/],
    ['a secret with a trailing newline', { clientSecret: `${SECRET}\n` }, /starts or ends with whitespace/],
    ['two credentials', { clientSecret: SECRET, clientAssertion: () => 'x' }, /exactly one of clientSecret, certificate or clientAssertion, got clientSecret and clientAssertion/],
    ['no credential', {}, /got none/],
    ['an assertion that is not a function', { clientAssertion: 'eyJ…' }, /"clientCredential.clientAssertion" must be a function/],
    ['not an object', 'secret', /must be \{ clientSecret \}/],
  ])('refuses %s, naming the option and never the value', (_case, credential, message) => {
    const text = refusal(credential);
    expect(text).toMatch(message);
    expect(text).not.toContain(SECRET);
  });

  it('takes a certificate with its private key: thumbprint computed, certificate sent as x5c, key as PKCS#8', () => {
    const fields = resolveClientCredential({ certificate: { privateKey: issued.privateKey, certificate: issued.certificate } })!.msalCredentialFields();
    expect(fields.clientCertificate?.thumbprintSha256).toBe(issued.thumbprintSha256);
    expect(fields.clientCertificate?.x5c).toContain('-----BEGIN CERTIFICATE-----');
    expect(fields.clientCertificate?.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('takes one PEM holding both, and a private key with its SHA-256 thumbprint (colons allowed)', () => {
    const both = `${issued.certificate}${issued.privateKey}`;
    expect(resolveClientCredential({ certificate: { privateKey: both, certificate: both } })!.msalCredentialFields().clientCertificate?.thumbprintSha256).toBe(issued.thumbprintSha256);
    const colons = issued.thumbprintSha256.toUpperCase().match(/../g)!.join(':');
    expect(resolveClientCredential({ certificate: { privateKey: issued.privateKey, thumbprintSha256: colons } })!.msalCredentialFields().clientCertificate).toEqual({
      thumbprintSha256: issued.thumbprintSha256,
      privateKey: expect.stringContaining('PRIVATE KEY'),
    });
  });

  it.each([
    ['a certificate of another key', () => ({ privateKey: issued.privateKey, certificate: another.certificate }), /is not the certificate of privateKey/],
    ['a SHA-1 thumbprint', () => ({ privateKey: issued.privateKey, thumbprintSha256: 'a'.repeat(40) }), /is a SHA-1 thumbprint/],
    ['a thumbprint that is not the certificate\'s', () => ({ privateKey: issued.privateKey, certificate: issued.certificate, thumbprintSha256: 'b'.repeat(64) }), /is not the thumbprint of certificate/],
    ['neither certificate nor thumbprint', () => ({ privateKey: issued.privateKey }), /needs certificate or thumbprintSha256/],
    ['no PEM key', () => ({ privateKey: 'MIIEvQIBADANBg', thumbprintSha256: 'b'.repeat(64) }), /"clientCredential.certificate.privateKey" must be a PEM private key/],
    ['an encrypted key', () => ({ privateKey: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', thumbprintSha256: 'b'.repeat(64) }), /is encrypted/],
    [
      'an EC key',
      () => ({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), thumbprintSha256: 'b'.repeat(64) }),
      /must be an RSA key/,
    ],
    ['a certificate that is not PEM', () => ({ privateKey: issued.privateKey, certificate: 'not a certificate' }), /must be a PEM certificate/],
  ])('refuses %s', (_case, certificate, message) => {
    const text = refusal({ certificate: certificate() });
    expect(text).toMatch(message);
    expect(text).not.toContain('PRIVATE KEY-----\nMII');
  });

  it('is refused with an http:// authority (MSAL Node refuses them) and with a custom authority (B2C)', () => {
    expect(() => resolveAzureAuthOptions({ tenantId: TENANT, clientId: CLIENT, authorityHost: 'http://127.0.0.1:8080', clientCredential: { clientSecret: SECRET } })).toThrow(
      /"clientCredential" needs an https:\/\/ authorityHost: MSAL Node refuses http:\/\/ authorities/,
    );
    expect(() =>
      resolveAzureAuthOptions({ clientId: CLIENT, authority: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_susi/v2.0', clientCredential: { clientSecret: SECRET } }),
    ).toThrow(/B2C has no on-behalf-of flow/);
  });

  it('downstreamTokenCache.maxPartitions is a positive integer, set next to authorities', () => {
    expect(resolveAzureAuthOptions({ tenantId: TENANT, clientId: CLIENT }).downstreamCacheMaxPartitions).toBe(1000);
    expect(resolveAzureAuthOptions({ tenantId: TENANT, clientId: CLIENT, downstreamTokenCache: { maxPartitions: 5 } }).downstreamCacheMaxPartitions).toBe(5);
    expect(() => resolveAzureAuthOptions({ tenantId: TENANT, clientId: CLIENT, downstreamTokenCache: { maxPartitions: 0 } })).toThrow(/"downstreamTokenCache.maxPartitions" must be a positive integer/);
    expect(() => resolveAzureAuthOptions({ authorities: [{ tenantId: TENANT, clientId: CLIENT, downstreamTokenCache: { maxPartitions: 5 } } as never] })).toThrow(
      /"authorities\[0\].downstreamTokenCache" applies to the whole module/,
    );
  });
});
