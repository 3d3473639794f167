import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { INestApplication, Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { DECORATORS, DocumentBuilder, SwaggerModule, type OpenAPIObject, type SecurityRequirementObject, type SecuritySchemeObject, type SwaggerCustomOptions } from '@nestjs/swagger';
import { AZURE_AUTH_OPTIONS, DEFAULT_AUTHORITY_HOST } from '../azure-auth.constants.js';
import type { ResolvedAzureAuthOptions } from '../azure-auth.options.resolve.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import { isGuid } from '../shared/guid.js';
import { normalizeAuthorityHost } from '../shared/urls.js';
import { AzureAuthGuard } from '../guards/azure-auth.guard.js';
import { AzurePermissionsGuard } from '../guards/azure-permissions.guard.js';
import type { PermissionRequirements } from '../guards/authorize.js';
import { RouteRequirementsReader } from '../guards/route-requirements.js';
import type { AzureAuthSwaggerOptions } from './azure-auth-swagger.options.js';
import {
  AZURE_AD_SECURITY_SCHEME,
  applicationIdUriOf,
  azureAdSecurityScheme,
  oauthEndpoints,
  routeSecurityRequirements,
  scopeUri,
  tenantAuthority,
  type RouteSecurity,
} from './azure-ad-security.js';

/** Thrown by {@link setupAzureAuthSwagger} when an option is wrong; the message names the option. */
export class AzureAuthSwaggerConfigurationError extends Error {
  override readonly name = 'AzureAuthSwaggerConfigurationError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`setupAzureAuthSwagger: option "${option}" ${problem}`);
  }
}

interface SwaggerSettings {
  readonly path: string;
  readonly applicationIdUri: string;
  readonly endpoints: { authorizationUrl: string; tokenUrl: string };
  readonly securedByDefault: boolean;
}

interface Route {
  readonly handler: Function;
  readonly security: RouteSecurity;
  /** What `@Groups`, `@DirectoryRoles` and `@RequireAuthContext` ask, for the operation's description (OpenAPI has no field for them). */
  readonly requirementNote?: string;
}

/**
 * Builds the OpenAPI document of `app` with the `azure-ad` OAuth2 scheme and each operation's
 * `security` taken from `@Public` / `@Scopes` / `@Roles` / `@AppPermissions`, without serving it.
 * For writing the document to a file at build time; {@link setupAzureAuthSwagger} also serves it.
 */
export function createAzureAuthSwaggerDocument(app: INestApplication, options: AzureAuthSwaggerOptions = {}): OpenAPIObject {
  return buildDocument(app, options, resolveSettings(app, options));
}

/**
 * One call for Swagger: builds the document ({@link createAzureAuthSwaggerDocument}) and serves
 * Swagger UI at `options.path` (default `docs`, the JSON at `/docs-json`) with an Authorize button
 * that signs in against the module's authority (a tenant, a B2C policy, External ID, a custom
 * domain) with the authorization code flow and PKCE, as `options.swaggerClientId`. Call it before
 * `app.listen()`. On Fastify, Swagger UI's files are served by `@fastify/static` (an optional peer of
 * `@nestjs/swagger`): install it, or refused with a message saying so.
 *
 * A route gets `security` from its decorators, read handler-first as `AzureAuthGuard` reads them:
 * `@Public()` none; `@Scopes('A', 'B')` one requirement per scope (either suffices); any other
 * route that needs a token an empty `azure-ad` requirement (see `securedByDefault`).
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * setupAzureAuthSwagger(app, {
 *   title: 'TodoList API',
 *   swaggerClientId: process.env.AZURE_SWAGGER_CLIENT_ID,
 *   scopes: { 'Todolist.Read': 'Read your tasks', 'Todolist.ReadWrite': 'Read and change your tasks' },
 * });
 * await app.listen(3000); // Swagger UI at http://localhost:3000/docs
 * ```
 */
export function setupAzureAuthSwagger(app: INestApplication, options: AzureAuthSwaggerOptions = {}): OpenAPIObject {
  const settings = resolveSettings(app, options);
  const ui = options.customOptions?.ui ?? options.customOptions?.swaggerUiEnabled ?? true;
  if (ui && app.getHttpAdapter().getType() === 'fastify') requireFastifyStatic();
  const document = buildDocument(app, options, settings);
  SwaggerModule.setup(settings.path, app, document, swaggerUiOptions(document, options));
  return document;
}

