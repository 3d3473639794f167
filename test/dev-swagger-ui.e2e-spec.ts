import { ENTRA_EMULATOR_DEFAULTS, EntraEmulator, decodeJwtUnverified } from 'nestjs-azure-auth/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openOnMachineOnly } from './support/chromium.js';
import { BUILD_TIMEOUT_MS, ensureSampleAppBuilt, startSampleApp, stopAllSampleApps, type SampleApp } from './support/sample-app-process.js';

const BROWSER_START_MS = 60_000;

/** The `/{tenant}/oauth2/v2.0/{endpoint}` of the app's emulator, whatever its port. */
const emulatorEndpoint = (endpoint: 'authorize' | 'token') =>
  new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${ENTRA_EMULATOR_DEFAULTS.tenantId}/oauth2/v2\\.0/${endpoint}(\\?|$)`);

/** The built sample app on one HTTP adapter, and where its Swagger UI must sign in. */
interface SwaggerUiCase {
  readonly name: string;
  /** Starts what the app needs besides itself, and gives its environment. */
  environment(): Promise<Record<string, string>>;
  readonly clientId: string;
  /** The authorize and token endpoints Swagger UI must use. */
  endpoint(kind: 'authorize' | 'token'): RegExp;
  /** Claims the token Swagger UI obtained must carry. */
  claims(): Record<string, unknown>;
  /** A line the app prints on start, for an app at `url`. */
  startupLine(url: string): string;
  stop(): Promise<void>;
}

const exactly = (url: string) => new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\?|$)`);

function devMode(): SwaggerUiCase {
  return {
    name: 'in dev mode (npm start without AZURE_* variables)',
    environment: async () => ({}),
    // Dev mode fills in the emulator's client: nothing to type.
    clientId: ENTRA_EMULATOR_DEFAULTS.clientAppId,
    endpoint: emulatorEndpoint,
    claims: () => ({
      aud: ENTRA_EMULATOR_DEFAULTS.clientId,
      tid: ENTRA_EMULATOR_DEFAULTS.tenantId,
      azp: ENTRA_EMULATOR_DEFAULTS.clientAppId,
      oid: ENTRA_EMULATOR_DEFAULTS.userObjectId,
      scp: 'Todolist.Read Todolist.ReadWrite',
    }),
    startupLine: (url) => `# Swagger UI: ${url}/docs `,
    stop: async () => undefined,
  };
}

