import { Test } from '@nestjs/testing';
import { AzureAuthConfigurationError } from 'nestjs-azure-auth';
import { AzureAuthSwaggerConfigurationError, setupAzureAuthSwagger } from 'nestjs-azure-auth/swagger';
import { AppModule } from '../app.module.js';
import { DEFAULT_PORT, DEV_MODE_HOST, parseAppConfig, startupErrorMessage } from './app-config.js';
import { AppConfigError } from './environment.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '11111111-2222-4333-8444-555555555555';
const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
const B2C_AUTHORITY = 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0';
const EXTERNAL_ID_AUTHORITY = `https://contoso.ciamlogin.com/${TENANT}/v2.0`;

function refusal(env: Record<string, string>): string {
  try {
    parseAppConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** What the app exits with when AzureAuthModule refuses the options `env` gives it: the start-up path of main.ts, without listening. */
async function moduleRefusal(env: Record<string, string>): Promise<{ option: string; message: string }> {
  const config = parseAppConfig(env);
  if (config.mode !== 'azure') throw new Error(`expected ${JSON.stringify(env)} to configure Azure mode`);
  try {
    await Test.createTestingModule({ imports: [AppModule.register({ auth: config.auth })] }).compile();
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthConfigurationError);
    return { option: (error as AzureAuthConfigurationError).option, message: startupErrorMessage(error) };
  }
  throw new Error(`expected AzureAuthModule to refuse ${JSON.stringify(config.auth)}`);
}

describe('parseAppConfig', () => {
  it('runs in dev mode on loopback when neither variable is set', () => {
    expect(parseAppConfig({})).toEqual({ mode: 'dev', httpAdapter: 'express', port: DEFAULT_PORT, host: DEV_MODE_HOST, allowNetwork: false });
    expect(DEV_MODE_HOST).toBe('127.0.0.1');
  });

  it('treats blank variables as unset', () => {
    expect(parseAppConfig({ AZURE_TENANT_ID: '', AZURE_CLIENT_ID: '  ', AZURE_AUTHORITY: ' ', HTTP_ADAPTER: '', PORT: '', HOST: ' ', DEV_MODE_ALLOW_NETWORK: '' })).toEqual({
      mode: 'dev',
      httpAdapter: 'express',
      port: 3000,
      host: '127.0.0.1',
      allowNetwork: false,
    });
  });

  it('validates against the configured tenant when both are set, binding every interface by default', () => {
    expect(parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT })).toEqual({
      mode: 'azure',
      httpAdapter: 'express',
      auth: { tenantId: TENANT, clientId: CLIENT },
      port: 3000,
      host: undefined,
    });
  });

  it('passes the authority host through and trims values', () => {
    const config = parseAppConfig({
      AZURE_TENANT_ID: ` ${TENANT} `,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
      PORT: '8080',
      HOST: '0.0.0.0',
    });
    expect(config).toEqual({
      mode: 'azure',
      httpAdapter: 'express',
      auth: { tenantId: TENANT, clientId: CLIENT, authorityHost: 'https://login.microsoftonline.us' },
      port: 8080,
      host: '0.0.0.0',
    });
  });

  it('names the missing variable when only one of the two is set', () => {
    expect(refusal({ AZURE_TENANT_ID: TENANT })).toMatch(/^AZURE_CLIENT_ID is missing/);
    expect(refusal({ AZURE_CLIENT_ID: CLIENT })).toMatch(/^AZURE_TENANT_ID is missing/);
    expect(refusal({ AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: ' ' })).toMatch(/^AZURE_TENANT_ID is missing/);
  });

  it('parses AZURE_ALLOWED_TENANTS as a comma list for a multi-tenant API', () => {
    const config = parseAppConfig({
      AZURE_TENANT_ID: 'organizations',
      AZURE_CLIENT_ID: CLIENT,
      AZURE_ALLOWED_TENANTS: ` ${TENANT}, ${OTHER_TENANT},`,
    });
    expect(config).toMatchObject({ mode: 'azure', auth: { tenantId: 'organizations', allowedTenants: [TENANT, OTHER_TENANT] } });
  });

  it('treats an AZURE_ALLOWED_TENANTS without any entry as unset', () => {
    const config = parseAppConfig({ AZURE_TENANT_ID: 'organizations', AZURE_CLIENT_ID: CLIENT, AZURE_ALLOWED_TENANTS: ' , ' });
    expect(config).toEqual({ mode: 'azure', httpAdapter: 'express', auth: { tenantId: 'organizations', clientId: CLIENT }, port: DEFAULT_PORT, host: undefined, swaggerClientId: undefined });
    expect(config.mode === 'azure' && 'allowedTenants' in config.auth).toBe(false);
  });

  // The values themselves are AzureAuthModule's to check: a wrong one stops the start with its
  // message, which names the option, and the app adds the variable that set it.
  it.each([
    ['a tenant that is neither a GUID nor a domain', { AZURE_TENANT_ID: 'not a tenant', AZURE_CLIENT_ID: CLIENT }, 'tenantId', 'AZURE_TENANT_ID'],
    ['a client id that is not a GUID', { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: 'todo-api' }, 'clientId', 'AZURE_CLIENT_ID'],
    ['organizations without AZURE_ALLOWED_TENANTS', { AZURE_TENANT_ID: 'organizations', AZURE_CLIENT_ID: CLIENT }, 'allowedTenants', 'AZURE_ALLOWED_TENANTS'],
    ['common with an empty AZURE_ALLOWED_TENANTS', { AZURE_TENANT_ID: 'common', AZURE_CLIENT_ID: CLIENT, AZURE_ALLOWED_TENANTS: ',' }, 'allowedTenants', 'AZURE_ALLOWED_TENANTS'],
    [
      'an AZURE_ALLOWED_TENANTS entry that is not a GUID',
      { AZURE_TENANT_ID: 'common', AZURE_CLIENT_ID: CLIENT, AZURE_ALLOWED_TENANTS: `${TENANT},contoso.com` },
      'allowedTenants',
      'AZURE_ALLOWED_TENANTS',
    ],
    ['an http:// authority host beyond loopback', { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_AUTHORITY_HOST: 'http://login.example.com' }, 'authorityHost', 'AZURE_AUTHORITY_HOST'],
    [
      'an http:// AZURE_AUTHORITY beyond loopback',
      { AZURE_AUTHORITY: 'http://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0', AZURE_CLIENT_ID: CLIENT },
      'authority',
      'AZURE_AUTHORITY',
    ],
    ['an AZURE_AUTHORITY that is not a URL', { AZURE_AUTHORITY: 'contoso.ciamlogin.com/contoso.onmicrosoft.com', AZURE_CLIENT_ID: CLIENT }, 'authority', 'AZURE_AUTHORITY'],
    ['an AZURE_AUTHORITY with a query', { AZURE_AUTHORITY: `${B2C_AUTHORITY}?p=B2C_1_profile`, AZURE_CLIENT_ID: CLIENT }, 'authority', 'AZURE_AUTHORITY'],
    ['an AZURE_AUTHORITY with credentials', { AZURE_AUTHORITY: `https://user:secret@contoso.ciamlogin.com/${TENANT}/v2.0`, AZURE_CLIENT_ID: CLIENT }, 'authority', 'AZURE_AUTHORITY'],
    ['a client id that is not a GUID, with AZURE_AUTHORITY', { AZURE_AUTHORITY: EXTERNAL_ID_AUTHORITY, AZURE_CLIENT_ID: 'todo-api' }, 'clientId', 'AZURE_CLIENT_ID'],
  ])('stops the start for %s, naming the option and its variable', async (_name, env, option, variable) => {
    const refused = await moduleRefusal(env);
    expect(refused.option).toBe(option);
    expect(refused.message).toMatch(new RegExp(`^AzureAuthModule: option "${option}" .+ \\(environment variable ${variable}\\)$`));
  });

  it('leaves consumers (a single tenant) without an allow-list, as AzureAuthModule accepts it', () => {
    expect(parseAppConfig({ AZURE_TENANT_ID: 'consumers', AZURE_CLIENT_ID: CLIENT })).toMatchObject({ auth: { tenantId: 'consumers' } });
  });

  it('does not fall back to dev mode when only the optional Azure variables are set', () => {
    expect(refusal({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' })).toMatch(/^AZURE_AUTHORITY_HOST is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not/);
    expect(refusal({ AZURE_ALLOWED_TENANTS: TENANT })).toMatch(/^AZURE_ALLOWED_TENANTS is set/);
  });

  it('never runs dev mode in production', () => {
    expect(refusal({ NODE_ENV: 'production' })).toMatch(/AZURE_TENANT_ID and AZURE_CLIENT_ID are not set and NODE_ENV is production/);
    expect(parseAppConfig({ NODE_ENV: 'production', AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT }).mode).toBe('azure');
  });

  it.each(['abc', '-1', '65536', '3000.5', '0x10'])('refuses PORT=%s', (port) => {
    expect(refusal({ PORT: port })).toMatch(/^PORT must be a port number/);
  });

  it('runs on Express unless HTTP_ADAPTER says fastify, in either mode', () => {
    expect(parseAppConfig({ HTTP_ADAPTER: 'fastify' })).toMatchObject({ mode: 'dev', httpAdapter: 'fastify' });
    expect(parseAppConfig({ HTTP_ADAPTER: ' express ', AZURE_AUTHORITY: B2C_AUTHORITY, AZURE_CLIENT_ID: CLIENT })).toMatchObject({ mode: 'azure', httpAdapter: 'express' });
    expect(parseAppConfig({ HTTP_ADAPTER: 'fastify', AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT })).toMatchObject({ mode: 'azure', httpAdapter: 'fastify' });
  });

  it.each(['koa', 'Fastify', 'platform-fastify'])('refuses HTTP_ADAPTER=%s', (adapter) => {
    expect(refusal({ HTTP_ADAPTER: adapter })).toBe(`HTTP_ADAPTER must be express (the default) or fastify, got "${adapter}"`);
  });

  it('reads AZURE_ADMIN_GROUP_ID, a GUID, and refuses anything else naming the variable', () => {
    const group = '4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d';
    expect(parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_ADMIN_GROUP_ID: group })).toMatchObject({ mode: 'azure', adminGroupId: group });
    expect(parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT })).toMatchObject({ adminGroupId: undefined });
    expect(() => parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_ADMIN_GROUP_ID: 'Admins' })).toThrow(/^AZURE_ADMIN_GROUP_ID must be the object id \(a GUID\)/);
  });

  it('accepts PORT=0 (any free port)', () => {
    expect(parseAppConfig({ PORT: '0' })).toMatchObject({ port: 0 });
  });

  it("reads the client id of Swagger UI, and a wrong one stops the start with setupAzureAuthSwagger's message and the variable", async () => {
    const swaggerClientId = 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e';
    expect(parseAppConfig({ AZURE_SWAGGER_CLIENT_ID: swaggerClientId })).toMatchObject({ mode: 'dev', swaggerClientId });
    expect(parseAppConfig({})).toMatchObject({ swaggerClientId: undefined });

    const config = parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_SWAGGER_CLIENT_ID: 'swagger-ui' });
    if (config.mode !== 'azure') throw new Error('expected Azure mode');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ auth: config.auth })] }).compile();
    const app = moduleRef.createNestApplication();
    try {
      let message: string | undefined;
      try {
        setupAzureAuthSwagger(app, { swaggerClientId: config.swaggerClientId });
      } catch (error) {
        message = startupErrorMessage(error);
      }
      expect(message).toMatch(/^setupAzureAuthSwagger: option "swaggerClientId" .*GUID.* \(environment variable AZURE_SWAGGER_CLIENT_ID\)$/);
    } finally {
      await app.close();
    }
  });

  it('keeps messages that are not about an option as they are', () => {
    expect(startupErrorMessage(new AppConfigError('PORT must be a port number'))).toBe('PORT must be a port number');
    expect(startupErrorMessage('listen EADDRINUSE')).toBe('listen EADDRINUSE');
  });

  it('names no variable for an option no variable sets', () => {
    const error = new AzureAuthSwaggerConfigurationError('customOptions.ui', 'is on, and @fastify/static is not installed');
    expect(startupErrorMessage(error)).toBe('setupAzureAuthSwagger: option "customOptions.ui" is on, and @fastify/static is not installed');
  });

  describe('AZURE_AUTHORITY: a whole authority URL instead of AZURE_TENANT_ID + AZURE_AUTHORITY_HOST', () => {
    it.each([
      ['a B2C policy', B2C_AUTHORITY],
      ['a B2C custom policy', 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1A_signup_signin/v2.0'],
      ['an External ID authority', EXTERNAL_ID_AUTHORITY],
      ['a custom domain', `https://login.contoso.com/${TENANT}/v2.0`],
      ['a B2C custom domain', `https://login.contoso.com/${TENANT}/B2C_1_signupsignin/v2.0`],
      ['the local emulator over http', 'http://127.0.0.1:8080/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0'],
    ])('takes %s with AZURE_CLIENT_ID, binding every interface by default', (_name, authority) => {
      expect(parseAppConfig({ AZURE_AUTHORITY: ` ${authority} `, AZURE_CLIENT_ID: CLIENT, AZURE_SWAGGER_CLIENT_ID: OTHER_TENANT })).toEqual({
        mode: 'azure',
        auth: { authority, clientId: CLIENT },
        swaggerClientId: OTHER_TENANT,
        httpAdapter: 'express',
        port: DEFAULT_PORT,
        host: undefined,
      });
    });

    it.each([
      ['AZURE_TENANT_ID', { AZURE_TENANT_ID: TENANT }, 'AZURE_TENANT_ID'],
      ['AZURE_AUTHORITY_HOST', { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' }, 'AZURE_AUTHORITY_HOST'],
      ['both', { AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' }, 'AZURE_TENANT_ID and AZURE_AUTHORITY_HOST'],
    ])('refuses it together with %s: one form only', (_name, other, named) => {
      const message = refusal({ AZURE_AUTHORITY: EXTERNAL_ID_AUTHORITY, AZURE_CLIENT_ID: CLIENT, ...other });
      expect(message).toMatch(new RegExp(`^AZURE_AUTHORITY and ${named} are both set: `));
      expect(message).toMatch(/Set one form only$/);
    });

    it('names AZURE_CLIENT_ID when it is missing, rather than falling back to dev mode', () => {
      expect(refusal({ AZURE_AUTHORITY: B2C_AUTHORITY })).toMatch(/^AZURE_CLIENT_ID is missing: AZURE_AUTHORITY is set/);
      expect(refusal({ AZURE_AUTHORITY: B2C_AUTHORITY, AZURE_CLIENT_ID: ' ' })).toMatch(/^AZURE_CLIENT_ID is missing: AZURE_AUTHORITY is set/);
    });

    it('refuses AZURE_ALLOWED_TENANTS with it: an authority URL names one tenant', () => {
      expect(refusal({ AZURE_AUTHORITY: EXTERNAL_ID_AUTHORITY, AZURE_CLIENT_ID: CLIENT, AZURE_ALLOWED_TENANTS: OTHER_TENANT })).toMatch(
        /^AZURE_ALLOWED_TENANTS is set with AZURE_AUTHORITY/,
      );
    });

    it.each([
      'https://contoso.b2clogin.com/contoso.onmicrosoft.com/v2.0',
      'https://contoso.b2clogin.com/contoso.onmicrosoft.com',
      'https://CONTOSO.B2CLOGIN.COM/contoso.onmicrosoft.com/v2.0/',
    ])('refuses the B2C authority %s: it names no policy', (authority) => {
      expect(refusal({ AZURE_AUTHORITY: authority, AZURE_CLIENT_ID: CLIENT })).toMatch(/^AZURE_AUTHORITY ".+" is an Azure AD B2C authority without a policy: .*B2C_1_signupsignin/);
    });

    it('refuses the metadata URL in place of the authority', () => {
      expect(refusal({ AZURE_AUTHORITY: `${EXTERNAL_ID_AUTHORITY}/.well-known/openid-configuration`, AZURE_CLIENT_ID: CLIENT })).toMatch(
        /^AZURE_AUTHORITY ".+" is a metadata URL: give the authority itself, without \/\.well-known\/openid-configuration/,
      );
    });

    it.each(['https://contoso.b2clogin.com/contoso.onmicrosoft.com/{policy}/v2.0', 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/%7Bpolicy%7D/v2.0'])(
      'refuses %s: the sample takes one policy, written in the URL',
      (authority) => {
        expect(refusal({ AZURE_AUTHORITY: authority, AZURE_CLIENT_ID: CLIENT })).toMatch(/^AZURE_AUTHORITY holds \{policy\}: the sample takes one B2C policy/);
      },
    );
  });

  describe('dev mode stays on loopback', () => {
    it.each(['127.0.0.1', '127.0.0.2', 'localhost', 'LOCALHOST', '::1', '[::1]'])('accepts HOST=%s', (host) => {
      expect(parseAppConfig({ HOST: host })).toMatchObject({ mode: 'dev', host, allowNetwork: false });
    });

    it.each(['0.0.0.0', '::', '[::]', '192.0.2.10', 'fd00::2', 'api.contoso.com', 'localhost.contoso.com', '127.0.0.1.nip.io'])(
      'refuses HOST=%s, naming DEV_MODE_ALLOW_NETWORK',
      (host) => {
        const message = refusal({ HOST: host });
        expect(message.startsWith(`HOST=${host} is not a loopback interface`)).toBe(true);
        expect(message).toContain('set DEV_MODE_ALLOW_NETWORK=1 to listen there anyway');
      },
    );

    it('listens beyond loopback with DEV_MODE_ALLOW_NETWORK=1, and on loopback still by default', () => {
      expect(parseAppConfig({ HOST: '0.0.0.0', DEV_MODE_ALLOW_NETWORK: '1' })).toMatchObject({ mode: 'dev', host: '0.0.0.0', allowNetwork: true });
      expect(parseAppConfig({ DEV_MODE_ALLOW_NETWORK: '1' })).toMatchObject({ host: DEV_MODE_HOST, allowNetwork: true });
    });

    it.each(['true', 'yes', '0', 'on'])('refuses DEV_MODE_ALLOW_NETWORK=%s: only 1 opts in', (value) => {
      expect(refusal({ HOST: '0.0.0.0', DEV_MODE_ALLOW_NETWORK: value })).toMatch(/^DEV_MODE_ALLOW_NETWORK must be 1 \(or unset\)/);
    });

    it('is not asked about outside dev mode: a configured API binds what HOST says', () => {
      expect(parseAppConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, HOST: '0.0.0.0', DEV_MODE_ALLOW_NETWORK: 'yes' })).toMatchObject({ mode: 'azure', host: '0.0.0.0' });
    });
  });
});
