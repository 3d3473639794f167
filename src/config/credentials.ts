import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AzureClientCredential } from 'nestjs-azure-auth';
import { AppConfigError, type AppEnvironment } from './environment.js';

/**
 * The variables the Azure SDKs read for an application's own credential (`EnvironmentCredential`,
 * `WorkloadIdentityCredential`), and what each gives `clientCredential`.
 */
export const CREDENTIAL_VARIABLES = {
  clientSecret: 'AZURE_CLIENT_SECRET',
  certificatePath: 'AZURE_CLIENT_CERTIFICATE_PATH',
  certificatePassword: 'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  federatedTokenFile: 'AZURE_FEDERATED_TOKEN_FILE',
} as const;

/** The option behind each credential variable, for start-up messages that name the variable. */
export const CREDENTIAL_OPTION_VARIABLES: Readonly<Record<string, string>> = {
  'clientCredential.clientSecret': CREDENTIAL_VARIABLES.clientSecret,
  'clientCredential.certificate': CREDENTIAL_VARIABLES.certificatePath,
  'clientCredential.certificate.privateKey': CREDENTIAL_VARIABLES.certificatePath,
  'clientCredential.certificate.certificate': CREDENTIAL_VARIABLES.certificatePath,
};

function read(env: AppEnvironment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * The API's own credential, for the routes that call Microsoft Graph on the caller's behalf
 * (`GET /api/me/profile`): none of the variables set means none (those routes then answer 503),
 * more than one is refused, as is a file that cannot be read. Secrets and keys are read, never
 * printed: messages name the variable only.
 *
 * - `AZURE_CLIENT_SECRET`: the secret's Value.
 * - `AZURE_CLIENT_CERTIFICATE_PATH`: a PEM file with the certificate and its unencrypted private
 *   key (`AZURE_CLIENT_CERTIFICATE_PASSWORD` is not supported: decrypt the key instead).
 * - `AZURE_FEDERATED_TOKEN_FILE`: workload identity; the file is read again for each token
 *   request, since the platform replaces it before it expires.
 */
export function parseClientCredential(env: AppEnvironment, readText: (path: string) => string = (path) => readFileSync(path, 'utf8')): AzureClientCredential | undefined {
  const secret = read(env, CREDENTIAL_VARIABLES.clientSecret);
  const certificatePath = read(env, CREDENTIAL_VARIABLES.certificatePath);
  const tokenFile = read(env, CREDENTIAL_VARIABLES.federatedTokenFile);
  const set = Object.entries({ [CREDENTIAL_VARIABLES.clientSecret]: secret, [CREDENTIAL_VARIABLES.certificatePath]: certificatePath, [CREDENTIAL_VARIABLES.federatedTokenFile]: tokenFile })
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
  if (set.length > 1) {
    throw new AppConfigError(`${set.join(' and ')} are both set: the API has one credential, set only one of them`);
  }
  if (secret !== undefined) return { clientSecret: secret };
  if (certificatePath !== undefined) {
    if (read(env, CREDENTIAL_VARIABLES.certificatePassword) !== undefined) {
      throw new AppConfigError(`${CREDENTIAL_VARIABLES.certificatePassword} is set: encrypted keys are not supported; give ${CREDENTIAL_VARIABLES.certificatePath} a PEM file with the decrypted key`);
    }
    const pem = readRequired(certificatePath, CREDENTIAL_VARIABLES.certificatePath, readText);
    if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) {
      throw new AppConfigError(`${CREDENTIAL_VARIABLES.certificatePath} must name a PEM file holding both the certificate and its private key`);
    }
    return { certificate: { privateKey: pem, certificate: pem } };
  }
  if (tokenFile !== undefined) {
    readRequired(tokenFile, CREDENTIAL_VARIABLES.federatedTokenFile, readText);
    return { clientAssertion: async () => (await readFile(tokenFile, 'utf8')).trim() };
  }
  return undefined;
}

function readRequired(path: string, variable: string, readText: (path: string) => string): string {
  try {
    return readText(path);
  } catch (error) {
    throw new AppConfigError(`${variable} names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
  }
}
