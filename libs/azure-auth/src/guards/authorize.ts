import { AzureAuthErrors } from '../errors/messages.js';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';
import { listClaim } from '../token/claims.js';

/** What a route asks of its caller, read once per handler from the decorators. */
export interface PermissionRequirements {
  readonly scopes?: readonly string[];
  readonly appPermissions?: readonly string[];
  readonly roles?: readonly string[];
  /** Security group object ids (`@Groups`), any one of which the token's `groups` must hold. */
  readonly groups?: readonly string[];
  /** Directory role template ids (`@DirectoryRoles`), any one of which the token's `wids` must hold. */
  readonly directoryRoles?: readonly string[];
  /** Conditional Access authentication contexts (`@RequireAuthContext`), any one of which the token's `acrs` must hold. */
  readonly authContexts?: readonly string[];
}

function holdsAny(granted: readonly string[], required: readonly string[]): boolean {
  for (const name of required) if (granted.includes(name)) return true;
  return false;
}

/**
 * Groups: the token's `groups` must hold one of the route's. A user in too many groups for a token
 * (overage: `_claim_names.groups` or `hasgroups` instead of the claim) cannot be judged from it,
 * and the endpoint the token names for them is never called: that is a refusal of its own.
 */
function checkGroups(principal: AzurePrincipal, groups: readonly string[]): void {
  if (holdsAny(principal.groups, groups)) return;
  if (hasGroupsOverage(principal.claims)) throw AzureAuthErrors.groupsOverage();
  throw AzureAuthErrors.membershipRequired('group', groups);
}

/** A token that says its user's groups did not fit in it. */
function hasGroupsOverage(claims: AzurePrincipal['claims']): boolean {
  if (Array.isArray(claims.groups)) return false;
  const names = claims._claim_names;
  return claims.hasgroups === true || (typeof names === 'object' && names !== null && Object.hasOwn(names, 'groups'));
}

/**
 * Step-up: the token's `acrs` must hold one of the route's authentication contexts. A client that
 * declared it can handle claims challenges (`xms_cc` holds `cp1`) is sent one (401); any other is
 * told what it lacks (403), since it could not act on a challenge.
 */
function checkAuthContext(principal: AzurePrincipal, authContexts: readonly string[]): void {
  if (holdsAny(listClaim(principal.claims.acrs), authContexts)) return;
  if (listClaim(principal.claims.xms_cc).includes('cp1')) throw AzureAuthErrors.authContextChallenge(authContexts, authorizationUriOf(principal));
  throw AzureAuthErrors.authContextRequired(authContexts);
}

/**
 * Decides whether a verified caller may use a route. A caller is judged by the requirements of its
 * own kind: an app-only token by `@AppPermissions` (any-of its `roles`); a user's token by
 * `@Scopes` (any-of its `scp`) and `@Roles` (any-of its `roles`), both when both are present. A
 * route with requirements only of the other kind refuses the caller. The caller policies
 * (client allow-list, guests, tokens without permissions) are those of the authority that admitted
 * the token. A route's authentication contexts are checked last, once the caller may use it
 * otherwise (stepping up cannot grant a missing scope). Throws 403 errors; 401 for a claims
 * challenge, and for a `request.user` this module did not create.
 */
export function authorize(principal: AzurePrincipal, requirements: PermissionRequirements): void {
  checkPermissions(principal, requirements);
  if (requirements.groups) checkGroups(principal, requirements.groups);
  if (requirements.directoryRoles && !holdsAny(principal.wids, requirements.directoryRoles)) {
    throw AzureAuthErrors.membershipRequired('directory role', requirements.directoryRoles);
  }
  if (requirements.authContexts) checkAuthContext(principal, requirements.authContexts);
}

/** Where a client sends the user to satisfy a claims challenge: the authorize endpoint of the tenant that issued the token (none for B2C and custom authorities). */
function authorizationUriOf(principal: AzurePrincipal): string | undefined {
  const options = authorityOf(principal);
  if (!options || options.customAuthority) return undefined;
  return `${options.authorityHost}/${principal.tid || options.tenantId}/oauth2/v2.0/authorize`;
}

function checkPermissions(principal: AzurePrincipal, requirements: PermissionRequirements): void {
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
