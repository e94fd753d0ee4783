// type-graphql applies @Authorized through its async middleware chain even on a plain property,
// so one guarded field (User.email) turns the completion of every User into promise work. For a
// guarded property that has nothing else to run (no middleware, no field resolver) this applies
// the same authChecker, with the same requirements, synchronously. The bench measured the `me`
// request's server CPU with and without it (README, Performance).
import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { authChecker, type Requirement } from './auth-checker.js';
import type { Context } from './context.js';
import { forbidden } from './errors.js';

export function authorizePropertiesSynchronously(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
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
      const requirements = field.roles as Requirement[];
      const property = field.name;
      schemaField.resolve = (root: Record<string, unknown>, args, context: Context, info) => {
        // The checker throws its coded error; a bare `false` would be type-graphql's FORBIDDEN too.
        if (authChecker({ root, args, context, info }, requirements) !== true) throw forbidden();
        return root[property];
      };
    }
  }
}