/**
 * On Fastify, `@nestjs/swagger` serves Swagger UI's files with `@fastify/static` (an optional peer
 * of it); when that is missing, Nest ends the process as the app starts, with a line in its log.
 * Resolved as `@nestjs/swagger` itself resolves it, so the app hears it here, with what to do.
 * `@nestjs/swagger` is a peer, installed for the app: it is looked up from the app's entry script
 * (else the working directory), since `import.meta` exists in the ES module build only.
 * @internal
 */
export function requireFastifyStatic(from: string = process.argv[1] ?? join(process.cwd(), 'index.js')): void {
  try {
    const swagger = createRequire(from).resolve('@nestjs/swagger');
    createRequire(swagger).resolve('@fastify/static');
  } catch {
    throw new AzureAuthSwaggerConfigurationError(
      'customOptions.ui',
      'is on (the default), and on Fastify Swagger UI\'s files are served by @fastify/static, which is not installed: ' +
        'npm install @fastify/static, or set customOptions: { ui: false } to serve the OpenAPI document only',
    );
  }
}

function resolveSettings(app: INestApplication, options: AzureAuthSwaggerOptions): SwaggerSettings {
  if (options === null || typeof options !== 'object') throw new AzureAuthSwaggerConfigurationError('options', 'must be an object');
  const module = moduleOptions(app);
  const clientId = options.clientId ?? module?.clientId;
  if (!isGuid(clientId)) {
    throw new AzureAuthSwaggerConfigurationError('clientId', `must be the API's application (client) id GUID (or AzureAuthModule must be registered), got ${JSON.stringify(clientId)}`);
  }
  if (options.swaggerClientId !== undefined && !isGuid(options.swaggerClientId)) {
    throw new AzureAuthSwaggerConfigurationError('swaggerClientId', `must be the application (client) id GUID of Swagger UI's app registration, got ${JSON.stringify(options.swaggerClientId)}`);
  }
  const path = options.path ?? 'docs';
  if (typeof path !== 'string' || path.replace(/^\/+|\/+$/g, '') === '') {
    throw new AzureAuthSwaggerConfigurationError('path', `must be a non-empty path such as "docs", got ${JSON.stringify(path)}`);
  }
  // A tenant or host given here wins over the module's authority URL.
  const authority =
    module?.customAuthority && options.tenantId === undefined && options.authorityHost === undefined
      ? moduleAuthority(module, options.policy)
      : tenantAuthorityOf(options, module);
  return {
    path,
    applicationIdUri: applicationIdUriOf(clientId.toLowerCase(), options.applicationIdUri),
    endpoints: oauthEndpoints(authority),
    securedByDefault: options.securedByDefault ?? true,
  };
}

/** `{authorityHost}/{tenantId}`, each from the options or else the module (a module configured by `authority` names no tenant). */
function tenantAuthorityOf(options: AzureAuthSwaggerOptions, module: ResolvedAzureAuthOptions | undefined): string {
  if (options.policy !== undefined) {
    throw new AzureAuthSwaggerConfigurationError('policy', 'applies to an AzureAuthModule configured with a B2C authority and policies, not to a tenant and authority host');
  }
  const tenantId = options.tenantId ?? (module?.customAuthority ? undefined : module?.tenantId);
  if (typeof tenantId !== 'string' || !/^[\w.-]+$/.test(tenantId)) {
    throw new AzureAuthSwaggerConfigurationError('tenantId', `must be a tenant GUID or domain (or AzureAuthModule must be registered), got ${JSON.stringify(tenantId)}`);
  }
  return tenantAuthority(authorityHost(options.authorityHost ?? (module?.customAuthority ? undefined : module?.authorityHost)), tenantId);
}

/**
 * The authority the module reads metadata from (B2C: of `policy`, else its first policy), as the
 * module itself filled it in: its metadata URL without `/.well-known/openid-configuration` and query.
 */
