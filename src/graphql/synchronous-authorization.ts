// type-graphql applies @Authorized through its async middleware chain: five promises and a
// microtask hop per guarded field, and a field that returns a promise sends graphql-js down its
// asynchronous completion path for the whole response. Where a guarded field has nothing else to
// run (no middleware, no argument to convert or validate) this applies the same authChecker, with
// the same requirements, synchronously, so that `me` answered from the principal cache executes
// without a promise. The bench measured each step's server CPU (README, Performance).
import { GraphQLObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { getMetadataStorage, type BuildSchemaOptions } from 'type-graphql';
import { authChecker, type Requirement } from './auth-checker.js';
import type { Context } from './context.js';
import { forbidden } from './errors.js';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type ResolverMetadata = MetadataStorage['queries'][number];
type ParamMetadata = NonNullable<ResolverMetadata['params']>[number];
type ResolverInstance = Record<string, (...params: unknown[]) => unknown>;

/** Where a field's check now runs synchronously: `Type.field` (for tests and reviews). */
export const SYNCHRONOUSLY_AUTHORIZED = Symbol('synchronouslyAuthorized');

/**
 * A field whose value is its root's property. The extension's value is the field's requirements
 * (none when unguarded): the value is a function of the root and of what they check.
 */
export const PLAIN_PROPERTY = Symbol('plainProperty');

/** `options` are the ones the schema was built with: only their resolver classes count. */
export function authorizeSynchronously(schema: GraphQLSchema, options: BuildSchemaOptions): void {
  // type-graphql would run these around every resolver; this path would skip them.
  if (options.globalMiddlewares?.length || options.container) {
    throw new Error(
      'authorizeSynchronously: the schema has global middlewares or a container, which this path would bypass',
    );
  }
  const storage = getMetadataStorage();
  authorizeRootFields(schema, storage, options);
  authorizeProperties(schema, storage);
}

/**
 * The root-field resolvers of the classes the schema was built from (`options`), as type-graphql
 * counts them: another loaded class with a method of the same name does not define a field.
 */
export function builtResolvers(
  resolvers: readonly ResolverMetadata[],
  options: BuildSchemaOptions,
): ResolverMetadata[] {
  const classes = new Set<Function>(options.resolvers as readonly Function[]);
  return resolvers.filter((resolver) => classes.has(resolver.target));
}

/** Guards `resolve` with the checker, run before it and in the same tick. */
function guard(
  field: GraphQLField<unknown, Context>,
  requirements: Requirement[],
  resolve: GraphQLFieldResolver<unknown, Context>,
): void {
  field.resolve = (root, args, context, info) => {
    // The checker throws its coded error and never answers `false`; should it ever, deny.
    if (authChecker({ root, args, context, info }, requirements) !== true) throw forbidden();
    return resolve(root, args, context, info);
  };
  field.extensions = { ...field.extensions, [SYNCHRONOUSLY_AUTHORIZED]: true };
}

/**
 * Query and Mutation fields whose method takes only the context and the info. Their resolver
 * classes take no constructor arguments and the schema has no container (schema.ts), so one
 * instance serves all. Only the classes the schema was built from count, as in type-graphql:
 * another loaded class with a method of the same name must not replace a field's resolver.
 */
function authorizeRootFields(schema: GraphQLSchema, storage: MetadataStorage, options: BuildSchemaOptions): void {
  const byType: Array<[GraphQLObjectType | null | undefined, ResolverMetadata[]]> = [
    [schema.getQueryType(), storage.queries],
    [schema.getMutationType(), storage.mutations],
  ];
  const instances = new Map<Function, ResolverInstance>();
  for (const [type, resolvers] of byType) {
    if (!type) continue;
    const fields = type.getFields();
    const built = builtResolvers(resolvers, options);
    for (const resolver of built) {
      if (built.filter((other) => other.schemaName === resolver.schemaName).length > 1) {
        throw new Error(`authorizeSynchronously: two resolvers define ${type.name}.${resolver.schemaName}`);
      }
      const field = fields[resolver.schemaName];
      const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
      const takesNoDependencies = resolver.target.length === 0;
      if (
        !field ||
        !resolver.roles ||
        (resolver.middlewares?.length ?? 0) > 0 ||
        !params.every(isContextOrInfo) ||
        !takesNoDependencies
      )
        continue;
      let instance = instances.get(resolver.target);
      if (!instance) instances.set(resolver.target, (instance = new (resolver.target as new () => ResolverInstance)()));
      const method = instance[resolver.methodName].bind(instance);
      guard(field as GraphQLField<unknown, Context>, resolver.roles as Requirement[], (_root, _args, context, info) =>
        method(...params.map((param) => (param.kind === 'info' ? info : contextParam(param, context)))),
      );
    }
  }
}

function isContextOrInfo(param: ParamMetadata): boolean {
  return param.kind === 'context' || param.kind === 'info';
}

function contextParam(param: ParamMetadata, context: Context): unknown {
  return param.kind === 'context' && param.propertyName ? context[param.propertyName as keyof Context] : context;
}

/**
 * Plain properties (no field resolver, no arguments, no middleware): a guarded one such as
 * User.email gets the synchronous guard; an unguarded one such as User.username is read directly,
 * instead of through type-graphql's wrapper, which builds an empty middleware chain per field.
 */
function authorizeProperties(schema: GraphQLSchema, storage: MetadataStorage): void {
  for (const objectType of storage.objectTypes) {
    const type = schema.getType(objectType.name);
    if (!(type instanceof GraphQLObjectType)) continue;
    const schemaFields = type.getFields();
    for (const field of objectType.fields ?? []) {
      const hasFieldResolver = storage.fieldResolvers.some(
        (resolver) => resolver.schemaName === field.schemaName && resolver.getObjectType?.() === objectType.target,
      );
      const schemaField = schemaFields[field.schemaName] as GraphQLField<unknown, Context> | undefined;
      if ((field.middlewares?.length ?? 0) > 0 || (field.params?.length ?? 0) > 0 || hasFieldResolver || !schemaField)
        continue;
      const property = field.name;
      const read = (root: unknown) => (root as Record<string, unknown>)[property];
      if (field.roles) guard(schemaField, field.roles as Requirement[], read);
      else schemaField.resolve = read;
      schemaField.extensions = { ...schemaField.extensions, [PLAIN_PROPERTY]: (field.roles ?? []) as Requirement[] };
    }
  }
}
