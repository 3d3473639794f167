import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import type { PermissionRequirements } from '../guards/authorize.js';
import { RouteRequirementsReader } from '../guards/route-requirements.js';

// @nestjs/graphql's own token and metadata keys (its graphql.constants), by value: the module never imports it.
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';
const RESOLVE_FIELD_METADATA = 'graphql:resolve_property';
const RESOLVE_REFERENCE_METADATA = 'graphql:resolve_reference';
const FIELD_NAME_METADATA = 'graphql:resolver_name';

const DECORATOR_NAMES: ReadonlyArray<[keyof PermissionRequirements, string]> = [
  ['scopes', '@Scopes'],
  ['appPermissions', '@AppPermissions'],
  ['roles', '@Roles'],
];

/** A field resolver whose decorators ask something of the caller. */
interface RequiringField {
  readonly resolver: string;
  readonly method: string;
  readonly field: string;
  readonly permissions: PermissionRequirements;
}

/**
 * Stops the app at start when a GraphQL field resolver (`@ResolveField`, `@ResolveReference`)
 * carries `@Scopes`, `@AppPermissions` or `@Roles`, on the method or on its resolver class, while
 * a GraphQL module runs without `fieldResolverEnhancers: ['guards']`. Nest then runs no guard on
 * field resolvers, global or `@UseGuards`, so those requirements would never be enforced.
 *
 * A class's decorators count: with field guards on, the guard applies them to its field resolvers
 * (read as the guard reads them, handler-first), so without field guards they are lost. A field
 * resolver that is `@Public()` or asks nothing passes: it is open either way. Without
 * `@nestjs/graphql` in the app there is no GraphQL module's options and nothing is checked.
 * @internal
 */
@Injectable()
export class GraphqlFieldResolverCheck implements OnModuleInit {
  constructor(private readonly modules: ModulesContainer) {}

  onModuleInit(): void {
    const providers = new DiscoveryService(this.modules).getProviders();
    const withoutFieldGuards = providers.some((wrapper) => wrapper.token === GRAPHQL_MODULE_OPTIONS && !fieldGuardsOn(wrapper.instance));
    if (!withoutFieldGuards) return;
    const fields = requiringFields(providers, new RouteRequirementsReader());
    if (fields.length > 0) throw new AzureAuthConfigurationError('fieldResolverEnhancers', fieldGuardsOffProblem(fields));
  }
}

/** What @nestjs/graphql's resolver explorer reads to decide whether field resolvers run guards. */
function fieldGuardsOn(options: unknown): boolean {
  const enhancers = (options as { fieldResolverEnhancers?: unknown } | undefined)?.fieldResolverEnhancers;
  return Array.isArray(enhancers) && enhancers.includes('guards');
}

function requiringFields(providers: readonly InstanceWrapper[], reader: RouteRequirementsReader): RequiringField[] {
  const scanner = new MetadataScanner();
  const fields: RequiringField[] = [];
  // Instances, as the resolver explorer sees them: a request-scoped resolver has its prototype here.
  for (const { instance } of providers) {
    if (instance === null || typeof instance !== 'object') continue;
    const resolver = instance.constructor as Type<unknown>;
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const method of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[method] as Function;
      if (!Reflect.getMetadata(RESOLVE_FIELD_METADATA, handler) && !Reflect.getMetadata(RESOLVE_REFERENCE_METADATA, handler)) continue;
      const { isPublic, permissions } = reader.read(new ExecutionContextHost([], resolver, handler));
      if (isPublic || DECORATOR_NAMES.every(([kind]) => permissions[kind] === undefined)) continue;
      const field = (Reflect.getMetadata(FIELD_NAME_METADATA, handler) as string | undefined) ?? method;
      fields.push({ resolver: resolver.name, method, field, permissions });
    }
  }
  return fields;
}

function fieldGuardsOffProblem(fields: readonly RequiringField[]): string {
  const listed = fields.map(({ resolver, method, field, permissions }) => {
    const requirements = DECORATOR_NAMES.filter(([kind]) => permissions[kind] !== undefined).map(([kind, name]) => `${name}(${permissions[kind]!.join(', ')})`);
    return `${resolver}.${method}${field === method ? '' : ` (field "${field}")`} ${requirements.join(' ')}`;
  });
  return (
    `of GraphQLModule must include "guards": without it Nest runs no guard on GraphQL field resolvers, and these would ` +
    `answer without their requirements (a resolver class's decorators count for its field resolvers): ${listed.join('; ')}. ` +
    `Set fieldResolverEnhancers: ['guards'] in GraphQLModule.forRoot (or in the options its forRootAsync factory returns).`
  );
}
