// type-graphql applies @Authorized through its async middleware chain: five promises and a
// microtask hop per guarded field, and a field that returns a promise sends graphql-js down its
// asynchronous completion path for the whole response. For fields marked @FastAuthorized with
// nothing else to run (no middleware, no argument), this runs the schema's own authChecker with
// the same requirements in the same tick, so that `me` executes without a promise.
import { GraphQLObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import {
  AuthenticationError,
  AuthorizationError,
  Extensions,
  getMetadataStorage,
  type AuthChecker,
  type AuthCheckerFn as TypeGraphQLAuthCheckerFn,
  type BuildSchemaOptions,
} from 'type-graphql';
import { rootFieldResolvers, type ResolverMetadata } from '../root-field-resolvers.js';

type ParamMetadata = NonNullable<ResolverMetadata['params']>[number];
type ResolverInstance = Record<string, (...params: unknown[]) => unknown>;
type Field = GraphQLField<unknown, Record<string, unknown>>;
type Resolve = GraphQLFieldResolver<unknown, Record<string, unknown>, Record<string, unknown>>;
type AuthCheckerFn = TypeGraphQLAuthCheckerFn<Record<string, unknown>, string>;

const FAST_AUTHORIZED = 'fastAuthorized';

/** Where a field's check now runs synchronously (for tests and reviews). */
export const SYNCHRONOUSLY_AUTHORIZED = Symbol('synchronouslyAuthorized');

/**
 * A field now read straight from its root. The extension's value is the field's requirements
 * (none when unguarded): the value is a function of the root and of what they check.
 */
export const PLAIN_PROPERTY = Symbol('plainProperty');

/**
 * Opts a field into the synchronous check: a resolver method taking only @Ctx() and @Info(), or
 * a plain @Field property. On an @ObjectType class it opts in every plain property of the type.
 * Unmarked fields keep type-graphql's own resolvers.
 */
export function FastAuthorized(): MethodDecorator & PropertyDecorator & ClassDecorator {
  return Extensions({ [FAST_AUTHORIZED]: true });
}

function isMarked(extensions: Readonly<Record<string, unknown>> | null | undefined): boolean {
  return extensions?.[FAST_AUTHORIZED] === true;
}

/**
 * `options` are the ones the schema was built with. Root fields step aside under a container
 * (their instances are the container's, possibly per request); guarded fields step aside for an
 * authChecker class, which type-graphql resolves through the container.
 */
export function authorizeSynchronously(schema: GraphQLSchema, options: BuildSchemaOptions): void {
  const checker = checkerFunction(options.authChecker);
  const authMode = options.authMode ?? 'error';
  const guard = (field: Field, requirements: readonly string[], resolve: Resolve): void => {
    field.resolve = guarded(checker!, authMode, requirements, resolve);
    field.extensions = { ...field.extensions, [SYNCHRONOUSLY_AUTHORIZED]: true };
  };
  if (checker && !options.container) authorizeRootFields(schema, options, guard);
  authorizeProperties(schema, checker !== undefined, guard);
}

/** type-graphql calls an authChecker with a prototype a class, and asks the container for it. */
function checkerFunction(checker: AuthChecker | undefined): AuthCheckerFn | undefined {
  return typeof checker === 'function' && checker.prototype === undefined ? (checker as AuthCheckerFn) : undefined;
}

/** What type-graphql's auth middleware does, without its promises when the checker has none. */
function guarded(
  checker: AuthCheckerFn,
  authMode: NonNullable<BuildSchemaOptions['authMode']>,
  requirements: readonly string[],
  resolve: Resolve,
): Resolve {
  const roles = [...requirements];
  return (root, args, context, info) => {
    const decide = (granted: boolean): unknown => {
      if (granted) return resolve(root, args, context, info);
      if (authMode === 'null') return null;
      throw roles.length === 0 ? new AuthenticationError() : new AuthorizationError();
    };
    const granted = checker({ root, args, context, info }, roles);
    return granted instanceof Promise ? granted.then(decide) : decide(granted);
  };
}

/**
 * Marked Query and Mutation fields whose method takes only the context and the info. Their
 * classes take no constructor arguments and the schema has no container, so one instance, made
 * as type-graphql's default container makes it, serves all.
 */
function authorizeRootFields(
  schema: GraphQLSchema,
  options: BuildSchemaOptions,
  guard: (field: Field, requirements: readonly string[], resolve: Resolve) => void,
): void {
  const instances = new Map<ResolverMetadata['target'], ResolverInstance>();
  for (const { type, field, resolver } of rootFieldResolvers(schema, options.resolvers)) {
    if (type === schema.getSubscriptionType() || !resolver || !isMarked(field.extensions)) continue;
    const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
    if (
      !resolver.roles ||
      (resolver.middlewares?.length ?? 0) > 0 ||
      !params.every(isContextOrInfo) ||
      resolver.target.length !== 0
    )
      throw new Error(
        `@FastAuthorized on ${type.name}.${field.name}: only for an @Authorized method without middlewares that takes only @Ctx() and @Info()`,
      );
    let instance = instances.get(resolver.target);
    if (!instance) instances.set(resolver.target, (instance = new (resolver.target as new () => ResolverInstance)()));
    const method = instance[resolver.methodName].bind(instance);
    guard(field as Field, resolver.roles as string[], (_root, _args, context, info) =>
      method(...params.map((param) => (param.kind === 'info' ? info : contextParam(param, context)))),
    );
  }
}

function isContextOrInfo(param: ParamMetadata): boolean {
  return param.kind === 'context' || param.kind === 'info';
}

function contextParam(param: ParamMetadata, context: Record<string, unknown>): unknown {
  return param.kind === 'context' && param.propertyName ? context[param.propertyName] : context;
}

/**
 * Marked plain properties (no field resolver, no arguments, no middleware): a guarded one such as
 * User.email gets the synchronous guard; an unguarded one such as User.username is read directly,
 * instead of through type-graphql's wrapper, which builds an empty middleware chain per field.
 */
function authorizeProperties(
  schema: GraphQLSchema,
  canGuard: boolean,
  guard: (field: Field, requirements: readonly string[], resolve: Resolve) => void,
): void {
  const storage = getMetadataStorage();
  for (const objectType of storage.objectTypes) {
    const type = schema.getType(objectType.name);
    if (!(type instanceof GraphQLObjectType)) continue;
    const wholeTypeMarked = isMarked(type.extensions);
    const schemaFields = type.getFields();
    for (const field of objectType.fields ?? []) {
      const schemaField = schemaFields[field.schemaName] as Field | undefined;
      if (!schemaField || !(wholeTypeMarked || isMarked(schemaField.extensions))) continue;
      const hasFieldResolver = storage.fieldResolvers.some(
        (resolver) => resolver.schemaName === field.schemaName && resolver.getObjectType?.() === objectType.target,
      );
      if ((field.middlewares?.length ?? 0) > 0 || (field.params?.length ?? 0) > 0 || hasFieldResolver) continue;
      if (field.roles && !canGuard) continue;
      const property = field.name;
      const read: Resolve = (root) => (root as Record<string, unknown>)[property];
      if (field.roles) guard(schemaField, field.roles as string[], read);
      else schemaField.resolve = read;
      schemaField.extensions = { ...schemaField.extensions, [PLAIN_PROPERTY]: (field.roles ?? []) as string[] };
    }
  }
}
