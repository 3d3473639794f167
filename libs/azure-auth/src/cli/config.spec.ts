import { readDoctorConfig } from './config.js';

const TENANT = '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d';
const CLIENT = 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f';
const B2C = 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0';

describe('readDoctorConfig', () => {
  it('asks for no verification when neither tenant nor client id is set (blank counts as unset)', () => {
    expect(readDoctorConfig({})).toEqual({ kind: 'none' });
    expect(readDoctorConfig({ AZURE_TENANT_ID: ' ', AZURE_CLIENT_ID: '', AZURE_AUTHORITY_HOST: 'http://127.0.0.1:1' })).toEqual({ kind: 'none' });
  });

  it('names the missing half of a configuration', () => {
    expect(readDoctorConfig({ AZURE_TENANT_ID: TENANT })).toEqual({ kind: 'incomplete', problem: expect.stringMatching(/^AZURE_CLIENT_ID is not set/) });
    expect(readDoctorConfig({ AZURE_CLIENT_ID: CLIENT })).toEqual({ kind: 'incomplete', problem: expect.stringMatching(/^AZURE_TENANT_ID is not set/) });
    expect(readDoctorConfig({ AZURE_AUTHORITY: B2C })).toEqual({ kind: 'incomplete', problem: expect.stringMatching(/^AZURE_CLIENT_ID is not set: set it with AZURE_AUTHORITY/) });
  });

  it('sets only what the environment says, leaving every other option at the module default', () => {
    expect(readDoctorConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT })).toEqual({ kind: 'complete', options: { tenantId: TENANT, clientId: CLIENT } });
  });

  it('reads the authority host and the allowed tenants (commas and/or spaces)', () => {
    const other = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
    expect(
      readDoctorConfig({
        AZURE_TENANT_ID: 'organizations',
        AZURE_CLIENT_ID: ` ${CLIENT} `,
        AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
        AZURE_ALLOWED_TENANTS: `${TENANT}, ${other},`,
      }),
    ).toEqual({
      kind: 'complete',
      options: { tenantId: 'organizations', clientId: CLIENT, authorityHost: 'https://login.microsoftonline.us', allowedTenants: [TENANT, other] },
    });
  });

  it('takes AZURE_AUTHORITY with AZURE_CLIENT_ID as the whole authority (B2C, External ID, a custom domain)', () => {
    expect(readDoctorConfig({ AZURE_AUTHORITY: B2C, AZURE_CLIENT_ID: CLIENT })).toEqual({ kind: 'complete', options: { authority: B2C, clientId: CLIENT } });
  });

  it.each([
    ['AZURE_TENANT_ID', { AZURE_TENANT_ID: TENANT }],
    ['AZURE_AUTHORITY_HOST', { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' }],
    ['AZURE_ALLOWED_TENANTS', { AZURE_ALLOWED_TENANTS: TENANT }],
  ])('refuses AZURE_AUTHORITY together with %s: one form only', (name, extra) => {
    const config = readDoctorConfig({ AZURE_AUTHORITY: B2C, AZURE_CLIENT_ID: CLIENT, ...extra });
    expect(config).toEqual({ kind: 'incomplete', problem: expect.stringContaining(`AZURE_AUTHORITY and ${name} are both set`) });
  });
});
