import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Injectable, Post, UseGuards, VersioningType, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ApiBearerAuth, ApiOperation, DECORATORS, DocumentBuilder, type OpenAPIObject, type SecuritySchemeObject } from '@nestjs/swagger';
import { AzureAuthModule } from '../azure-auth.module.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { AppPermissions } from '../decorators/app-permissions.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { DirectoryRoles, Groups } from '../decorators/groups.decorator.js';
import { RequireAuthContext } from '../decorators/require-auth-context.decorator.js';
import { Roles } from '../decorators/roles.decorator.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { AzureAuthGuard } from '../guards/azure-auth.guard.js';
import { AzureAuthSwaggerConfigurationError, createAzureAuthSwaggerDocument, requireFastifyStatic, swaggerUiOptions } from './setup-azure-auth-swagger.js';

const tenantId = '11111111-2222-4333-8444-555555555555';
const clientId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const appIdUri = `api://${clientId}`;
// Warm-up off and nothing listens: building a document never talks to the network.
const moduleOptions: AzureAuthModuleOptions = { tenantId, clientId, authorityHost: 'http://127.0.0.1:9', warmUp: false };

@Scopes('Class.Scope')
@Controller('tasks')
class TasksController {
  @Get()
  list() {}

  @Scopes('Todolist.ReadWrite')
  @Post()
  create() {}

  @Public()
  @Get('count')
  count() {}

  @ApiBearerAuth()
  @Get('legacy')
  legacy() {}

  @RequireAuthContext('c1')
  @Post('purge')
  purge() {}

  @Groups('8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f')
  @DirectoryRoles('62e90394-69f5-4237-9190-012177145e10')
  @Get('stats')
  stats() {}

  @ApiOperation({ summary: 'Archive', description: 'Moves every task away.' })
  @Scopes('Todolist.ReadWrite')
  @RequireAuthContext('c1', 'c2')
  @Post('archive')
  archive() {}

  notARoute() {}
}

@Public()
@Controller('status')
class StatusController {
  @Get()
  status() {}
}

@Injectable()
class CustomGuard extends AzureAuthGuard {}

@Controller('plain')
class PlainController {
  @Get()
  plain() {}

  @Roles('TaskAdmin')
  @Get('admin')
  admin() {}

  @AppPermissions('Todolist.Read.All')
  @Get('daemon')
  daemon() {}

  @UseGuards(CustomGuard)
  @Get('guarded')
  guarded() {}
}

@UseGuards(AzureAuthGuard)
@Controller('guarded')
class GuardedController {
  @Get()
  me() {}
}

const apps: INestApplication[] = [];
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

async function appWith(controllers: Type<unknown>[], withModule = true): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: withModule ? [AzureAuthModule.forRoot(moduleOptions)] : [],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  return app;
}

const security = (document: OpenAPIObject, path: string, method: 'get' | 'post' = 'get') => document.paths[path]?.[method]?.security;
const flowOf = (document: OpenAPIObject) => (document.components?.securitySchemes?.['azure-ad'] as SecuritySchemeObject).flows?.authorizationCode;

