import { AzureAuthErrors } from '../errors/messages.js';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';

/** What a route asks of its caller, read once per handler from the decorators. */
export interface PermissionRequirements {
  readonly scopes?: readonly string[];
  readonly appPermissions?: readonly string[];
  readonly roles?: readonly string[];
}

function holdsAny(granted: readonly string[], required: readonly string[]): boolean {
  for (const name of required) if (granted.includes(name)) return true;
  return false;
}

/**
 * Decides whether a verified caller may use a route. A caller is judged by the requirements of its
 * own kind: an app-only token by `@AppPermissions` (any-of its `roles`); a user's token by
 * `@Scopes` (any-of its `scp`) and `@Roles` (any-of its `roles`), both when both are present. A
 * route with requirements only of the other kind refuses the caller. The caller policies
 * (client allow-list, guests, tokens without permissions) are those of the authority that admitted
 * the token. Throws 403 errors; 401 for a `request.user` this module did not create.
 */
export function authorize(principal: AzurePrincipal, requirements: PermissionRequirements): void {
  const options = authorityOf(principal);
  if (!options) throw AzureAuthErrors.tokenMissing();
  if (options.allowedClientApps && !options.allowedClientApps.has(principal.clientId.toLowerCase())) {
    throw AzureAuthErrors.clientNotAllowed();
  }
  if (!options.allowGuestUsers && principal.guest) throw AzureAuthErrors.guestNotAllowed();
  if (!options.allowTokensWithoutPermissions && principal.scopes.length === 0 && principal.roles.length === 0) {
    throw AzureAuthErrors.noPermissions();
  }
  const { scopes, appPermissions, roles } = requirements;
  if (principal.appOnly) {
    if (appPermissions) {
      if (!holdsAny(principal.roles, appPermissions)) throw AzureAuthErrors.insufficientPermissions('app permission', appPermissions);
    } else if (scopes || roles) {
      // The route is for users only: nothing an application holds can pass.
      throw scopes
        ? AzureAuthErrors.insufficientPermissions('scope', scopes)
        : AzureAuthErrors.insufficientPermissions('app role', roles ?? []);
    }
    return;
  }
  if (scopes || roles) {
    if (scopes && !holdsAny(principal.scopes, scopes)) throw AzureAuthErrors.insufficientPermissions('scope', scopes);
    if (roles && !holdsAny(principal.roles, roles)) throw AzureAuthErrors.insufficientPermissions('app role', roles);
  } else if (appPermissions) {
    throw AzureAuthErrors.insufficientPermissions('app permission', appPermissions);
  }
}
