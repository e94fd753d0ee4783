// Which resolver method defines each Query, Mutation and Subscription field of a built schema.
// Only the classes the schema was built from count, as in type-graphql: another loaded class with
// a method of the same name defines nothing.
import type { GraphQLField, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
export type ResolverMetadata = MetadataStorage['queries'][number];

export interface RootFieldResolver {
  readonly type: GraphQLObjectType;
  readonly field: GraphQLField<unknown, unknown>;
  /** Undefined for a field no built class defines (none in a schema type-graphql built). */
  readonly resolver: ResolverMetadata | undefined;
}

/** `resolverClasses` are the `resolvers` the schema was built with. */
export function rootFieldResolvers(schema: GraphQLSchema, resolverClasses: readonly unknown[]): RootFieldResolver[] {
  const storage = getMetadataStorage();
  const classes = new Set(resolverClasses);
  const byType: Array<[GraphQLObjectType | null | undefined, readonly ResolverMetadata[]]> = [
    [schema.getQueryType(), storage.queries],
    [schema.getMutationType(), storage.mutations],
    [schema.getSubscriptionType(), storage.subscriptions],
  ];
  const rows: RootFieldResolver[] = [];
  for (const [type, all] of byType) {
    if (!type) continue;
    const built = all.filter((resolver) => classes.has(resolver.target));
    for (const field of Object.values(type.getFields())) {
      const defining = built.filter((resolver) => resolver.schemaName === field.name);
      if (defining.length > 1) throw new Error(`two resolver methods define ${type.name}.${field.name}`);
      rows.push({ type, field, resolver: defining[0] });
    }
  }
  return rows;
}
