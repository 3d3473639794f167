import { Agent } from 'node:https';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import { AzureAuthModule } from '../azure-auth.module.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureCaller } from '../downstream/azure-caller.decorator.js';
import { AzureDownstreamApi } from '../downstream/azure-downstream-api.js';
import { AzureAuthGuard } from '../guards/azure-auth.guard.js';
import { AzureTokenVerifier } from '../token/azure-token-verifier.js';
import { decodeJwtUnverified, EntraEmulator, overrideAzureAuthWithEmulator } from './index.js';

// What an app gives the module in production: its real tenant and registration, and rules of its own.
const PRODUCTION: AzureAuthModuleOptions = {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  clockToleranceSeconds: 42,
  acceptedTokenVersions: ['2.0'],
  allowGuestUsers: false,
};
const CLIENT_APP = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

@Injectable()
class ProductionConfig {
  createAzureAuthOptions(): AzureAuthModuleOptions {
    return PRODUCTION;
  }
}

@Module({ providers: [ProductionConfig], exports: [ProductionConfig] })
class ConfigModule {}

/** The app's credential for its real registration: it must never reach the emulator. */
const PRODUCTION_SECRET = 'production-secret-of-the-real-registration';

/** A route calling Microsoft Graph on behalf of its caller, as an app's would. */
@UseGuards(AzureAuthGuard)
@Controller('api')
class OnBehalfOfController {
  constructor(private readonly downstream: AzureDownstreamApi) {}

  @Get('graph-token')
  async graphToken(@AzureCaller() caller: AzureCaller) {
    const { payload } = decodeJwtUnverified((await this.downstream.acquireTokenOnBehalfOf(caller, ['User.Read'])).accessToken);
    return { aud: payload.aud, oid: payload.oid, scp: payload.scp };
  }
}

