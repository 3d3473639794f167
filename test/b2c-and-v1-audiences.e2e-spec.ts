import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { decodeJwtUnverified, EntraEmulator } from 'nestjs-azure-auth/testing';
import { healthAppModule } from './support/health-app.js';
import { startAppPair, type AppPair } from './support/passport-app.js';
import { call, type HttpAnswer } from './support/test-app.js';

// B2C and v1 tokens as Entra really writes them (issue 19), on both doors: AzureAuthGuard and the
// passport strategy (AzurePassportAuthGuard), over real loopback HTTP to the emulator.

const SIGN_UP = 'B2C_1_signupsignin';
const PROFILE = 'B2C_1_profile';
const TYPO = 'B2C_1_signupsigin';

const DOORS = ['guard', 'passport'] as const;

function expectAnswer(answer: HttpAnswer, status: number, reason?: string): void {
  expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status, reason });
}

describe('B2C tokens that name no policy, on both doors', () => {
  let entra: EntraEmulator;
  let pair: AppPair;
  beforeAll(async () => {
    entra = await EntraEmulator.start();
    pair = await startAppPair('express', { authority: entra.b2cAuthority(), policies: [SIGN_UP, PROFILE], clientId: entra.clientId, warmUp: false });
  });
  afterAll(async () => {
    await pair?.close();
    await entra?.stop();
  });
  const me = (door: (typeof DOORS)[number], token: string) => call(`${pair[door].url}/api/me`, { token });
  const policyLess = (policy: string) => entra.mintAccessToken({ b2cPolicy: policy, scopes: ['demo.read'], claims: { tfp: undefined } });

  it.each(DOORS)('%s: accepts tfp, acr, and neither (the key decides), for each listed policy', async (door) => {
    for (const policy of [SIGN_UP, PROFILE]) {
      expectAnswer(await me(door, entra.mintAccessToken({ b2cPolicy: policy, scopes: ['demo.read'] })), 200);
      expectAnswer(await me(door, entra.mintAccessToken({ b2cPolicy: policy, policyClaim: 'acr', scopes: ['demo.read'] })), 200);
      const token = policyLess(policy);
      expect(Object.keys(decodeJwtUnverified(token).payload)).not.toEqual(expect.arrayContaining(['tfp']));
      const answer = await me(door, token);
      expectAnswer(answer, 200);
      expect(answer.body.tid).toBe(entra.tenantId);
    }
  });

  it.each(DOORS)('%s: refuses a policy-less token no listed policy signed with policy_key_not_found', async (door) => {
    expectAnswer(await me(door, policyLess('B2C_1_passwordreset')), 401, 'policy_key_not_found');
  });

  it.each(DOORS)('%s: refuses a tampered policy-less token with invalid_signature', async (door) => {
    const [header, payload, signature] = policyLess(SIGN_UP).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scp: 'demo.write' })).toString('base64url')}.${signature}`;
    expectAnswer(await me(door, tampered), 401, 'invalid_signature');
  });
});

/** Keeps what the module logs at error level, to see that it names the policy and its URL. */
class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
  error(message: unknown): void {
    this.errors.push(String(message));
  }
}

describe('a listed B2C policy whose metadata answers 404', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  const logs = new ErrorLog();

  beforeAll(async () => {
    // The tenant publishes two policies; the API lists a third by mistake.
    entra = await EntraEmulator.start({ b2cPolicies: [SIGN_UP, PROFILE] });
    const options: AzureAuthModuleOptions = { authority: entra.b2cAuthority(), policies: [SIGN_UP, TYPO, PROFILE], clientId: entra.clientId, warmUp: false };
    const moduleRef = await Test.createTestingModule(healthAppModule(options)).compile();
    app = moduleRef.createNestApplication({ logger: logs });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it('keeps serving the policies that exist, and names the missing one in an error and in health', async () => {
    const typoUrl = `${entra.b2cAuthority(TYPO)}/.well-known/openid-configuration`;
    expect((await call(typoUrl)).status).toBe(404);

    for (const policy of [SIGN_UP, PROFILE]) {
      expectAnswer(await call(`${url}/api/me`, { token: entra.mintAccessToken({ b2cPolicy: policy, scopes: ['demo.read'] }) }), 200);
    }
    const policyLess = entra.mintAccessToken({ b2cPolicy: PROFILE, scopes: ['demo.read'], claims: { tfp: undefined } });
    expectAnswer(await call(`${url}/api/me`, { token: policyLess }), 200);

    expect(logs.errors.some((line) => line.includes(TYPO) && line.includes(typoUrl))).toBe(true);

    const health = await call(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.body.details.azure_auth.unavailableMetadata).toEqual([{ policy: TYPO, metadataUrl: typoUrl, problem: expect.stringContaining('404') }]);
  });

  it('answers a token of the missing policy 503 (it cannot be decided), not 401', async () => {
    // The emulator signs it (it knows every policy name); the API cannot read that policy's keys.
    const answer = await call(`${url}/api/me`, { token: entra.mintAccessToken({ b2cPolicy: TYPO, scopes: ['demo.read'] }) });
    expectAnswer(answer, 503, 'keys_unavailable');
    expect(answer.headers.get('retry-after')).not.toBeNull();
  });
});

describe('v1 audiences', () => {
  let entra: EntraEmulator;
  const pairs: AppPair[] = [];
  beforeAll(async () => {
    entra = await EntraEmulator.start();
  });
  afterAll(async () => {
    for (const pair of pairs) await pair.close();
    await entra?.stop();
  });
  async function pairWith(extra: Partial<AzureAuthModuleOptions> = {}): Promise<AppPair> {
    const pair = await startAppPair('express', { tenantId: entra.tenantId, clientId: entra.clientId, authorityHost: entra.authorityHost, warmUp: false, ...extra });
    pairs.push(pair);
    return pair;
  }

  it.each(DOORS)('%s: accepts spn:{clientId} (the resource requested by its service principal name) by default', async (door) => {
    const pair = await pairWith();
    for (const audience of [`api://${entra.clientId}`, `spn:${entra.clientId}`]) {
      const answer = await call(`${pair[door].url}/api/me`, { token: entra.mintAccessToken({ version: 1, audience, scopes: ['Todolist.Read'] }) });
      expectAnswer(answer, 200);
    }
  });

  it.each(DOORS)('%s: a configured audience replaces the defaults, spn: included', async (door) => {
    const pair = await pairWith({ audience: 'https://contoso.example/todo' });
    const spn = entra.mintAccessToken({ version: 1, audience: `spn:${entra.clientId}`, scopes: ['Todolist.Read'] });
    expectAnswer(await call(`${pair[door].url}/api/me`, { token: spn }), 401, 'invalid_audience');
    const custom = entra.mintAccessToken({ version: 1, audience: 'https://contoso.example/todo', scopes: ['Todolist.Read'] });
    expectAnswer(await call(`${pair[door].url}/api/me`, { token: custom }), 200);
  });
});
