import type { GraphQLSchema } from 'graphql';
import { Extensions, getMetadataStorage } from 'type-graphql';

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

/** Refuses a marked field that takes arguments, is not a query, or asks more than a signed-in viewer. */
export function assertAnsweredFromViewerFields(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      if (field.extensions?.[ANSWERED_FROM_VIEWER] !== true) continue;
      const resolver = storage.queries.find((query) => query.schemaName === field.name);
      const rule = resolver && storage.authorizedFields.find((meta) => meta.target === resolver.target && meta.fieldName === resolver.methodName);
      if (type !== schema.getQueryType() || field.args.length > 0 || !rule || rule.roles.length > 0) {
        throw new Error(`@AnsweredFromViewer on ${type!.name}.${field.name}: only for queries without arguments guarded by a bare @Authorized()`);
      }
    }
  }
}
