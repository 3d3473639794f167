import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AZURE_AUTH_OPTIONS } from '../azure-auth.constants.js';
import type { ResolvedAzureAuthOptions, ResolvedGroupsOverage } from '../azure-auth.options.resolve.js';
import type { AzureGroupsResolver } from '../azure-auth.options.js';
import { createCaller } from '../downstream/azure-caller.decorator.js';
import { AzureDownstreamApi, GraphAnswerError } from '../downstream/azure-downstream-api.js';
import { RETRY_AFTER_SECONDS, toTokenRequestFailure } from '../downstream/token-request-errors.js';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { AzureAuthErrors } from '../errors/messages.js';
import type { OverageGroupsLookup, PermissionRequirements } from '../guards/authorize.js';
import { authorityOf, type AzurePrincipal } from '../token/azure-principal.js';

type GroupsSource = 'on-behalf-of' | 'app' | AzureGroupsResolver;

/**
 * The groups of users whose tokens have a groups overage (`groupsOverage`): looked up once per
 * tenant and user within `cacheSeconds` (concurrent requests of one user share the lookup), in
 * Microsoft Graph on behalf of the caller, or as the API, or by the app's own function. A failed
 * lookup is not kept and answers 503 `groups_unavailable` (the log says why); a claims challenge
 * on the way (Conditional Access on Graph) reaches the caller as the 401 it is.
 *
 * @internal
 */
@Injectable()
export class AzureGroupMembership {
  private readonly logger = new Logger('AzureAuth');
  private readonly overage: ResolvedGroupsOverage | undefined;
  private readonly resolved: LRUCache<string, readonly string[]> | undefined;
  private readonly inflight = new Map<string, Promise<readonly string[]>>();

  constructor(
    @Inject(AZURE_AUTH_OPTIONS) options: ResolvedAzureAuthOptions,
    private readonly downstream: AzureDownstreamApi,
  ) {
    this.overage = options.groupsOverage;
    const cacheMs = this.overage?.cacheMs ?? 0;
    this.resolved = cacheMs > 0 ? new LRUCache({ max: this.overage!.maxCachedUsers, ttl: cacheMs }) : undefined;
  }

  /** The lookup `authorize` uses for a route's groups, for a request that carried `token`; none when the route names no group. */
  lookupFor(requirements: PermissionRequirements, token: string | null): OverageGroupsLookup | undefined {
    return requirements.groups ? (principal) => this.groupsOf(principal, token) : undefined;
  }

  /** The caller's groups; `undefined` when they may not be looked up (no source for this caller). */
  groupsOf(principal: AzurePrincipal, token: string | null): Promise<readonly string[]> | undefined {
    const source = this.sourceFor(principal, token);
    if (source === undefined) return undefined;
    // A user is one object of one tenant; a token without `oid` names its user by `sub`.
    const key = `${principal.tid.toLowerCase()} ${principal.oid ? principal.oid.toLowerCase() : `sub ${principal.sub}`}`;
    const known = this.resolved?.get(key);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.lookUp(source, principal, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
      void pending.then((groups) => this.resolved?.set(key, groups), () => undefined);
    }
    return pending;
  }

  /** Where this caller's groups come from: the app's function for anyone; Graph for a user whose authority has a credential. */
  private sourceFor(principal: AzurePrincipal, token: string | null): GroupsSource | undefined {
    const resolve = this.overage?.resolve;
    if (resolve === undefined || typeof resolve === 'function') return resolve;
    if (principal.appOnly || token === null || authorityOf(principal)?.clientCredential === undefined) return undefined;
    return resolve;
  }

  private async lookUp(source: GroupsSource, principal: AzurePrincipal, token: string | null): Promise<readonly string[]> {
    const caller = createCaller(principal, token, undefined);
    let groups: unknown;
    try {
      groups = typeof source === 'function' ? await source(caller) : await this.downstream.memberGroups(caller, source === 'app');
    } catch (failure) {
      throw this.unavailable(source, failure);
    }
    if (!Array.isArray(groups) || groups.some((id) => typeof id !== 'string')) {
      this.logger.error('groupsOverage.resolve returned something other than an array of group object ids');
      throw AzureAuthErrors.groupsUnavailable(RETRY_AFTER_SECONDS);
    }
    return Object.freeze(groups.map((id: string) => id.toLowerCase()));
  }

  /**
   * A failed lookup: a claims challenge or an expired token goes to the caller as it is (a new
   * token helps); anything else is 503 `groups_unavailable`, with the cause in the log.
   */
  private unavailable(source: GroupsSource, failure: unknown): AzureAuthError {
    if (typeof source === 'function') {
      if (failure instanceof AzureAuthError) return failure;
      this.logger.error(`groupsOverage.resolve failed: ${failure instanceof Error ? `${failure.name}: ${failure.message.slice(0, 300)}` : typeof failure}`);
      return AzureAuthErrors.groupsUnavailable(RETRY_AFTER_SECONDS);
    }
    const flow = source === 'app' ? 'client credentials' : 'on-behalf-of';
    if (failure instanceof GraphAnswerError) {
      this.logger.error(`Groups of an overage token could not be looked up (${flow}): ${failure.message}`);
      return AzureAuthErrors.groupsUnavailable(RETRY_AFTER_SECONDS);
    }
    const { error, logLine } = toTokenRequestFailure(failure, source === 'app' ? ['.default'] : ['User.Read'], flow);
    if (error.status === 401) return error;
    this.logger.warn(`Groups of an overage token could not be looked up (${flow}): ${logLine ?? error.message}`);
    return AzureAuthErrors.groupsUnavailable(error.retryAfterSeconds ?? RETRY_AFTER_SECONDS);
  }
}
