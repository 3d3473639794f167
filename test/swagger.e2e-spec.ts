import type { INestApplication } from '@nestjs/common';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { SWAGGER_CLIENT_ID, startDocumentedApp } from './support/documented-app.js';
import { ADAPTERS, call } from './support/test-app.js';

const SIGN_UP = 'B2C_1_signupsignin';
const PROFILE = 'B2C_1_profile';

describe.each(ADAPTERS)('OpenAPI document over %s', (adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let document: any;
  let scope: (name: string) => string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await startDocumentedApp(adapter, entra));
    scope = (name) => `api://${entra.clientId}/${name}`;
    const answer = await call(`${url}/docs-json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    document = answer.body;
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it("declares the azure-ad OAuth2 scheme: authorization code flow on the tenant's endpoints, scopes by full URI", () => {
    expect(document.info).toMatchObject({ title: 'TodoList API' });
    expect(Object.keys(document.components.securitySchemes)).toEqual(['azure-ad']);
    expect(document.components.securitySchemes['azure-ad']).toEqual({
      type: 'oauth2',
      description: expect.any(String),
      flows: {
        authorizationCode: {
          authorizationUrl: `${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/authorize`,
          tokenUrl: `${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/token`,
          scopes: {
            [scope('Todolist.Read')]: 'Read your tasks',
            [scope('Todolist.ReadWrite')]: 'Read and change your tasks',
          },
        },
      },
    });
  });

  it("gives each operation the security its decorators imply, and the public one none", () => {
    const security = (path: string) => document.paths[path].get.security;
    expect(security('/api/todolist')).toEqual([{ 'azure-ad': [scope('Todolist.Read')] }, { 'azure-ad': [scope('Todolist.ReadWrite')] }]);
    expect(security('/api/admin')).toEqual([{ 'azure-ad': [] }]);
    expect(security('/api/me')).toEqual([{ 'azure-ad': [] }]);
    expect(document.paths['/api/open'].get).toBeDefined();
    expect(security('/api/open')).toBeUndefined();
    expect(document.security).toBeUndefined();
  });

  it('agrees with the guard: exactly the operations with security refuse a caller without a token', async () => {
    const operations = Object.entries<any>(document.paths).map(([path, item]) => ({ path, secured: item.get.security !== undefined }));
    expect(operations).toHaveLength(4);
    for (const { path, secured } of operations) {
      const answer = await call(`${url}${path}`);
      expect({ path, status: answer.status }).toEqual({ path, status: secured ? 401 : 200 });
    }
  });

  it('lists scopes that open the route: a token with any one of them passes, one without gets 403', async () => {
    const requirements: Array<Record<string, string[]>> = document.paths['/api/todolist'].get.security;
    for (const requirement of requirements) {
      // Entra puts the short name in `scp`; the client requested the full URI the document lists.
      const [uri] = requirement['azure-ad'];
      const shortName = uri.slice(`api://${entra.clientId}/`.length);
      expect((await call(`${url}/api/todolist`, { token: entra.mintAccessToken({ scopes: [shortName] }) })).status).toBe(200);
    }
    const outsider = await call(`${url}/api/todolist`, { token: entra.mintAccessToken({ scopes: ['Other.Scope'] }) });
    expect(outsider.status).toBe(403);
    expect(outsider.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  // On Fastify in a Jest worker Swagger UI cannot be served (see documented-app.ts); dev-swagger-ui serves it from the built app.
  if (adapter === 'express') {
    it("serves Swagger UI with its own assets   and the OAuth settings: Swagger's client id, PKCE, the API's scopes", async () => {
      const page = await call(`${url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      // every script and stylesheet is relative: served by the app, no CDN
      expect(page.body).toMatch(/<script src="\.\/docs\/swagger-ui-bundle\.js">/);
      expect(page.body).not.toMatch(/(src|href)=["']https?:/);
      for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'oauth2-redirect.html']) {
        expect({ asset, status: (await call(`${url}/docs/${asset}`)).status }).toEqual({ asset, status: 200 });
      }
      const init = await call(`${url}/docs/swagger-ui-init.js`);
      const initOAuth = JSON.parse(/"initOAuth": (\{[^}]*\})/.exec(init.body)?.[1] ?? 'null');
      expect(initOAuth).toEqual({
        clientId: SWAGGER_CLIENT_ID,
        usePkceWithAuthorizationCodeGrant: true,
        scopes: [scope('Todolist.Read'), scope('Todolist.ReadWrite')],
      });
    });
  }
});

/** A module configured by an authority URL, and the metadata document whose endpoints Swagger UI must use. */
const AUTHORITY_KINDS = [
  {
    name: 'a B2C authority with {policy} and policies (the first one)',
    emulator: {},
    auth: (entra: EntraEmulator) => ({ authority: entra.b2cAuthority(), policies: [SIGN_UP, PROFILE] }),
    metadata: (entra: EntraEmulator) => `${entra.b2cAuthority(SIGN_UP)}/.well-known/openid-configuration`,
  },
  {
    name: 'a B2C policy in the authority',
    emulator: {},
    auth: (entra: EntraEmulator) => ({ authority: entra.b2cAuthority(PROFILE) }),
    metadata: (entra: EntraEmulator) => `${entra.b2cAuthority(PROFILE)}/.well-known/openid-configuration`,
  },
  {
    name: 'an External ID authority',
    emulator: { v2IssuerTemplate: 'https://{tenantid}.ciamlogin.com/{tenantid}/v2.0' },
    auth: (entra: EntraEmulator) => ({ authority: `${entra.authorityHost}/${entra.tenantId}/v2.0` }),
    metadata: (entra: EntraEmulator) => entra.v2MetadataUrl(),
  },
];
const AUTHORITY_CASES = ADAPTERS.flatMap((adapter) => AUTHORITY_KINDS.map((kind) => [adapter, kind.name, kind] as const));

describe.each(AUTHORITY_CASES)('OpenAPI document over %s of an API whose module has %s', (adapter, _name, kind) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start(kind.emulator);
    ({ app, url } = await startDocumentedApp(adapter, entra, { ...kind.auth(entra), clientId: entra.clientId, warmUp: false }));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  it("signs in at the endpoints the authority's own metadata names, with scopes of the API", async () => {
    const metadata = await call(kind.metadata(entra));
    expect(metadata.status).toBe(200);
    const document = await call(`${url}/docs-json`);
    const flow = document.body.components.securitySchemes['azure-ad'].flows.authorizationCode;
    // B2C compares policy names without case, and its metadata writes them in lower case.
    expect({ authorizationUrl: flow.authorizationUrl.toLowerCase(), tokenUrl: flow.tokenUrl.toLowerCase() }).toEqual({
      authorizationUrl: metadata.body.authorization_endpoint.toLowerCase(),
      tokenUrl: metadata.body.token_endpoint.toLowerCase(),
    });
    expect(Object.keys(flow.scopes)).toEqual([`api://${entra.clientId}/Todolist.Read`, `api://${entra.clientId}/Todolist.ReadWrite`]);
  });
});
