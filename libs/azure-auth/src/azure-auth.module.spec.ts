import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AZURE_AUTH_OPTIONS } from './azure-auth.constants.js';
import { AzureAuthModule } from './azure-auth.module.js';
import type { AzureAuthModuleOptions } from './azure-auth.options.js';
import { AzureAuthConfigurationError } from './errors/azure-auth-configuration.error.js';
import type { ResolvedAzureAuthOptions } from './azure-auth.options.resolve.js';
import { AzureAuthGuard } from './guards/azure-auth.guard.js';
import { AzureAdStrategy } from './strategy/azure-ad.strategy.js';

const tenantId = '11111111-2222-4333-8444-555555555555';
const clientId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
// Discovery is lazy and warm-up is off: nothing here talks to the network.
const base: AzureAuthModuleOptions = { tenantId, clientId, authorityHost: 'http://127.0.0.1:9', warmUp: false };

@Injectable()
class OptionsFactory {
  createAzureAuthOptions(): AzureAuthModuleOptions {
    return { ...base, clockToleranceSeconds: 42 };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class ConfigModule {}

async function resolved(imports: unknown[]): Promise<ResolvedAzureAuthOptions> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  const options = moduleRef.get<ResolvedAzureAuthOptions>(AZURE_AUTH_OPTIONS);
  expect(moduleRef.get(AzureAuthGuard)).toBeInstanceOf(AzureAuthGuard);
  expect(moduleRef.get(AzureAdStrategy)).toBeInstanceOf(AzureAdStrategy);
  await moduleRef.close();
  return options;
}

describe('AzureAuthModule', () => {
  it('forRoot applies the defaults', async () => {
    const options = await resolved([AzureAuthModule.forRoot(base)]);
    expect([...options.audiences]).toEqual([clientId, `api://${clientId}`, `spn:${clientId}`]);
    expect(options.clockToleranceSeconds).toBe(300);
    expect([...options.acceptedTokenVersions].sort()).toEqual(['1.0', '2.0']);
    expect(options.authorityHost).toBe('http://127.0.0.1:9');
  });

  it('forRoot keeps an explicit audience and token versions', async () => {
    const options = await resolved([
      AzureAuthModule.forRoot({ ...base, audience: 'https://contoso.com/todo', acceptedTokenVersions: ['2.0'] }),
    ]);
    expect([...options.audiences]).toEqual(['https://contoso.com/todo']);
    expect([...options.acceptedTokenVersions]).toEqual(['2.0']);
  });

  it('normalises an upper-case clientId in the default audiences and realm', async () => {
    const options = await resolved([AzureAuthModule.forRoot({ ...base, clientId: clientId.toUpperCase() })]);
    expect([...options.audiences]).toEqual([clientId, `api://${clientId}`, `spn:${clientId}`]);
    expect(options.realm).toBe(`api://${clientId}`);
  });

  it('forRootAsync with useFactory, inject and imports', async () => {
    const options = await resolved([
      AzureAuthModule.forRootAsync({
        imports: [ConfigModule],
        inject: [OptionsFactory],
        useFactory: (factory: OptionsFactory) => ({ ...factory.createAzureAuthOptions(), clockToleranceSeconds: 7 }),
      }),
    ]);
    expect(options.clockToleranceSeconds).toBe(7);
  });

  it('forRootAsync with an async useFactory', async () => {
    const options = await resolved([
      AzureAuthModule.forRootAsync({ useFactory: async () => ({ ...base, clockToleranceSeconds: 9 }) }),
    ]);
    expect(options.clockToleranceSeconds).toBe(9);
  });

  it('forRootAsync with useClass', async () => {
    const options = await resolved([AzureAuthModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(options.clockToleranceSeconds).toBe(42);
  });

  it('forRootAsync with useExisting', async () => {
    const options = await resolved([
      AzureAuthModule.forRootAsync({ imports: [ConfigModule], useExisting: OptionsFactory }),
    ]);
    expect(options.clockToleranceSeconds).toBe(42);
  });

  it('isGlobal makes the module global, and only then', () => {
    expect(AzureAuthModule.forRoot({ ...base, isGlobal: true }).global).toBe(true);
    expect(AzureAuthModule.forRoot(base).global).toBe(false);
    expect(AzureAuthModule.forRootAsync({ useFactory: () => base, isGlobal: true }).global).toBe(true);
  });

  it('refuses bad options at start, naming the option', async () => {
    const start = (options: Partial<AzureAuthModuleOptions>) =>
      Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ ...base, ...options } as AzureAuthModuleOptions)] }).compile();
    await expect(start({ clientId: 'not-a-guid' })).rejects.toThrow(/option "clientId"/);
    await expect(start({ tenantId: 'bad tenant!' })).rejects.toThrow(/option "tenantId"/);
    await expect(start({ authorityHost: 'http://login.example.com' })).rejects.toThrow(/option "authorityHost".*https/);
    await expect(start({ authorityHost: 'https://login.microsoftonline.com/tenant' })).rejects.toThrow(/option "authorityHost"/);
    await expect(start({ clockToleranceSeconds: -1 })).rejects.toThrow(/option "clockToleranceSeconds"/);
    // A broken percent escape in the authority is the option's fault, not a bare URIError.
    await expect(start({ tenantId: undefined, authority: 'https://contoso.ciamlogin.com/%zz/v2.0' })).rejects.toThrow(/option "authority".*malformed percent escape/);
    await expect(start({ acceptedTokenVersions: ['3.0' as '2.0'] })).rejects.toThrow(/option "acceptedTokenVersions"/);
    await expect(start({ audience: [] })).rejects.toThrow(/option "audience"/);
    await expect(start({ tenantId: 'common' })).rejects.toThrow(/option "allowedTenants".*allowAnyTenant/);
    await expect(start({ tenantId: 'organizations', allowedTenants: [] })).rejects.toThrow(/option "allowedTenants" must list at least one/);
    // A single tenant (or consumers) is the one tenant trusted: an allow-list there is a mistake, not a rule.
    await expect(start({ allowedTenants: [tenantId] })).rejects.toThrow(/option "allowedTenants" applies only to a multi-tenant API/);
    await expect(start({ tenantId: 'consumers', allowedTenants: [tenantId] })).rejects.toThrow(/option "allowedTenants" applies only/);
    await expect(start({ strategyName: '' })).rejects.toThrow(/option "strategyName"/);
    await expect(start({ clientId: undefined })).rejects.toBeInstanceOf(AzureAuthConfigurationError);
  });

  it('refuses a module-wide option inside an authorities entry, naming it', async () => {
    const start = (entry: Record<string, unknown>) =>
      Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ authorities: [base, { ...base, ...entry }] } as AzureAuthModuleOptions)] }).compile();
    const values: Record<string, unknown> = { maxTokenBytes: 8000, realm: 'api://b', tokenCache: false, onAuthFailure: () => undefined, strategyName: 'b' };
    for (const [option, value] of Object.entries(values)) {
      await expect(start({ [option]: value })).rejects.toThrow(new RegExp(`option "authorities\\[1\\]\\.${option}".*whole module`));
    }
    // Next to authorities they apply to every token.
    const options = await resolved([AzureAuthModule.forRoot({ authorities: [base], maxTokenBytes: 9000, realm: 'api://shared' })]);
    expect([options.maxTokenBytes, options.realm]).toEqual([9000, 'api://shared']);
  });

  it("registers the passport strategy under 'azure-ad', or the strategyName given, each app its own", async () => {
    const passport = (await import('passport')).default as unknown as { _strategy(name: string): unknown };
    const first = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot(base)] }).compile();
    const second = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ ...base, strategyName: 'azure-ad-second' })] }).compile();
    expect(passport._strategy('azure-ad')).toBe(first.get(AzureAdStrategy));
    expect(passport._strategy('azure-ad-second')).toBe(second.get(AzureAdStrategy));
    expect(second.get(AzureAdStrategy).name).toBe('azure-ad-second');
    await first.close();
    await second.close();
  });

  it('resolves one unknown-kid refresh per 30 seconds by default', async () => {
    expect((await resolved([AzureAuthModule.forRoot(base)])).unknownKeyRefreshIntervalSeconds).toBe(30);
  });

  it('labels a B2C authority as written, {policy} and all (log lines name it)', async () => {
    const options = await resolved([
      AzureAuthModule.forRoot({ authority: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/{policy}/v2.0', policies: ['B2C_1_signin'], clientId, warmUp: false }),
    ]);
    expect(options.label).toBe('https://contoso.b2clogin.com/contoso.onmicrosoft.com/{policy}/v2.0');
    expect(options.discovery.map((entry) => entry.metadataUrl)).toEqual(['https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0/.well-known/openid-configuration']);
  });

  it('allows http:// only for loopback hosts', async () => {
    for (const host of ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080']) {
      await expect(resolved([AzureAuthModule.forRoot({ ...base, authorityHost: host })])).resolves.toBeDefined();
    }
  });
});