describe('createAzureAuthSwaggerDocument', () => {
  let document: OpenAPIObject;
  beforeAll(async () => {
    document = createAzureAuthSwaggerDocument(await appWith([TasksController, StatusController, PlainController]), {
      scopes: { 'Todolist.Read': 'Read your tasks' },
    });
  });

  it("takes the tenant, client id and authority host from the app's AzureAuthModule", () => {
    expect(document.components?.securitySchemes?.['azure-ad']).toMatchObject({
      type: 'oauth2',
      flows: {
        authorizationCode: {
          authorizationUrl: `http://127.0.0.1:9/${tenantId}/oauth2/v2.0/authorize`,
          tokenUrl: `http://127.0.0.1:9/${tenantId}/oauth2/v2.0/token`,
        },
      },
    });
  });

  it('offers the described scopes, then every @Scopes name in use, by full URI', () => {
    expect(flowOf(document)?.scopes).toEqual({
      [`${appIdUri}/Todolist.Read`]: 'Read your tasks',
      [`${appIdUri}/Class.Scope`]: 'Class.Scope',
      [`${appIdUri}/Todolist.ReadWrite`]: 'Todolist.ReadWrite',
    });
  });

  it("reads the controller's @Scopes, replaced by the handler's", () => {
    expect(security(document, '/tasks')).toEqual([{ 'azure-ad': [`${appIdUri}/Class.Scope`] }]);
    expect(security(document, '/tasks', 'post')).toEqual([{ 'azure-ad': [`${appIdUri}/Todolist.ReadWrite`] }]);
  });

  it('leaves @Public routes and controllers without security', () => {
    expect(document.paths['/tasks/count']?.get).toBeDefined();
    expect(security(document, '/tasks/count')).toBeUndefined();
    expect(security(document, '/status')).toBeUndefined();
  });

  it('marks every other route as needing a token by default (a global guard cannot be seen)', () => {
    for (const path of ['/plain', '/plain/admin', '/plain/daemon', '/plain/guarded']) {
      expect(security(document, path)).toEqual([{ 'azure-ad': [] }]);
    }
  });

  it("keeps the user's own @ApiSecurity requirements beside ours", () => {
    expect(security(document, '/tasks/legacy')).toEqual([{ bearer: [] }, { 'azure-ad': [`${appIdUri}/Class.Scope`] }]);
  });

  it("names a step-up route's authentication contexts in its description, after the user's own", () => {
    expect(document.paths['/tasks/purge']?.post?.description).toBe(
      'Step-up: needs the Conditional Access authentication context c1 (acrs); without it a client with cp1 gets a 401 insufficient_claims challenge, any other a 403 auth_context_required.',
    );
    expect(document.paths['/tasks/archive']?.post).toMatchObject({ summary: 'Archive', description: expect.stringMatching(/^Moves every task away\.\n\nStep-up: needs the Conditional Access authentication context c1 or c2 /) });
    expect(document.paths['/tasks/archive']?.post?.security).toEqual([{ 'azure-ad': [`${appIdUri}/Todolist.ReadWrite`] }]);
    expect(document.paths['/tasks']?.get?.description).toBeUndefined();
    expect(document.paths['/tasks/stats']?.get?.description).toBe(
      'Needs membership in the group 8f2b6c1e-4d3a-4b5c-9e8f-7a6b5c4d3e2f (groups claim). Needs the directory role 62e90394-69f5-4237-9190-012177145e10 (wids claim).',
    );
  });

  it('puts back the handlers’ swagger metadata once the document is built', () => {
    expect(Reflect.getMetadata(DECORATORS.API_OPERATION, TasksController.prototype.archive)).toEqual({ summary: 'Archive', description: 'Moves every task away.' });
    expect(Reflect.hasMetadata(DECORATORS.API_OPERATION, TasksController.prototype.purge)).toBe(false);
    expect(Reflect.getMetadata(DECORATORS.API_SECURITY, TasksController.prototype.legacy)).toEqual([{ bearer: [] }]);
    expect(Reflect.hasMetadata(DECORATORS.API_SECURITY, TasksController.prototype.list)).toBe(false);
    expect(Reflect.hasMetadata(DECORATORS.API_SECURITY, PlainController.prototype.plain)).toBe(false);
  });

  it('builds the same document twice (nothing accumulates)', async () => {
    const again = createAzureAuthSwaggerDocument(await appWith([TasksController, StatusController, PlainController]), {
      scopes: { 'Todolist.Read': 'Read your tasks' },
    });
    expect(again).toEqual(document);
  });
});

describe('securedByDefault: false', () => {
  it('secures only routes whose guard or permission decorators show', async () => {
    const document = createAzureAuthSwaggerDocument(await appWith([PlainController, GuardedController, TasksController]), { securedByDefault: false });
    expect(security(document, '/plain')).toBeUndefined();
    expect(security(document, '/plain/admin')).toEqual([{ 'azure-ad': [] }]);
    expect(security(document, '/plain/daemon')).toEqual([{ 'azure-ad': [] }]);
    // a subclass of AzureAuthGuard counts, on the handler or on the controller
    expect(security(document, '/plain/guarded')).toEqual([{ 'azure-ad': [] }]);
    expect(security(document, '/guarded')).toEqual([{ 'azure-ad': [] }]);
    expect(security(document, '/tasks')).toEqual([{ 'azure-ad': [`${appIdUri}/Class.Scope`] }]);
  });
});

