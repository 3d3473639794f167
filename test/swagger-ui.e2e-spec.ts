import type { INestApplication } from '@nestjs/common';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator, decodeJwtUnverified, type EntraEmulatorOptions } from 'nestjs-azure-auth/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openOnMachineOnly } from './support/chromium.js';
import { SWAGGER_CLIENT_ID, startDocumentedApp } from './support/documented-app.js';
import { emulatorOptions } from './support/test-app.js';

/** Where the module's tokens come from; Swagger UI must sign in there. */
interface Authority {
  readonly name: string;
  readonly emulator: EntraEmulatorOptions;
  auth(entra: EntraEmulator): AzureAuthModuleOptions;
}

const AUTHORITIES: Authority[] = [
  { name: 'a tenant (tenantId + authorityHost)', emulator: {}, auth: (entra) => emulatorOptions(entra) },
  {
    name: 'an External ID authority',
    emulator: { v2IssuerTemplate: 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0' },
    auth: (entra) => ({ authority: `${entra.authorityHost}/${entra.tenantId}/v2.0`, clientId: entra.clientId, warmUp: false }),
  },
];

// Express only: a Jest worker cannot load @fastify/static (see documented-app.ts); dev-swagger-ui
// drives Swagger UI of the built sample app on Fastify.
describe.each(AUTHORITIES.map((authority) => [authority.name, authority] as const))('Swagger UI in headless Chromium, the module trusting %s', (_name, authority) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let browser: Browser;
  let page: Page;
  /** Requests the browser tried to send off this machine (a CDN, a validator): there must be none. */
  const offMachine: string[] = [];

  beforeAll(async () => {
    // Swagger UI signs in as its own SPA registration, which the emulator must be told about.
    entra = await EntraEmulator.start({ ...authority.emulator, signInClientIds: [SWAGGER_CLIENT_ID] });
    ({ app, url } = await startDocumentedApp('express', entra, authority.auth(entra)));
    browser = await launchChromium();
    page = await openOnMachineOnly(browser, `${url}/docs`, offMachine);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await entra?.stop();
  });

  const operation = (path: string) => page.locator('.opblock', { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
  const scope = (name: string) => `api://${entra.clientId}/${name}`;
  async function openAuthorizeDialog() {
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    return dialog;
  }

  it('shows the Authorize button', async () => {
    const authorize = page.locator('.swagger-ui .auth-wrapper button.authorize');
    await expect(authorize.isVisible()).resolves.toBe(true);
    await expect(authorize.textContent()).resolves.toMatch(/Authorize/);
  });

  it('shows a lock on the guarded operations and none on the public one', async () => {
    for (const path of ['/api/todolist', '/api/admin', '/api/me']) {
      await expect(operation(path).locator('.authorization__btn').count()).resolves.toBe(1);
    }
    await expect(operation('/api/open').count()).resolves.toBe(1);
    await expect(operation('/api/open').locator('.authorization__btn').count()).resolves.toBe(0);
  });

  it("lists the API's scopes, pre-selected, and Swagger's client id in the Authorize dialog", async () => {
    const dialog = await openAuthorizeDialog();
    await expect(dialog.textContent()).resolves.toMatch(/azure-ad \(OAuth2, authorizationCode with PKCE\)/);
    await expect(dialog.textContent()).resolves.toContain(entra.authorizationEndpoint());
    const scopes = await dialog.locator('.scopes .checkbox').evaluateAll((boxes) =>
      boxes.map((box) => ({
        name: box.querySelector('.name')?.textContent,
        description: box.querySelector('.description')?.textContent,
        checked: box.querySelector('input')?.checked,
      })),
    );
    expect(scopes).toEqual([
      { name: scope('Todolist.Read'), description: 'Read your tasks', checked: true },
      { name: scope('Todolist.ReadWrite'), description: 'Read and change your tasks', checked: true },
    ]);
    await expect(dialog.locator('input[data-name="clientId"]').inputValue()).resolves.toBe(SWAGGER_CLIENT_ID);
    await dialog.locator('button.btn-done').click();
  });

  it('signs in with the authorization code flow and PKCE, redirected back beside Swagger UI, and calls a scoped route with the token', async () => {
    const dialog = await openAuthorizeDialog();
    entra.resetRequests();
    const popup = page.waitForEvent('popup');
    const tokenRequest = page.context().waitForEvent('request', (request) => request.url() === entra.tokenEndpoint() && request.method() === 'POST');
    const tokenResponse = page.context().waitForEvent('response', (response) => response.url() === entra.tokenEndpoint() && response.request().method() === 'POST');
    await dialog.locator('button.authorize').click();
    // The redirect page hands the code to Swagger UI and closes itself; Swagger UI then redeems it.
    const window = await popup;
    if (!window.isClosed()) {
      await window.waitForEvent('close', { timeout: 10_000 }).catch(() => {
        throw new Error(`the sign-in window did not close: it shows ${window.url()}`);
      });
    }
    await dialog.locator('button', { hasText: 'Logout' }).waitFor();
    await expect(dialog.textContent()).resolves.toMatch(/Authorized/);

    // The emulator refuses a PKCE, client or redirect mismatch with 400: the redemption must have succeeded.
    expect((await tokenResponse).status()).toBe(200);
    const authorizeRequests = entra.requests.filter(({ kind, path }) => kind === 'signin' && path.startsWith(`/${entra.tenantId}/oauth2/v2.0/authorize?`));
    expect(authorizeRequests).toHaveLength(1);
    const authorize = Object.fromEntries(new URL(authorizeRequests[0].path, entra.authorityHost).searchParams);
    expect(authorize).toMatchObject({
      response_type: 'code',
      client_id: SWAGGER_CLIENT_ID,
      redirect_uri: `${url}/docs/oauth2-redirect.html`,
      code_challenge_method: 'S256',
    });
    expect(authorize.scope.split(' ').sort()).toEqual([scope('Todolist.Read'), scope('Todolist.ReadWrite')]);
    expect(entra.requests.filter(({ method, kind }) => kind === 'signin' && method === 'POST')).toHaveLength(1);
    const redemption = new URLSearchParams((await tokenRequest).postData() ?? '');
    expect(redemption.get('grant_type')).toBe('authorization_code');
    expect(redemption.get('code_verifier')).toMatch(/^[\w-]{43,128}$/);
    expect(redemption.get('redirect_uri')).toBe(`${url}/docs/oauth2-redirect.html`);
    await dialog.locator('button.btn-done').click();

    // "Try it out" on a scoped route sends the token, and the real guard accepts it.
    const block = operation('/api/todolist');
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    const sent = page.waitForRequest((request) => request.url() === `${url}/api/todolist`);
    await block.locator('button.execute').click();
    const authorization = (await sent).headers().authorization;
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    // Issued by the emulator's token endpoint to Swagger UI's client, for the scopes ticked in the dialog.
    expect(decodeJwtUnverified(authorization.slice('Bearer '.length)).payload).toMatchObject({
      iss: entra.v2Issuer(),
      aud: entra.clientId,
      azp: SWAGGER_CLIENT_ID,
      scp: 'Todolist.Read Todolist.ReadWrite',
    });
    const status = block.locator('.live-responses-table .response td.response-col_status');
    await status.waitFor();
    await expect(status.textContent()).resolves.toMatch(/^200/);
    await expect(block.locator('.live-responses-table .response td.response-col_description').textContent()).resolves.toContain('Todolist.ReadWrite');
  });

  it('loaded everything from the app itself: nothing in this visit went off the machine', () => {
    expect(offMachine).toEqual([]);
  });
});
