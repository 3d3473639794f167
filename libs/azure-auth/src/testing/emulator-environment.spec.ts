import { readDoctorConfig } from '../cli/config.js';
import { EntraEmulator, entraEmulatorEnvironment } from './index.js';

describe('entraEmulatorEnvironment', () => {
  let entra: EntraEmulator;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    await entra.stop();
  });

  it("gives the emulator's tenant, client id and authority host under the AZURE_* names", () => {
    expect(entraEmulatorEnvironment(entra)).toEqual({
      AZURE_TENANT_ID: entra.tenantId,
      AZURE_CLIENT_ID: entra.clientId,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
  });

  it('is what the token doctor reads its configuration from: the same names', () => {
    expect(readDoctorConfig(entraEmulatorEnvironment(entra))).toEqual({
      kind: 'complete',
      options: { tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost },
    });
  });

  it('follows an emulator started with a tenant and client id of its own', async () => {
    const other = await EntraEmulator.start({ tenantId: '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a', clientId: 'c0ffee00-1234-4abc-9def-0123456789ab' });
    try {
      expect(entraEmulatorEnvironment(other)).toEqual({
        AZURE_TENANT_ID: '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a',
        AZURE_CLIENT_ID: 'c0ffee00-1234-4abc-9def-0123456789ab',
        AZURE_AUTHORITY_HOST: other.authorityHost,
      });
      expect(other.authorityHost).not.toBe(entra.authorityHost);
    } finally {
      await other.stop();
    }
  });
});