describe('route paths', () => {
  it('follow the global prefix and URI versioning, since the scanner itself maps handlers', async () => {
    const app = await appWith([TasksController]);
    app.setGlobalPrefix('v');
    app.enableVersioning({ type: VersioningType.URI, defaultVersion: '2' });
    const document = createAzureAuthSwaggerDocument(app);
    expect(security(document, '/v/v2/tasks', 'post')).toEqual([{ 'azure-ad': [`${appIdUri}/Todolist.ReadWrite`] }]);
    expect(security(document, '/v/v2/tasks/count')).toBeUndefined();
  });
});

describe('options', () => {
  it('override the module: tenant, client id, authority host, App ID URI', async () => {
    const document = createAzureAuthSwaggerDocument(await appWith([TasksController]), {
      tenantId: 'organizations',
      clientId: 'BBBBBBBB-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      authorityHost: 'https://login.microsoftonline.us',
      applicationIdUri: 'https://contoso.com/todo-api',
      scopes: ['Todolist.Read'],
    });
    const flow = flowOf(document);
    expect(flow?.authorizationUrl).toBe('https://login.microsoftonline.us/organizations/oauth2/v2.0/authorize');
    expect(Object.keys(flow?.scopes ?? {})).toEqual([
      'https://contoso.com/todo-api/Todolist.Read',
      'https://contoso.com/todo-api/Class.Scope',
      'https://contoso.com/todo-api/Todolist.ReadWrite',
    ]);
    expect(security(document, '/tasks', 'post')).toEqual([{ 'azure-ad': ['https://contoso.com/todo-api/Todolist.ReadWrite'] }]);
  });

  it('accept a DocumentBuilder configuration and keep its own schemes', async () => {
    const documentConfig = new DocumentBuilder().setTitle('TodoList API').setVersion('3.1').addBearerAuth().build();
    const document = createAzureAuthSwaggerDocument(await appWith([TasksController]), { documentConfig });
    expect(document.info).toMatchObject({ title: 'TodoList API', version: '3.1' });
    expect(Object.keys(document.components?.securitySchemes ?? {}).sort()).toEqual(['azure-ad', 'bearer']);
  });

  it('build the title and version from the shortcuts', async () => {
    const document = createAzureAuthSwaggerDocument(await appWith([TasksController]), { title: 'Tasks', version: '2.0', description: 'Task API' });
    expect(document.info).toMatchObject({ title: 'Tasks', version: '2.0', description: 'Task API' });
  });

  it.each([
    ['tenantId', { tenantId: 'a/b' }],
    ['clientId', { clientId: 'not-a-guid' }],
    ['swaggerClientId', { swaggerClientId: 'swagger' }],
    ['authorityHost', { authorityHost: 'http://login.example.com' }],
    ['path', { path: '/' }],
  ])('name the wrong option: %s', async (option, options) => {
    const app = await appWith([TasksController]);
    expect(() => createAzureAuthSwaggerDocument(app, options)).toThrow(expect.objectContaining({ name: 'AzureAuthSwaggerConfigurationError', option }));
    expect(() => createAzureAuthSwaggerDocument(app, options)).toThrow(new RegExp(`^setupAzureAuthSwagger: option "${option}"`));
  });

  it('need the tenant and client id when AzureAuthModule is not registered', async () => {
    const app = await appWith([TasksController], false);
    expect(() => createAzureAuthSwaggerDocument(app)).toThrow(AzureAuthSwaggerConfigurationError);
    const document = createAzureAuthSwaggerDocument(app, { tenantId, clientId });
    expect(security(document, '/tasks')).toEqual([{ 'azure-ad': [`${appIdUri}/Class.Scope`] }]);
  });

});