describe('overrideAzureAuthWithEmulator', () => {
  let entra: EntraEmulator;
  const modules: TestingModule[] = [];

  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((moduleRef) => moduleRef.close()));
  });
  afterAll(async () => {
    await entra.stop();
  });

  async function compile(imports: unknown[], overrides?: AzureAuthModuleOptions): Promise<TestingModule> {
    const moduleRef = await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: imports as never[] }), entra, overrides).compile();
    modules.push(moduleRef);
    return moduleRef;
  }
  async function compileWith(emulator: EntraEmulator, overrides: AzureAuthModuleOptions): Promise<TestingModule> {
    const moduleRef = await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ ...PRODUCTION, clientCredential: { clientSecret: PRODUCTION_SECRET } })] }), emulator, overrides).compile();
    modules.push(moduleRef);
    return moduleRef;
  }
  const resolved = (moduleRef: TestingModule) => moduleRef.get<ResolvedAzureAuthOptions>(AZURE_AUTH_OPTIONS);

  it.each([
    ['forRoot', () => AzureAuthModule.forRoot(PRODUCTION)],
    ['forRootAsync with useFactory and inject', () => AzureAuthModule.forRootAsync({ imports: [ConfigModule], inject: [ProductionConfig], useFactory: (config: ProductionConfig) => config.createAzureAuthOptions() })],
    ['forRootAsync with useClass', () => AzureAuthModule.forRootAsync({ useClass: ProductionConfig })],
    ['forRootAsync with useExisting', () => AzureAuthModule.forRootAsync({ imports: [ConfigModule], useExisting: ProductionConfig })],
  ])("points %s at the emulator and keeps the app's own rules", async (_name, azureAuthModule) => {
    const options = resolved(await compile([azureAuthModule()]));
    expect({ tenantId: options.tenantId, clientId: options.clientId, authorityHost: options.authorityHost, audiences: [...options.audiences] }).toEqual({
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      authorityHost: entra.authorityHost,
      audiences: [entra.clientId, `api://${entra.clientId}`, `spn:${entra.clientId}`],
    });
    expect({ clock: options.clockToleranceSeconds, versions: [...options.acceptedTokenVersions], guests: options.allowGuestUsers }).toEqual({ clock: 42, versions: ['2.0'], guests: false });
  });

  it("verifies the emulator's tokens with the app's rules, and only those", async () => {
    const verifier = (await compile([AzureAuthModule.forRoot(PRODUCTION)])).get(AzureTokenVerifier);
    const principal = await verifier.verify(entra.mintAccessToken({ scopes: ['Todolist.Read'] }));
    expect({ tid: principal.tid, scopes: principal.scopes }).toEqual({ tid: entra.tenantId, scopes: ['Todolist.Read'] });
    // The app accepts v2 tokens only: a v1 token of the emulator is still refused.
    await expect(Promise.resolve().then(() => verifier.verify(entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'] })))).rejects.toMatchObject({ reason: 'token_version_not_accepted' });
  });

  it("replaces every Entra setting of the app: tenants, audience, authority host and key location become the emulator's", async () => {
    const options = resolved(
      await compile([
        AzureAuthModule.forRoot({
          ...PRODUCTION,
          tenantId: 'organizations',
          allowedTenants: ['0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a'],
          audience: 'https://contoso.com/todo',
          authorityHost: 'https://login.microsoftonline.us',
          appSpecificSigningKeys: true,
        }),
      ]),
    );
    expect({ tenantId: options.tenantId, authorityHost: options.authorityHost, audiences: [...options.audiences], multiTenant: options.multiTenant, appSpecific: options.appSpecificSigningKeys }).toEqual({
      tenantId: entra.tenantId,
      authorityHost: entra.authorityHost,
      audiences: [entra.clientId, `api://${entra.clientId}`, `spn:${entra.clientId}`],
      multiTenant: undefined,
      appSpecific: false,
    });
  });

  it('replaces several authorities with the emulator', async () => {
    const options = resolved(await compile([AzureAuthModule.forRoot({ authorities: [PRODUCTION, { ...PRODUCTION, tenantId: 'contoso.onmicrosoft.com' }], realm: 'api://todo' })]));
    expect({ authorities: options.authorities.map((authority) => authority.tenantId), realm: options.realm }).toEqual({ authorities: [entra.tenantId], realm: 'api://todo' });
  });

  it('applies overrides last, e.g. a multi-tenant setup trusting the emulator', async () => {
    const options = resolved(await compile([AzureAuthModule.forRoot(PRODUCTION)], { tenantId: 'organizations', allowedTenants: [entra.tenantId], allowedClientApps: [CLIENT_APP] }));
    expect({ tenantId: options.tenantId, allowedTenants: [...(options.allowedTenants ?? [])], clientApps: [...(options.allowedClientApps ?? [])], clock: options.clockToleranceSeconds }).toEqual({
      tenantId: 'organizations',
      allowedTenants: [entra.tenantId],
      clientApps: [CLIENT_APP],
      clock: 42,
    });
  });

  it('validates the result as at start, naming the option', async () => {
    await expect(compile([AzureAuthModule.forRoot(PRODUCTION)], { clockToleranceSeconds: -1 })).rejects.toThrow(/option "clockToleranceSeconds"/);
  });

  it('returns the builder it was given, for chaining', () => {
    const builder = Test.createTestingModule({ imports: [AzureAuthModule.forRoot(PRODUCTION)] });
    expect(overrideAzureAuthWithEmulator(builder, entra)).toBe(builder);
  });
  describe('with an HTTPS emulator (what on-behalf-of through MSAL Node needs)', () => {
    let tls: EntraEmulator;
    beforeAll(async () => {
      tls = await EntraEmulator.start({ https: true });
    });
    afterAll(async () => {
      await tls.stop();
    });

    it("reaches it through an agent trusting its certificate authority, and calls Graph on the caller's behalf with the emulator's secret", async () => {
      const moduleRef = await overrideAzureAuthWithEmulator(
        Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ ...PRODUCTION, clientCredential: { clientSecret: PRODUCTION_SECRET } })], controllers: [OnBehalfOfController] }),
        tls,
      ).compile();
      modules.push(moduleRef);
      const app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      const answer = await fetch(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/api/graph-token`, {
        headers: { authorization: `Bearer ${tls.mintAccessToken({ scopes: ['Todolist.Read'] })}` },
      });
      const body = (await answer.json()) as Record<string, unknown>;
      await app.close();
      expect({ status: answer.status, body }).toEqual({
        status: 200,
        body: { aud: '00000003-0000-0000-c000-000000000000', oid: expect.any(String), scp: 'User.Read' },
      });
      expect(resolved(moduleRef).clientCredential?.msalCredentialFields()).toEqual({ clientSecret: tls.clientSecret });
    });

    it('gives no credential to an app that has none', async () => {
      const options = resolved(await overrideAzureAuthWithEmulator(Test.createTestingModule({ imports: [AzureAuthModule.forRoot(PRODUCTION)] }), tls).compile().then((moduleRef) => (modules.push(moduleRef), moduleRef)));
      expect({ credential: options.clientCredential, trusted: (options.httpAgent as Agent | undefined)?.options.ca }).toEqual({ credential: undefined, trusted: tls.certificateAuthority });
    });

    it('lets overrides give an agent and a credential of their own', async () => {
      const agent = new Agent({ ca: tls.certificateAuthority });
      const options = resolved(await compileWith(tls, { httpAgent: agent, clientCredential: { clientSecret: 'from-the-test' } }));
      expect({ agent: options.httpAgent, credential: options.clientCredential?.msalCredentialFields() }).toEqual({ agent, credential: { clientSecret: 'from-the-test' } });
    });
  });

  it("drops the app's agent and credential before an HTTP emulator (MSAL Node refuses http://): the app starts, without a credential", async () => {
    const options = resolved(await compile([AzureAuthModule.forRoot({ ...PRODUCTION, httpAgent: new Agent(), clientCredential: { clientSecret: PRODUCTION_SECRET } })]));
    expect({ agent: options.httpAgent, credential: options.clientCredential }).toEqual({ agent: undefined, credential: undefined });
  });
});
