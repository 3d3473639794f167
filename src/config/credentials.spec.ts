import { AppConfigError } from './environment.js';
import { parseClientCredential } from './credentials.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const files: Record<string, string> = { '/etc/api/cert.pem': PEM, '/etc/api/key-only.pem': '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n', '/var/run/token': 'eyJ.fed.token' };
const readText = (path: string) => {
  if (!(path in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  return files[path]!;
};

function refusal(env: Record<string, string>): string {
  try {
    parseClientCredential(env, readText);
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('parseClientCredential', () => {
  it('none of the variables: no credential (blank counts as unset)', () => {
    expect(parseClientCredential({}, readText)).toBeUndefined();
    expect(parseClientCredential({ AZURE_CLIENT_SECRET: '  ' }, readText)).toBeUndefined();
  });

  it('AZURE_CLIENT_SECRET: the secret', () => {
    expect(parseClientCredential({ AZURE_CLIENT_SECRET: 's3cr3t~value' }, readText)).toEqual({ clientSecret: 's3cr3t~value' });
  });

  it('AZURE_CLIENT_CERTIFICATE_PATH: the PEM file, as key and certificate', () => {
    expect(parseClientCredential({ AZURE_CLIENT_CERTIFICATE_PATH: '/etc/api/cert.pem' }, readText)).toEqual({ certificate: { privateKey: PEM, certificate: PEM } });
  });

  it('AZURE_FEDERATED_TOKEN_FILE: an assertion callback that reads the file when called', async () => {
    const credential = parseClientCredential({ AZURE_FEDERATED_TOKEN_FILE: '/var/run/token' }, readText);
    expect(credential).toEqual({ clientAssertion: expect.any(Function) });
  });

  it.each([
    [{ AZURE_CLIENT_SECRET: 'x-secret-value', AZURE_CLIENT_CERTIFICATE_PATH: '/etc/api/cert.pem' }, /AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are both set/],
    [{ AZURE_CLIENT_CERTIFICATE_PATH: '/missing.pem' }, /AZURE_CLIENT_CERTIFICATE_PATH names a file that cannot be read \(ENOENT\)/],
    [{ AZURE_CLIENT_CERTIFICATE_PATH: '/etc/api/key-only.pem' }, /must name a PEM file holding both the certificate and its private key/],
    [{ AZURE_CLIENT_CERTIFICATE_PATH: '/etc/api/cert.pem', AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pw' }, /encrypted keys are not supported/],
    [{ AZURE_FEDERATED_TOKEN_FILE: '/var/run/none' }, /AZURE_FEDERATED_TOKEN_FILE names a file that cannot be read/],
  ])('refuses %p, naming the variable and never the value', (env, message) => {
    const text = refusal(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('x-secret-value');
    expect(text).not.toContain('MIIE');
  });
});
