import { ENTRA_EMULATOR_DEFAULTS, decodeJwtUnverified } from 'nestjs-azure-auth/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openOnMachineOnly } from './support/chromium.js';
import { BUILD_TIMEOUT_MS, ensureSampleAppBuilt, startSampleApp, stopAllSampleApps, type SampleApp } from './support/sample-app-process.js';

const BROWSER_START_MS = 60_000;

/** The `/{tenant}/oauth2/v2.0/{endpoint}` of the app's emulator, whatever its port. */
const emulatorEndpoint = (endpoint: 'authorize' | 'token') =>
  new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${ENTRA_EMULATOR_DEFAULTS.tenantId}/oauth2/v2\\.0/${endpoint}(\\?|$)`);

describe('Swagger UI of the sample app in dev mode (npm start without AZURE_* variables), in headless Chromium', () => {
  let app: SampleApp;
  let browser: Browser;
  let page: Page;
  /** Requests the browser tried to send off this machine: dev mode must need no network at all. */
  const offMachine: string[] = [];

  beforeAll(async () => {
    await ensureSampleAppBuilt();
    app = await startSampleApp({ PORT: '0' });
    browser = await launchChromium();
    page = await openOnMachineOnly(browser, `${app.url}/docs`, offMachine);
  }, BUILD_TIMEOUT_MS + BROWSER_START_MS);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await stopAllSampleApps();
  });

  const operation = (method: string, path: string) =>
    page.locator(`.opblock.opblock-${method}`, { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });

  it('says where Swagger UI is, on a comment line of the dev-mode output', () => {
    expect(app.output()).toContain(`# Swagger UI: ${app.url}/docs `);
  });

  it('shows the Authorize button', async () => {
    const authorize = page.locator('.swagger-ui .auth-wrapper button.authorize');
    await expect(authorize.isVisible()).resolves.toBe(true);
    await expect(authorize.textContent()).resolves.toMatch(/Authorize/);
  });

  it('shows a lock on every guarded operation and none on /health', async () => {
    for (const [method, path] of [
      ['get', '/api/todolist'],
      ['post', '/api/todolist'],
      ['get', '/api/admin'],
      ['get', '/api/me'],
    ]) {
      await expect(operation(method, path).locator('.authorization__btn').count()).resolves.toBe(1);
    }
    await expect(operation('get', '/health').count()).resolves.toBe(1);
    await expect(operation('get', '/health').locator('.authorization__btn').count()).resolves.toBe(0);
  });

  it("signs in through the app's own emulator with Authorize, then Try it out on GET /api/todolist answers 200", async () => {
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    // Dev mode fills in the emulator's client: nothing to type.
    await expect(dialog.locator('input[data-name="clientId"]').inputValue()).resolves.toBe(ENTRA_EMULATOR_DEFAULTS.clientAppId);
    await expect(dialog.textContent()).resolves.toMatch(/http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/oauth2\/v2\.0\/authorize/);

    const signInPage = page.waitForEvent('popup');
    const authorizeRequest = page.context().waitForEvent('request', (request) => emulatorEndpoint('authorize').test(request.url()));
    const tokenResponse = page
      .context()
      .waitForEvent('response', (response) => emulatorEndpoint('token').test(response.url()) && response.request().method() === 'POST');
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
      client_id: ENTRA_EMULATOR_DEFAULTS.clientAppId,
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
    expect(decodeJwtUnverified(authorization.replace(/^Bearer /, '')).payload).toMatchObject({
      aud: ENTRA_EMULATOR_DEFAULTS.clientId,
      tid: ENTRA_EMULATOR_DEFAULTS.tenantId,
      azp: ENTRA_EMULATOR_DEFAULTS.clientAppId,
      oid: ENTRA_EMULATOR_DEFAULTS.userObjectId,
      scp: 'Todolist.Read Todolist.ReadWrite',
    });
    const status = block.locator('.live-responses-table .response td.response-col_status');
    await status.waitFor();
    await expect(status.textContent()).resolves.toMatch(/^200/);
  });

  it('needed nothing off this machine', () => {
    expect(offMachine).toEqual([]);
  });
});
