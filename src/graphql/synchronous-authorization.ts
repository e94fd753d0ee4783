// type-graphql applies @Authorized through its async middleware chain: five promises and a
// microtask hop per guarded field, and a field that returns a promise sends graphql-js down its
// asynchronous completion path for the whole response. Where a guarded field has nothing else to
// run (no middleware, no argument to convert or validate) this applies the same authChecker, with
// the same requirements, synchronously, so that `me` answered from the principal cache executes
// without a promise. The bench measured each step's server CPU (README, Performance).
import { GraphQLObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { authChecker, type Requirement } from './auth-checker.js';
import type { Context } from './context.js';
import { forbidden } from './errors.js';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type ResolverMetadata = MetadataStorage['queries'][number];
type ParamMetadata = NonNullable<ResolverMetadata['params']>[number];
type ResolverInstance = Record<string, (...params: unknown[]) => unknown>;

export function authorizeSynchronously(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  authorizeRootFields(schema, storage);
  authorizeProperties(schema, storage);
}

/** Guards `resolve` with the checker, run before it and in the same tick. */
function guard(field: GraphQLField<unknown, Context>, requirements: Requirement[], resolve: GraphQLFieldResolver<unknown, Context>): void {
  field.resolve = (root, args, context, info) => {
    // The checker throws its coded error; a bare `false` would be type-graphql's FORBIDDEN too.
    if (authChecker({ root, args, context, info }, requirements) !== true) throw forbidden();
    return resolve(root, args, context, info);
  };
}

/**
 * Query and Mutation fields whose method takes only the context and the info. Their resolver
 * classes are stateless and built without a container (schema.ts), so one instance serves all.
 */
function authorizeRootFields(schema: GraphQLSchema, storage: MetadataStorage): void {
  const byType: Array<[GraphQLObjectType | null | undefined, ResolverMetadata[]]> = [
    [schema.getQueryType(), storage.queries],
    [schema.getMutationType(), storage.mutations],
  ];
  const instances = new Map<Function, ResolverInstance>();
  for (const [type, resolvers] of byType) {
    if (!type) continue;
    const fields = type.getFields();
    for (const resolver of resolvers) {
      const field = fields[resolver.schemaName];
      const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
      if (!field || !resolver.roles || (resolver.middlewares?.length ?? 0) > 0 || !params.every(isContextOrInfo)) continue;
      let instance = instances.get(resolver.target);
      if (!instance) instances.set(resolver.target, (instance = new (resolver.target as new () => ResolverInstance)()));
      const method = instance[resolver.methodName]!.bind(instance);
      guard(field as GraphQLField<unknown, Context>, resolver.roles as Requirement[], (_root, _args, context, info) =>
        method(...params.map((param) => (param.kind === 'info' ? info : contextParam(param, context)))));
    }
  }
}

function isContextOrInfo(param: ParamMetadata): boolean {
  return param.kind === 'context' || param.kind === 'info';
}

function contextParam(param: ParamMetadata, context: Context): unknown {
  return param.kind === 'context' && param.propertyName ? context[param.propertyName as keyof Context] : context;
}

/** Plain guarded properties such as User.email: no field resolver, no arguments. */
function authorizeProperties(schema: GraphQLSchema, storage: MetadataStorage): void {
  for (const objectType of storage.objectTypes) {
    const type = schema.getType(objectType.name);
    if (!(type instanceof GraphQLObjectType)) continue;
    const schemaFields = type.getFields();
    for (const field of objectType.fields ?? []) {
      const hasFieldResolver = storage.fieldResolvers.some(
        (resolver) => resolver.schemaName === field.schemaName && resolver.getObjectType?.() === objectType.target,
      );
      const schemaField = schemaFields[field.schemaName];
      if (!field.roles || (field.middlewares?.length ?? 0) > 0 || (field.params?.length ?? 0) > 0 || hasFieldResolver || !schemaField) {
        continue;
      }
      const property = field.name;
      guard(schemaField as GraphQLField<unknown, Context>, field.roles as Requirement[], (root) => (root as Record<string, unknown>)[property]);
    }
  }
}