/** AZURE_AUTHORITY set to an External ID authority of an emulator this suite runs (its own client signs in). */
function externalIdAuthority(): SwaggerUiCase {
  let entra: EntraEmulator | undefined;
  const started = () => {
    if (entra === undefined) throw new Error('the emulator has not started');
    return entra;
  };
  return {
    name: 'with AZURE_AUTHORITY set to an External ID authority',
    environment: async () => {
      entra = await EntraEmulator.start({ v2IssuerTemplate: 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0' });
      return {
        AZURE_AUTHORITY: `${entra.authorityHost}/${entra.tenantId}/v2.0`,
        AZURE_CLIENT_ID: entra.clientId,
        AZURE_SWAGGER_CLIENT_ID: entra.clientAppId,
        HOST: '127.0.0.1',
      };
    },
    clientId: ENTRA_EMULATOR_DEFAULTS.clientAppId,
    endpoint: (kind) => exactly(kind === 'authorize' ? started().authorizationEndpoint() : started().tokenEndpoint()),
    claims: () => ({ iss: started().v2Issuer(), aud: started().clientId, azp: started().clientAppId, scp: 'Todolist.Read Todolist.ReadWrite' }),
    startupLine: () => `Accepting access tokens of authority ${started().authorityHost}/${started().tenantId}/v2.0 for API ${started().clientId}`,
    stop: async () => entra?.stop(),
  };
}

const CASES = (['express', 'fastify'] as const).flatMap((adapter) => [devMode(), externalIdAuthority()].map((uiCase) => [adapter, uiCase.name, uiCase] as const));

describe.each(CASES)('Swagger UI of the sample app on %s %s, in headless Chromium', (adapter, _name, uiCase) => {
  let app: SampleApp;
  let browser: Browser;
  let page: Page;
  /** Requests the browser tried to send off this machine: the app and the emulator need no network at all. */
  const offMachine: string[] = [];

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    app = await startSampleApp({ ...(await uiCase.environment()), HTTP_ADAPTER: adapter, PORT: '0' });
    browser = await launchChromium();
    page = await openOnMachineOnly(browser, `${app.url}/docs`, offMachine);
  }, BUILD_TIMEOUT_MS + BROWSER_START_MS);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await stopAllSampleApps();
    await uiCase.stop();
  });

  const operation = (method: string, path: string) =>
    page.locator(`.opblock.opblock-${method}`, { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });

  it('prints on start what it trusts (in dev mode, where Swagger UI is, on a comment line)', () => {
    expect(app.output()).toContain(uiCase.startupLine(app.url));
  });

  it('shows the Authorize button', async () => {
    const authorize = page.locator('.swagger-ui .auth-wrapper button.authorize');
    await expect(authorize.isVisible()).resolves.toBe(true);
    await expect(authorize.textContent()).resolves.toMatch(/Authorize/);
  });

  it('says in its description that DELETE /api/todolist/{id} needs the authentication context c1', async () => {
    const document = (await (await fetch(`${app.url}/docs-json`)).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(document.paths['/api/todolist/{id}'].delete.description).toMatch(/^Step-up: needs the Conditional Access authentication context c1 \(acrs\)/);
    expect(document.paths['/api/todolist'].post.description).toBeUndefined();
  });

  it('shows a lock on every guarded operation and none on /health', async () => {
    for (const [method, path] of [
      ['get', '/api/todolist'],
      ['post', '/api/todolist'],
      ['get', '/api/admin'],
      ['get', '/api/me'],
      ['delete', '/api/todolist/{id}'],
    ]) {
      await expect(operation(method, path).locator('.authorization__btn').count()).resolves.toBe(1);
    }
    await expect(operation('get', '/health').count()).resolves.toBe(1);
    await expect(operation('get', '/health').locator('.authorization__btn').count()).resolves.toBe(0);
  });

  it('signs in with Authorize at the endpoints of the authority the app trusts, then Try it out on GET /api/todolist answers 200', async () => {
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    await expect(dialog.locator('input[data-name="clientId"]').inputValue()).resolves.toBe(uiCase.clientId);

    const signInPage = page.waitForEvent('popup');
    const authorizeRequest = page.context().waitForEvent('request', (request) => uiCase.endpoint('authorize').test(request.url()));
    const tokenResponse = page
      .context()
      .waitForEvent('response', (response) => uiCase.endpoint('token').test(response.url()) && response.request().method() === 'POST');
    await dialog.locator('button.authorize').click();
    const window = await signInPage;
    // The emulator signs in without a page: the popup lands on the redirect page, which closes itself.
    if (!window.isClosed()) {
      await window.waitForEvent('close', { timeout: 10_000 }).catch(() => {
        throw new Error(`the sign-in window did not close: it shows ${window.url()}`);
      });
    }
    const authorize = Object.fromEntries(new URL((await authorizeRequest).url()).searchParams);
    expect(authorize).toMatchObject({
      response_type: 'code',
      client_id: uiCase.clientId,
      redirect_uri: `${app.url}/docs/oauth2-redirect.html`,
      code_challenge_method: 'S256',
    });
    expect((await tokenResponse).status()).toBe(200);
    await dialog.locator('button', { hasText: 'Logout' }).waitFor();
    await dialog.locator('button.btn-done').click();

    const block = operation('get', '/api/todolist');
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    const sent = page.waitForRequest((request) => request.url() === `${app.url}/api/todolist` && request.method() === 'GET');
    await block.locator('button.execute').click();
    const authorization = (await sent).headers().authorization ?? '';
    expect(decodeJwtUnverified(authorization.replace(/^Bearer /, '')).payload).toMatchObject(uiCase.claims());
    const status = block.locator('.live-responses-table .response td.response-col_status');
    await status.waitFor();
    await expect(status.textContent()).resolves.toMatch(/^200/);
  });

  it('needed nothing off this machine', () => {
    expect(offMachine).toEqual([]);
  });
});

