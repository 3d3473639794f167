import type { OpenAPIObject, SwaggerCustomOptions, SwaggerDocumentOptions } from '@nestjs/swagger';

/**
 * Options of {@link setupAzureAuthSwagger}. Where Swagger UI signs in (the tenant and authority
 * host, or the module's `authority`: a B2C policy, External ID, a custom domain) and the API's
 * client id default to those of the `AzureAuthModule` registered in the app (its first entry when
 * it has `authorities`).
 */
export interface AzureAuthSwaggerOptions {
  /** Where Swagger UI is served. Default `'docs'`; the JSON document is then at `/docs-json`. */
  path?: string;
  /** Document title. Default `'API'`. Ignored when `documentConfig` is given. */
  title?: string;
  /** Document version. Default `'1.0'`. Ignored when `documentConfig` is given. */
  version?: string;
  /** Document description. Ignored when `documentConfig` is given. */
  description?: string;
  /**
   * A document configuration from `new DocumentBuilder()…build()`, for everything the shortcuts
   * above do not cover. The `azure-ad` scheme is added to it.
   */
  documentConfig?: Omit<OpenAPIObject, 'paths'>;
  /** Passed to `SwaggerModule.createDocument` (e.g. `include`, `operationIdFactory`). */
  documentOptions?: SwaggerDocumentOptions;
  /**
   * Passed to `SwaggerModule.setup`; its `swaggerOptions` are merged over the OAuth settings made here.
   * On Fastify, Swagger UI (`ui`, default `true`) needs `@fastify/static` installed; `ui: false` serves the document only.
   */
  customOptions?: SwaggerCustomOptions;
  /**
   * Application (client) id of the app registration Swagger UI signs in with: a single-page
   * application whose redirect URI is Swagger UI's `oauth2-redirect.html` (e.g.
   * `https://api.contoso.com/docs/oauth2-redirect.html`), with the API's scopes granted. Without
   * it the Authorize dialog asks for a client id.
   */
  swaggerClientId?: string;
  /**
   * The API's delegated scopes offered in the Authorize dialog, short name to description
   * (`{ 'Todolist.Read': 'Read your tasks' }`), or short names only. Every `@Scopes` name used by a
   * route is offered as well, described by its name when it is not listed here.
   */
  scopes?: Record<string, string> | string[];
  /**
   * Directory (tenant) id in the authorize and token URLs (`{authorityHost}/{tenantId}/oauth2/v2.0/…`).
   * Default: the module's `tenantId`; with a module configured by `authority`, the endpoints come
   * from that authority unless this or `authorityHost` is given.
   */
  tenantId?: string;
  /** The API's application (client) id, used in scope URIs. Default: the module's `clientId`. */
  clientId?: string;
  /** Authority host. Default: the module's `authorityHost` (`https://login.microsoftonline.com`). */
  authorityHost?: string;
  /**
   * Azure AD B2C: the policy (user flow) Swagger UI signs in with, one of the module's `policies`
   * (its endpoints are `…/{policy}/oauth2/v2.0/authorize` and `/token`). Default: the first of them.
   */
  policy?: string;
  /**
   * The API's App ID URI, when it is not `api://{clientId}`: scopes are requested as
   * `{applicationIdUri}/{scope}` (e.g. `https://contoso.com/todo-api`; in B2C
   * `https://contoso.onmicrosoft.com/tasks-api`).
   */
  applicationIdUri?: string;
  /**
   * Whether every route without `@Public()` needs a token. Default `true`, right when
   * `AzureAuthGuard` is global (`APP_GUARD`), which metadata cannot show. With `false`, only routes
   * with `@UseGuards(AzureAuthGuard)` (or `AzurePermissionsGuard`), `@Scopes`, `@Roles` or
   * `@AppPermissions` are marked as needing one.
   */
  securedByDefault?: boolean;
  /**
   * Absolute URL of Swagger UI's `oauth2-redirect.html`, exactly as registered in the app
   * registration. Default: computed by the browser from the address Swagger UI was opened at.
   */
  oauth2RedirectUrl?: string;
}