function moduleAuthority(module: ResolvedAzureAuthOptions, policy: string | undefined): string {
  const policies = module.discovery.flatMap((entry) => (entry.policy === undefined ? [] : [entry.policy]));
  if (policy !== undefined && (typeof policy !== 'string' || !policies.some((name) => name.toLowerCase() === policy.toLowerCase()))) {
    throw new AzureAuthSwaggerConfigurationError(
      'policy',
      policies.length === 0
        ? `applies to a B2C authority with policies; AzureAuthModule's authority ${module.label} has none, got ${JSON.stringify(policy)}`
        : `must be one of AzureAuthModule's policies (${policies.join(', ')}), got ${JSON.stringify(policy)}`,
    );
  }
  const entry = module.discovery.find((candidate) => policy === undefined || candidate.policy?.toLowerCase() === policy.toLowerCase()) ?? module.discovery[0]!;
  const url = new URL(entry.metadataUrl);
  url.search = '';
  return url.href.replace(/\/\.well-known\/openid-configuration$/, '');
}

function moduleOptions(app: INestApplication): ResolvedAzureAuthOptions | undefined {
  try {
    return app.get<string, ResolvedAzureAuthOptions>(AZURE_AUTH_OPTIONS, { strict: false });
  } catch {
    return undefined;
  }
}

function authorityHost(value: string | undefined): string {
  try {
    return normalizeAuthorityHost(value ?? DEFAULT_AUTHORITY_HOST);
  } catch (error) {
    if (error instanceof AzureAuthConfigurationError) throw new AzureAuthSwaggerConfigurationError('authorityHost', error.problem);
    throw error;
  }
}

/** Every route handler of the app's controllers with what its decorators require. */
function collectRoutes(app: INestApplication, securedByDefault: boolean): Route[] {
  const discovery = new DiscoveryService(app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  // The guard's own reader, so the document says what the guard enforces (handler-first, @Public wins).
  const reader = new RouteRequirementsReader();
  const routes: Route[] = [];
  for (const { metatype } of discovery.getControllers()) {
    if (typeof metatype !== 'function') continue;
    const controller = metatype as Type<unknown>;
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler: unknown = controller.prototype[name];
      if (typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      const { isPublic, permissions } = reader.read(new ExecutionContextHost([], controller, handler));
      const guarded = securedByDefault || hasAzureGuard(handler) || hasAzureGuard(controller) || permissions.appPermissions !== undefined || permissions.roles !== undefined;
      routes.push({ handler, security: { isPublic, scopes: permissions.scopes, guarded }, requirementNote: isPublic ? undefined : requirementNote(permissions) });
    }
  }
  return routes;
}

function hasAzureGuard(target: object): boolean {
  const guards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, target) ?? [];
  return guards.some((guard) =>
    [AzureAuthGuard, AzurePermissionsGuard].some((type) =>
      typeof guard === 'function' ? guard === type || guard.prototype instanceof type : guard instanceof type,
    ),
  );
}

/** Scope URI to description: the ones the user described first, then every `@Scopes` name in use. */
function offeredScopes(options: AzureAuthSwaggerOptions, routes: readonly Route[], applicationIdUri: string): Map<string, string> {
  const described: Array<[string, string]> = Array.isArray(options.scopes)
    ? options.scopes.map((name) => [name, name])
    : Object.entries(options.scopes ?? {});
  const scopes = new Map<string, string>();
  for (const [name, description] of described) scopes.set(scopeUri(applicationIdUri, name), description);
  for (const route of routes) {
    for (const name of route.security.scopes ?? []) {
      const uri = scopeUri(applicationIdUri, name);
      if (!scopes.has(uri)) scopes.set(uri, name);
    }
  }
  return scopes;
}

function buildDocument(app: INestApplication, options: AzureAuthSwaggerOptions, settings: SwaggerSettings): OpenAPIObject {
  const routes = collectRoutes(app, settings.securedByDefault);
  const base = options.documentConfig ?? new DocumentBuilder().setTitle(options.title ?? 'API').setVersion(options.version ?? '1.0').setDescription(options.description ?? '').build();
  const config: Omit<OpenAPIObject, 'paths'> = {
    ...base,
    components: {
      ...base.components,
      securitySchemes: {
        ...base.components?.securitySchemes,
        [AZURE_AD_SECURITY_SCHEME]: azureAdSecurityScheme(settings.endpoints, offeredScopes(options, routes, settings.applicationIdUri)),
      },
    },
  };
  return withRouteMetadata(routes, settings.applicationIdUri, () => SwaggerModule.createDocument(app, config, options.documentOptions));
}

