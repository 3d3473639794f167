import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from './certificates.js';

describe('certificates the emulator issues', () => {
  let authority: Awaited<ReturnType<typeof createCertificateAuthority>>;

  beforeAll(async () => {
    authority = await createCertificateAuthority('Test Authority');
  });

  it('makes a self-signed certificate authority that Node reads as one', () => {
    const certificate = new X509Certificate(authority.certificate);
    expect(certificate.ca).toBe(true);
    expect(certificate.subject).toBe('CN=Test Authority');
    expect(certificate.issuer).toBe('CN=Test Authority');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(authority.thumbprintSha256);
  });

  it('issues a server certificate for loopback names and addresses, signed by the authority', async () => {
    const server = await issueCertificate(authority, 'localhost', { usage: 'server', hosts: ['localhost', '127.0.0.1', '::1'] });
    const certificate = new X509Certificate(server.certificate);
    expect(certificate.ca).toBe(false);
    expect(certificate.issuer).toBe('CN=Test Authority');
    expect(certificate.verify(new X509Certificate(authority.certificate).publicKey)).toBe(true);
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIP('::1')).toBe('::1');
    expect(certificate.checkHost('example.com')).toBeUndefined();
    expect(certificate.checkIssued(new X509Certificate(authority.certificate))).toBe(true);
    // The private key belongs to the certificate.
    expect(createPublicKey(createPrivateKey(server.privateKey)).export({ format: 'jwk' })).toEqual(certificate.publicKey.export({ format: 'jwk' }));
  });

  it('is trusted by TLS exactly where the authority is given, and refused elsewhere', async () => {
    const issued = await issueCertificate(authority, 'localhost', { usage: 'server', hosts: ['localhost', '127.0.0.1'] });
    const server = createServer({ key: issued.privateKey, cert: issued.certificate }, (_request, response) => response.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (agent: Agent) =>
      new Promise<string>((resolve, reject) => {
        const call = request({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve(body));
        });
        call.on('error', reject);
        call.end();
      });
    try {
      await expect(get(new Agent({ ca: authority.certificate }))).resolves.toBe('hello');
      await expect(get(new Agent())).rejects.toThrow(/certificate/i);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('issues client certificates (an application credential) with a thumbprint of their DER', async () => {
    const client = await issueCertificate(authority, 'todolist-api', { usage: 'client' });
    const certificate = new X509Certificate(client.certificate);
    expect(certificate.subject).toBe('CN=todolist-api');
    expect(certificate.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(client.thumbprintSha256);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });
});
