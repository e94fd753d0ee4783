import type { GraphQLSchema } from 'graphql';
import { Extensions, getMetadataStorage, type BuildSchemaOptions } from 'type-graphql';
import { builtResolvers } from './synchronous-authorization.js';

export const ANSWERED_FROM_VIEWER = 'answeredFromViewer';

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
 * answer would skip it) or asks more than a signed-in viewer. `options` are the ones the schema
 * was built with: only their resolver classes count.
 */
export function assertAnsweredFromViewerFields(schema: GraphQLSchema, options: BuildSchemaOptions): void {
  const queries = builtResolvers(getMetadataStorage().queries, options);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      if (field.extensions?.[ANSWERED_FROM_VIEWER] !== true) continue;
      const resolver = queries.find((query) => query.schemaName === field.name);
      const bareAuthorized =
        resolver?.roles !== undefined && resolver.roles.length === 0 && (resolver.middlewares?.length ?? 0) === 0;
      if (
        type !== schema.getQueryType() ||
        field.args.length > 0 ||
        !bareAuthorized ||
        options.globalMiddlewares?.length
      ) {
        throw new Error(
          `@AnsweredFromViewer on ${type!.name}.${field.name}: only for queries without arguments guarded by a bare @Authorized()`,
        );
      }
    }
  }
}