/** The sentences an operation's description gains from `@Groups`, `@DirectoryRoles` and `@RequireAuthContext`. */
function requirementNote({ groups, directoryRoles, authContexts }: PermissionRequirements): string | undefined {
  const sentences = [
    groups && `Needs membership in the group ${groups.join(' or ')} (groups claim).`,
    directoryRoles && `Needs the directory role ${directoryRoles.join(' or ')} (wids claim).`,
    authContexts &&
      `Step-up: needs the Conditional Access authentication context ${authContexts.join(' or ')} (acrs); without it a client with cp1 gets a 401 insufficient_claims challenge, any other a 403 auth_context_required.`,
  ].filter(Boolean);
  return sentences.length > 0 ? sentences.join(' ') : undefined;
}

/**
 * Lends each handler the `@ApiSecurity` metadata its decorators imply (and, for a route with groups,
 * directory roles or an authentication context, an `@ApiOperation` description naming them) while the scanner runs, then puts
 * back what the user had. The scanner then maps handlers to operations itself, with global
 * prefixes, versions and path aliases, and the user's own `@ApiSecurity` requirements and
 * description stay beside ours.
 */
function withRouteMetadata<T>(routes: readonly Route[], applicationIdUri: string, scan: () => T): T {
  const lent: Array<{ handler: Function; key: string; own: unknown }> = [];
  const lend = <V>(handler: Function, key: string, value: (own: V | undefined) => V) => {
    const own = Reflect.getOwnMetadata(key, handler) as V | undefined;
    lent.push({ handler, key, own });
    Reflect.defineMetadata(key, value(own), handler);
  };
  const done = new Set<Function>();
  try {
    for (const { handler, security, requirementNote: note } of routes) {
      const requirements = routeSecurityRequirements(security, AZURE_AD_SECURITY_SCHEME, applicationIdUri);
      if ((requirements.length === 0 && !note) || done.has(handler)) continue;
      done.add(handler);
      if (requirements.length > 0) lend<SecurityRequirementObject[]>(handler, DECORATORS.API_SECURITY, (own) => [...(own ?? []), ...requirements]);
      if (note) {
        lend<{ description?: string }>(handler, DECORATORS.API_OPERATION, (own) => ({ ...own, description: [own?.description, note].filter(Boolean).join('\n\n') }));
      }
    }
    return scan();
  } finally {
    for (const { handler, key, own } of lent) {
      if (own === undefined) Reflect.deleteMetadata(key, handler);
      else Reflect.defineMetadata(key, own, handler);
    }
  }
}

// Swagger UI derives its OAuth redirect page from the part of the address before the last '/':
// at `/docs` that is `/oauth2-redirect.html`, which does not exist; at `/docs/` it is the page served
// beside Swagger UI. Runs before Swagger UI starts (on window load).
const REDIRECT_BESIDE_UI = `if (!/\\/$|\\.[^/]*$/.test(location.pathname)) history.replaceState(history.state, '', location.pathname + '/' + location.search + location.hash);`;

/**
 * `SwaggerModule.setup` options: the Authorize dialog's OAuth settings, under the user's own.
 * @internal
 */
export function swaggerUiOptions(document: OpenAPIObject, options: AzureAuthSwaggerOptions): SwaggerCustomOptions {
  const custom = options.customOptions ?? {};
  // Pre-selected in the dialog: every scope the scheme offers.
  const scheme = document.components?.securitySchemes?.[AZURE_AD_SECURITY_SCHEME] as SecuritySchemeObject | undefined;
  const scopes = Object.keys(scheme?.flows?.authorizationCode?.scopes ?? {});
  const { oauth2RedirectUrl, swaggerClientId } = options;
  return {
    ...custom,
    ...(oauth2RedirectUrl === undefined ? { customJsStr: [REDIRECT_BESIDE_UI, ...[custom.customJsStr ?? []].flat()] } : {}),
    swaggerOptions: {
      ...(oauth2RedirectUrl === undefined ? {} : { oauth2RedirectUrl }),
      ...custom.swaggerOptions,
      initOAuth: {
        ...(swaggerClientId === undefined ? {} : { clientId: swaggerClientId }),
        usePkceWithAuthorizationCodeGrant: true,
        scopes,
        ...custom.swaggerOptions?.initOAuth,
      },
    },
  };
}
