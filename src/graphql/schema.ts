// The executable schema, and its printed form committed as schema.graphql.
import { GraphQLObjectType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage, type BuildSchemaOptions } from 'type-graphql';
import './enums.js';
import { assertAnsweredFromViewerFields } from './answered-from-viewer.js';
import { authChecker } from './auth-checker.js';
import { AccountResolver } from './resolvers/account.resolver.js';
import { AdminResolver } from './resolvers/admin.resolver.js';
import { AuthResolver } from './resolvers/auth.resolver.js';
import { SessionResolver } from './resolvers/session.resolver.js';
import { TaskResolver } from './resolvers/task.resolver.js';
import { UserResolver } from './resolvers/user.resolver.js';
import { authorizeSynchronously } from './synchronous-authorization.js';

export const RESOLVERS = [
  AuthResolver,
  AccountResolver,
  SessionResolver,
  UserResolver,
  TaskResolver,
  AdminResolver,
] as const;

const BUILD_OPTIONS = {
  resolvers: RESOLVERS,
  authChecker,
  // A denied nullable field resolves to null with its error; a denied non-null one fails its parent.
  authMode: 'error',
  validate: false,
  // No container and no global middleware: synchronous-authorization.ts relies on both (it
  // refuses to run otherwise).
} satisfies BuildSchemaOptions;

export async function buildTesseraSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema(BUILD_OPTIONS);
  assertEveryRootFieldGuarded(schema);
  authorizeSynchronously(schema, BUILD_OPTIONS);
  assertAnsweredFromViewerFields(schema, BUILD_OPTIONS);
  return schema;
}

export interface RootFieldAccess {
  type: 'Query' | 'Mutation';
  field: string;
  access: 'public' | 'guarded' | 'unguarded';
}

/** How each root field is protected: explicitly @Public, @Authorized, or (a bug) neither. */
export function describeRootFieldAccess(schema: GraphQLSchema): RootFieldAccess[] {
  const storage = getMetadataStorage();
  const guarded = new Set(storage.authorizedFields.map((meta) => `${meta.target.name}.${meta.fieldName}`));
  const resolverMethods = [...storage.queries, ...storage.mutations];
  const rows: RootFieldAccess[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!(type instanceof GraphQLObjectType)) continue;
    for (const field of Object.values(type.getFields())) {
      const method = resolverMethods.find((meta) => meta.schemaName === field.name);
      const isGuarded =
        method !== undefined &&
        (guarded.has(`${method.target.name}.${method.methodName}`) ||
          storage.authorizedResolver.some((meta) => meta.target === method.target));
      const access = field.extensions?.public === true ? 'public' : isGuarded ? 'guarded' : 'unguarded';
      rows.push({ type: type.name as RootFieldAccess['type'], field: field.name, access });
    }
  }
  return rows;
}

function assertEveryRootFieldGuarded(schema: GraphQLSchema): void {
  const unguarded = describeRootFieldAccess(schema).filter((row) => row.access === 'unguarded');
  if (unguarded.length > 0) {
    throw new Error(
      `deny by default: these root fields are neither @Public nor @Authorized: ${unguarded.map((row) => `${row.type}.${row.field}`).join(', ')}`,
    );
  }
}

const SCHEMA_FILE_HEADER =
  '# Generated from the code by `npm run schema:emit`; a test fails when it is out of date.\n\n';

export function renderSchemaFile(schema: GraphQLSchema): string {
  return SCHEMA_FILE_HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}