describe("the module's authority URL (B2C, External ID, custom domains)", () => {
  const SIGN_UP = 'B2C_1_signupsignin';
  const PROFILE = 'B2C_1_profile';
  const b2c = 'https://contoso.b2clogin.com/contoso.onmicrosoft.com';

  async function appFor(options: Omit<AzureAuthModuleOptions, 'warmUp'>): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports: [AzureAuthModule.forRoot({ ...options, warmUp: false })], controllers: [TasksController] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    return app;
  }
  const endpoints = (document: OpenAPIObject) => {
    const flow = flowOf(document);
    return { authorizationUrl: flow?.authorizationUrl, tokenUrl: flow?.tokenUrl };
  };
  const under = (base: string) => ({ authorizationUrl: `${base}/oauth2/v2.0/authorize`, tokenUrl: `${base}/oauth2/v2.0/token` });

  it.each([
    ['a B2C policy in the authority', { authority: `${b2c}/${SIGN_UP}/v2.0` }, `${b2c}/${SIGN_UP}`],
    ['a B2C authority with {policy}: the first policy', { authority: `${b2c}/{policy}/v2.0`, policies: [SIGN_UP, PROFILE] }, `${b2c}/${SIGN_UP}`],
    ['a B2C authority that ends before the policy', { authority: b2c, policies: [PROFILE, SIGN_UP] }, `${b2c}/${PROFILE}`],
    ['External ID', { authority: `https://contoso.ciamlogin.com/${tenantId}/v2.0` }, `https://contoso.ciamlogin.com/${tenantId}`],
    ['External ID with app-specific keys (no ?appid= in the endpoints)', { authority: `https://contoso.ciamlogin.com/${tenantId}/v2.0`, appSpecificSigningKeys: true }, `https://contoso.ciamlogin.com/${tenantId}`],
    ['a custom domain', { authority: `https://login.contoso.com/${tenantId}/v2.0/` }, `https://login.contoso.com/${tenantId}`],
    ['the local emulator', { authority: `http://127.0.0.1:9/contoso.onmicrosoft.com/${SIGN_UP}/v2.0` }, `http://127.0.0.1:9/contoso.onmicrosoft.com/${SIGN_UP}`],
  ])('signs in where the module reads metadata: %s', async (_kind, authority, base) => {
    expect(endpoints(createAzureAuthSwaggerDocument(await appFor({ clientId, ...authority })))).toEqual(under(base));
  });

  it('signs in with the policy it is told, one of the module\'s (any case, as B2C compares them)', async () => {
    const app = await appFor({ clientId, authority: `${b2c}/{policy}/v2.0`, policies: [SIGN_UP, PROFILE] });
    expect(endpoints(createAzureAuthSwaggerDocument(app, { policy: 'b2c_1_PROFILE' }))).toEqual(under(`${b2c}/${PROFILE}`));
  });

  it('takes the first of several authorities', async () => {
    const app = await appFor({
      authorities: [
        { authority: `https://contoso.ciamlogin.com/${tenantId}/v2.0`, clientId },
        { tenantId, clientId: 'bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee' },
      ],
    });
    expect(endpoints(createAzureAuthSwaggerDocument(app))).toEqual(under(`https://contoso.ciamlogin.com/${tenantId}`));
  });

  it('requests scopes under the App ID URI it is given (B2C: https://{tenant}.onmicrosoft.com/{api})', async () => {
    const document = createAzureAuthSwaggerDocument(await appFor({ clientId, authority: `${b2c}/${SIGN_UP}/v2.0` }), {
      applicationIdUri: 'https://contoso.onmicrosoft.com/tasks-api',
      scopes: ['Todolist.Read'],
    });
    expect(Object.keys(flowOf(document)?.scopes ?? {})).toEqual([
      'https://contoso.onmicrosoft.com/tasks-api/Todolist.Read',
      'https://contoso.onmicrosoft.com/tasks-api/Class.Scope',
      'https://contoso.onmicrosoft.com/tasks-api/Todolist.ReadWrite',
    ]);
  });

  it('gives way to a tenant and authority host given here', async () => {
    const app = await appFor({ clientId, authority: `${b2c}/${SIGN_UP}/v2.0` });
    expect(endpoints(createAzureAuthSwaggerDocument(app, { tenantId: 'contoso.onmicrosoft.com', authorityHost: 'https://contoso.ciamlogin.com' }))).toEqual(
      under('https://contoso.ciamlogin.com/contoso.onmicrosoft.com'),
    );
    // A host alone names no tenant: the module's authority has none to lend.
    expect(() => createAzureAuthSwaggerDocument(app, { authorityHost: 'https://contoso.ciamlogin.com' })).toThrow(
      expect.objectContaining({ name: 'AzureAuthSwaggerConfigurationError', option: 'tenantId' }),
    );
  });

  it.each([
    ['a policy the module does not list', { clientId, authority: `${b2c}/{policy}/v2.0`, policies: [SIGN_UP, PROFILE] }, /must be one of AzureAuthModule's policies \(B2C_1_signupsignin, B2C_1_profile\), got "B2C_1_signin"/],
    ['a policy for an authority without policies', { clientId, authority: `https://contoso.ciamlogin.com/${tenantId}/v2.0` }, /applies to a B2C authority with policies/],
    ['a policy for a tenant', { clientId, tenantId }, /applies to an AzureAuthModule configured with a B2C authority and policies/],
  ])('refuses %s, naming the option policy', async (_name, module, message) => {
    const app = await appFor(module);
    expect(() => createAzureAuthSwaggerDocument(app, { policy: 'B2C_1_signin' })).toThrow(expect.objectContaining({ name: 'AzureAuthSwaggerConfigurationError', option: 'policy' }));
    expect(() => createAzureAuthSwaggerDocument(app, { policy: 'B2C_1_signin' })).toThrow(message);
  });
});

