import type { SecurityRequirementObject, SecuritySchemeObject } from '@nestjs/swagger';

/** Name of the OAuth2 security scheme that {@link setupAzureAuthSwagger} adds to the document. */
export const AZURE_AD_SECURITY_SCHEME = 'azure-ad';

/** What the decorators of one route say, as far as the OpenAPI document cares. @internal */
export interface RouteSecurity {
  /** `@Public()`: no token at all. */
  readonly isPublic: boolean;
  /** `@Scopes(...)` names, handler-first; any one of them suffices. */
  readonly scopes?: readonly string[];
  /** The route needs a token even without scopes: `@Roles`, `@AppPermissions`, or the guard applies. */
  readonly guarded: boolean;
}

/**
 * The App ID URI scopes are requested under: Entra only issues a token for this API when the
 * client asks for `{applicationIdUri}/{scope}`; the bare name would be read as a Graph scope.
 * @internal
 */
export function applicationIdUriOf(clientId: string, applicationIdUri?: string): string {
  return (applicationIdUri ?? `api://${clientId}`).replace(/\/+$/, '');
}

/** `api://{clientId}/Todolist.Read`: the full scope a client requests. @internal */
export function scopeUri(applicationIdUri: string, scope: string): string {
  return `${applicationIdUri}/${scope}`;
}

/**
 * The v2 OAuth endpoints of an authority: `{authority}/oauth2/v2.0/authorize` and `/token`, the
 * authority's `/v2.0` left out. One rule for every kind: a workforce tenant
 * (`https://login.microsoftonline.com/{tenant}`), a sovereign cloud, a B2C policy
 * (`https://{t}.b2clogin.com/{t}.onmicrosoft.com/{policy}/v2.0`), External ID
 * (`https://{t}.ciamlogin.com/{tenantId}/v2.0`) or a custom domain.
 * @internal
 */
export function oauthEndpoints(authority: string): { authorizationUrl: string; tokenUrl: string } {
  const base = `${authority.replace(/\/+$/, '').replace(/\/v2\.0$/i, '')}/oauth2/v2.0`;
  return { authorizationUrl: `${base}/authorize`, tokenUrl: `${base}/token` };
}

/** The authority of a tenant on an authority host (`https://login.microsoftonline.com/{tenant}`). @internal */
export function tenantAuthority(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}`;
}

/**
 * The OAuth2 scheme: authorization code flow (Swagger UI adds PKCE; OpenAPI 3.0 has no field for
 * it), scopes keyed by their full URI so the Authorize dialog requests exactly what Entra expects.
 * @internal
 */
export function azureAdSecurityScheme(
  endpoints: { authorizationUrl: string; tokenUrl: string },
  scopes: ReadonlyMap<string, string>,
  description = 'Microsoft Entra ID: sign in with the authorization code flow and PKCE.',
): SecuritySchemeObject {
  return {
    type: 'oauth2',
    description,
    flows: { authorizationCode: { ...endpoints, scopes: Object.fromEntries(scopes) } },
  };
}

/**
 * The `security` of one operation. OpenAPI reads a list of requirement objects as "any one of
 * them", which is exactly `@Scopes` semantics, so each scope gets an object of its own. Routes that
 * need a token but no particular scope get one empty requirement; public routes none.
 * @internal
 */
export function routeSecurityRequirements(
  route: RouteSecurity,
  schemeName: string,
  applicationIdUri: string,
): SecurityRequirementObject[] {
  if (route.isPublic) return [];
  if (route.scopes && route.scopes.length > 0) {
    return route.scopes.map((scope) => ({ [schemeName]: [scopeUri(applicationIdUri, scope)] }));
  }
  return route.guarded ? [{ [schemeName]: [] }] : [];
}
