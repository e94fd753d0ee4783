import type { GraphQLField, GraphQLSchema } from 'graphql';
import { Extensions, type BuildSchemaOptions } from 'type-graphql';
import { rootFieldResolvers } from '../root-field-resolvers.js';

const ANSWERED_FROM_VIEWER = 'answeredFromViewer';

/** Set by the fast paths on a marked field they checked: only these are answered from memory. */
const REMEMBERED = Symbol('answeredFromViewer');

/**
 * Marks a root query field whose value is a function of the viewer's user alone (`me`): no
 * argument, no database, nothing from the session or the token. A query made only of such fields
 * and plain properties below them is answered again from the viewer's cached result
 * (viewer-result-cache.ts). The field must be @Authorized() with no roles or rules.
 */
export function AnsweredFromViewer(): MethodDecorator {
  return Extensions({ [ANSWERED_FROM_VIEWER]: true });
}

/**
 * Refuses a marked field that takes arguments, is not a query, has a middleware (a remembered
 * answer would skip it) or asks more than a signed-in viewer; then lets the others be answered
 * from memory, unless the schema has a container (a remembered answer would skip asking it for
 * the resolver). `options` are the ones the schema was built with.
 */
export function rememberAnsweredFromViewer(schema: GraphQLSchema, options: BuildSchemaOptions): void {
  for (const { type, field, resolver } of rootFieldResolvers(schema, options.resolvers)) {
    if (field.extensions?.[ANSWERED_FROM_VIEWER] !== true) continue;
    const bareAuthorized =
      resolver?.roles !== undefined && resolver.roles.length === 0 && (resolver.middlewares?.length ?? 0) === 0;
    if (type !== schema.getQueryType() || field.args.length > 0 || !bareAuthorized) {
      throw new Error(
        `@AnsweredFromViewer on ${type.name}.${field.name}: only for queries without arguments guarded by a bare @Authorized()`,
      );
    }
    if (!options.container) field.extensions = { ...field.extensions, [REMEMBERED]: true };
  }
}

export function isAnsweredFromViewer(field: GraphQLField<unknown, unknown>): boolean {
  return (field.extensions as Record<symbol, unknown> | undefined)?.[REMEMBERED] === true;
}