describe('Swagger UI on Fastify', () => {
  it('finds @fastify/static where @nestjs/swagger would import it', () => {
    expect(() => requireFastifyStatic()).not.toThrow();
  });

  it('says what to install (or how to do without) when it is missing, instead of letting Nest end the process', () => {
    // A directory with no node_modules above it: nothing resolves from there.
    const nowhere = join(mkdtempSync(join(tmpdir(), 'no-fastify-static-')), 'main.js');
    expect(() => requireFastifyStatic(nowhere)).toThrow(expect.objectContaining({ name: 'AzureAuthSwaggerConfigurationError', option: 'customOptions.ui' }));
    expect(() => requireFastifyStatic(nowhere)).toThrow(/@fastify\/static, which is not installed: npm install @fastify\/static, or set customOptions: \{ ui: false \}/);
  });
});

describe('swaggerUiOptions', () => {
  let document: OpenAPIObject;
  beforeAll(async () => {
    document = createAzureAuthSwaggerDocument(await appWith([TasksController]), { scopes: ['Todolist.Read'] });
  });

  it("sets up the Authorize dialog: Swagger's client id, PKCE, every offered scope pre-selected", () => {
    expect(swaggerUiOptions(document, { swaggerClientId: clientId }).swaggerOptions?.initOAuth).toEqual({
      clientId,
      usePkceWithAuthorizationCodeGrant: true,
      scopes: [`${appIdUri}/Todolist.Read`, `${appIdUri}/Class.Scope`, `${appIdUri}/Todolist.ReadWrite`],
    });
    expect(swaggerUiOptions(document, {}).swaggerOptions?.initOAuth).not.toHaveProperty('clientId');
  });

  it('lets the browser find the redirect page beside Swagger UI, unless the redirect URL is given', () => {
    const computed = swaggerUiOptions(document, { customOptions: { customJsStr: 'window.mine = 1' } });
    expect(computed.customJsStr).toEqual([expect.stringContaining('history.replaceState'), 'window.mine = 1']);
    expect(computed.swaggerOptions).not.toHaveProperty('oauth2RedirectUrl');

    const given = swaggerUiOptions(document, { oauth2RedirectUrl: 'https://api.contoso.com/docs/oauth2-redirect.html' });
    expect(given.swaggerOptions?.oauth2RedirectUrl).toBe('https://api.contoso.com/docs/oauth2-redirect.html');
    expect(given.customJsStr).toBeUndefined();
  });

  it("puts the user's own Swagger UI options over ours", () => {
    const options = swaggerUiOptions(document, {
      swaggerClientId: clientId,
      customOptions: { customSiteTitle: 'Tasks', swaggerOptions: { persistAuthorization: true, initOAuth: { scopes: [`${appIdUri}/Todolist.Read`] } } },
    });
    expect(options.customSiteTitle).toBe('Tasks');
    expect(options.swaggerOptions).toMatchObject({
      persistAuthorization: true,
      initOAuth: { clientId, usePkceWithAuthorizationCodeGrant: true, scopes: [`${appIdUri}/Todolist.Read`] },
    });
  });
});
