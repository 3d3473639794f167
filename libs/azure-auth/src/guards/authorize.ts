import { AzureAuthErrors } from '../errors/messages.js';
import { authorityOf, withResolvedGroups, type AzurePrincipal } from '../token/azure-principal.js';
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
 * The groups of a caller whose token had too many to carry (overage), from wherever the module is
 * told to look; `undefined` when it may not look for this caller (the answer is then 403
 * `groups_overage`). Rejects with the refusal when the lookup fails.
 */
export type OverageGroupsLookup = (principal: AzurePrincipal) => Promise<readonly string[]> | undefined;

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
function checkAuthContext(principal: AzurePrincipal, authContexts: readonly string[] | undefined): void {
  if (!authContexts || holdsAny(listClaim(principal.claims.acrs), authContexts)) return;
  if (listClaim(principal.claims.xms_cc).includes('cp1')) throw AzureAuthErrors.authContextChallenge(authContexts, authorizationUriOf(principal));
  throw AzureAuthErrors.authContextRequired(authContexts);
}

/**
 * Decides whether a verified caller may use a route. A caller is judged by the requirements of its
 * own kind: an app-only token by `@AppPermissions` (any-of its `roles`); a user's token by
 * `@Scopes` (any-of its `scp`) and `@Roles` (any-of its `roles`), both when both are present. A
 * route with requirements only of the other kind refuses the caller. The caller policies
 * (client allow-list, guests, tokens without permissions) are those of the authority that admitted
 * the token. Then directory roles (`wids`) and groups: a token whose user is in too many groups
 * to list them (overage: `_claim_names.groups` or `hasgroups`) is judged by the groups
 * `overageGroups` finds (the endpoint the token names is never called); without a lookup it is
 * refused with 403 `groups_overage`. A route's authentication contexts are checked last, once the
 * caller may use it otherwise (stepping up cannot grant a missing scope).
 *
 * Returns the caller to admit: the one given, or, after an overage lookup (the only asynchronous
 * step), the same caller with its resolved groups. Throws (or rejects with) 403 errors; 401 for a
 * claims challenge, and for a `request.user` this module did not create; 503 when the groups could
 * not be looked up.
 */
export function authorize(principal: AzurePrincipal, requirements: PermissionRequirements, overageGroups?: OverageGroupsLookup): AzurePrincipal | Promise<AzurePrincipal> {
  checkPermissions(principal, requirements);
  const { groups, directoryRoles } = requirements;
  if (directoryRoles && !holdsAny(principal.wids, directoryRoles)) throw AzureAuthErrors.membershipRequired('directory role', directoryRoles);
  if (groups && !holdsAny(principal.groups, groups)) {
    if (!hasGroupsOverage(principal.claims)) throw AzureAuthErrors.membershipRequired('group', groups);
    const lookup = overageGroups?.(principal);
    if (lookup === undefined) throw AzureAuthErrors.groupsOverage();
    return lookup.then((resolved) => {
      const member = withResolvedGroups(principal, resolved);
      if (!holdsAny(member.groups, groups)) throw AzureAuthErrors.membershipRequired('group', groups);
      checkAuthContext(member, requirements.authContexts);
      return member;
    });
  }
  checkAuthContext(principal, requirements.authContexts);
  return principal;
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
