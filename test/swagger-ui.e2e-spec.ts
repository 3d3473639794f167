import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AzureAuthGuard, AzureAuthModule, AzureUser, Public, Roles, Scopes } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { setupAzureAuthSwagger } from 'nestjs-azure-auth/swagger';
import { emulatorOptions } from './support/test-app.js';

// Debian's package; installing it is the CI script's job (`apt-get install -y chromium`).
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SWAGGER_CLIENT_ID = '5d1e3f7a-9b2c-4d8e-a6f0-1c3b5d7e9f21';

@Controller('api')
class DocumentedController {
  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Scopes('Todolist.Read', 'Todolist.ReadWrite')
  @Get('todolist')
  list(@AzureUser('scopes') scopes: string[]) {
    return { scopes };
  }

  @Roles('TaskAdmin')
  @Get('admin')
  admin() {
    return { admin: true };
  }

  @Get('me')
  me() {
    return { me: true };
  }
}

interface SignInService {
  /** Stands in for the authority host: `{origin}/{tenant}/oauth2/v2.0/authorize` and `/token`. */
  readonly origin: string;
  readonly authorizeRequests: URLSearchParams[];
  readonly tokenRequests: URLSearchParams[];
  /** Token requests refused, with the reason: a PKCE or redirect mismatch must fail the test. */
  readonly refusals: string[];
  close(): Promise<void>;
}

const base64Url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * Entra's authorize and token endpoints as a browser sees them: the authorize endpoint signs the
 * user in at once and redirects back with a code; the token endpoint checks the PKCE verifier and
 * answers with an access token the emulator signs (so the API verifies it for real). The emulator
 * serves keys and metadata only, hence this stand-in.
 */
async function startSignInService(entra: EntraEmulator): Promise<SignInService> {
  const authorizeRequests: URLSearchParams[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const refusals: string[] = [];
  const codes = new Map<string, URLSearchParams>();
  const endpoint = `/${entra.tenantId}/oauth2/v2.0`;

  const tokenAnswer = (request: IncomingMessage, response: ServerResponse, form: URLSearchParams) => {
    tokenRequests.push(form);
    // Entra answers token requests from single-page apps cross-origin: Swagger UI calls it with fetch.
    response.setHeader('access-control-allow-origin', request.headers.origin ?? '*');
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const challenge = base64Url(createHash('sha256').update(form.get('code_verifier') ?? '').digest());
    const problem = !grant
      ? 'unknown code'
      : form.get('grant_type') !== 'authorization_code'
        ? 'grant_type'
        : challenge !== grant.get('code_challenge')
          ? 'code_verifier does not match code_challenge'
          : form.get('redirect_uri') !== grant.get('redirect_uri')
            ? 'redirect_uri differs from the authorize request'
            : form.get('client_id') !== grant.get('client_id')
              ? 'client_id differs from the authorize request'
              : undefined;
    response.setHeader('content-type', 'application/json');
    if (problem || !grant) {
      refusals.push(problem ?? 'unknown code');
      response.statusCode = 400;
      response.end(JSON.stringify({ error: 'invalid_grant', error_description: problem }));
      return;
    }
    const prefix = `api://${entra.clientId}/`;
    const scopes = (grant.get('scope') ?? '').split(' ').filter((scope) => scope.startsWith(prefix)).map((scope) => scope.slice(prefix.length));
    const accessToken = entra.mintAccessToken({ scopes, clientAppId: form.get('client_id') ?? undefined });
    response.end(JSON.stringify({ token_type: 'Bearer', scope: grant.get('scope'), expires_in: 3600, access_token: accessToken }));
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname === `${endpoint}/authorize`) {
      authorizeRequests.push(url.searchParams);
      const code = base64Url(randomBytes(24));
      codes.set(code, url.searchParams);
      const back = new URL(url.searchParams.get('redirect_uri') ?? 'about:blank');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.href }).end();
    } else if (request.method === 'OPTIONS' && url.pathname === `${endpoint}/token`) {
      response
        .writeHead(204, {
          'access-control-allow-origin': request.headers.origin ?? '*',
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '',
        })
        .end();
    } else if (request.method === 'POST' && url.pathname === `${endpoint}/token`) {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => tokenAnswer(request, response, new URLSearchParams(body)));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    authorizeRequests,
    tokenRequests,
    refusals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startDocumentedApp(entra: EntraEmulator, signIn: SignInService): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [AzureAuthModule.forRoot(emulatorOptions(entra))],
    providers: [{ provide: APP_GUARD, useClass: AzureAuthGuard }],
    controllers: [DocumentedController],
  })
  class DocumentedAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [DocumentedAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  setupAzureAuthSwagger(app, {
    title: 'TodoList API',
    swaggerClientId: SWAGGER_CLIENT_ID,
    authorityHost: signIn.origin,
    scopes: { 'Todolist.Read': 'Read your tasks', 'Todolist.ReadWrite': 'Read and change your tasks' },
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe('Swagger UI in headless Chromium', () => {
  let entra: EntraEmulator;
  let signIn: SignInService;
  let app: INestApplication;
  let url: string;
  let browser: Browser;
  let page: Page;
  /** Requests the browser tried to send off this machine (a CDN, a validator): there must be none. */
  const offMachine: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: this suite needs it. On Debian: apt-get install -y chromium`);
    }
    entra = await EntraEmulator.start();
    signIn = await startSignInService(entra);
    ({ app, url } = await startDocumentedApp(entra, signIn));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
      offMachine.push(route.request().url());
      return route.abort();
    });
    page = await context.newPage();
    // Fail on the step that did not happen, with Playwright's message, before Jest's own timeout.
    page.setDefaultTimeout(10_000);
    await page.goto(`${url}/docs`);
    await page.locator('.swagger-ui .opblock').first().waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await signIn?.close();
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
    await expect(dialog.textContent()).resolves.toContain(`${signIn.origin}/${entra.tenantId}/oauth2/v2.0/authorize`);
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
    const popup = page.waitForEvent('popup');
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

    expect(signIn.refusals).toEqual([]);
    expect(signIn.authorizeRequests).toHaveLength(1);
    const authorize = Object.fromEntries(signIn.authorizeRequests[0]);
    expect(authorize).toMatchObject({
      response_type: 'code',
      client_id: SWAGGER_CLIENT_ID,
      redirect_uri: `${url}/docs/oauth2-redirect.html`,
      code_challenge_method: 'S256',
    });
    expect(authorize.scope.split(' ').sort()).toEqual([scope('Todolist.Read'), scope('Todolist.ReadWrite')]);
    expect(signIn.tokenRequests).toHaveLength(1);
    expect(signIn.tokenRequests[0].get('code_verifier')).toMatch(/^[\w-]{43,128}$/);
    await dialog.locator('button.btn-done').click();

    // "Try it out" on a scoped route sends the token, and the real guard accepts it.
    const block = operation('/api/todolist');
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    const sent = page.waitForRequest((request) => request.url() === `${url}/api/todolist`);
    await block.locator('button.execute').click();
    expect((await sent).headers().authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const status = block.locator('.live-responses-table .response td.response-col_status');
    await status.waitFor();
    await expect(status.textContent()).resolves.toMatch(/^200/);
    await expect(block.locator('.live-responses-table .response td.response-col_description').textContent()).resolves.toContain('Todolist.ReadWrite');
  });

  it('loaded everything from the app itself: nothing in this visit went off the machine', () => {
    expect(offMachine).toEqual([]);
  });
});
