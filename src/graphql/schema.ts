// The executable schema, and its printed form committed as schema.graphql.
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage, type BuildSchemaOptions } from 'type-graphql';
import './enums.js';
import { authChecker } from './auth-checker.js';
import { applyFastPaths } from './fast-path/index.js';
import { AccountResolver } from './resolvers/account.resolver.js';
import { AdminResolver } from './resolvers/admin.resolver.js';
import { AuthResolver } from './resolvers/auth.resolver.js';
import { EmailVerificationResolver } from './resolvers/email-verification.resolver.js';
import { PasswordResetResolver } from './resolvers/password-reset.resolver.js';
import { TwoFactorResolver } from './resolvers/two-factor.resolver.js';
import { EmailChangeResolver } from './resolvers/email-change.resolver.js';
import { MfaLoginResolver } from './resolvers/mfa-login.resolver.js';
import { RegistrationResolver } from './resolvers/registration.resolver.js';
import { SessionResolver } from './resolvers/session.resolver.js';
import { TaskResolver } from './resolvers/task.resolver.js';
import { UserResolver } from './resolvers/user.resolver.js';
import { rootFieldResolvers } from './root-field-resolvers.js';

export const RESOLVERS = [
  AuthResolver,
  AccountResolver,
  SessionResolver,
  UserResolver,
  TaskResolver,
  AdminResolver,
  EmailVerificationResolver,
  PasswordResetResolver,
  RegistrationResolver,
  EmailChangeResolver,
  TwoFactorResolver,
  MfaLoginResolver,
] as const;

const BUILD_OPTIONS = {
  resolvers: RESOLVERS,
  authChecker,
  // A denied nullable field resolves to null with its error; a denied non-null one fails its parent.
  authMode: 'error',
  validate: false,
} satisfies BuildSchemaOptions;

export interface SchemaOptions {
  /** The fields Tessera marks take the fast paths (config `GRAPHQL_FAST_PATHS`); default on. */
  fastPaths?: boolean;
  /** Resolver classes built beside RESOLVERS, under the same rules (a test's own fields). */
  extraResolvers?: readonly (new () => object)[];
}

export async function buildTesseraSchema({
  fastPaths = true,
  extraResolvers = [],
}: SchemaOptions = {}): Promise<GraphQLSchema> {
  const options = { ...BUILD_OPTIONS, resolvers: [...RESOLVERS, ...extraResolvers] } satisfies BuildSchemaOptions;
  const schema = await buildSchema(options);
  assertEveryRootFieldGuarded(schema, options.resolvers);
  if (fastPaths) applyFastPaths(schema, options);
  return schema;
}

export interface RootFieldAccess {
  type: 'Query' | 'Mutation';
  field: string;
  access: 'public' | 'guarded' | 'unguarded';
}

/**
 * How each root field is protected: explicitly @Public, @Authorized, or (a bug) neither.
 * `resolverClasses` are the ones the schema was built from.
 */
export function describeRootFieldAccess(
  schema: GraphQLSchema,
  resolverClasses: readonly unknown[] = RESOLVERS,
): RootFieldAccess[] {
  const storage = getMetadataStorage();
  const guarded = new Set(storage.authorizedFields.map((meta) => `${meta.target.name}.${meta.fieldName}`));
  return rootFieldResolvers(schema, resolverClasses)
    .filter(({ type }) => type !== schema.getSubscriptionType())
    .map(({ type, field, resolver }) => {
      const isGuarded =
        resolver !== undefined &&
        (guarded.has(`${resolver.target.name}.${resolver.methodName}`) ||
          storage.authorizedResolver.some((meta) => meta.target === resolver.target));
      const access = field.extensions?.public === true ? 'public' : isGuarded ? 'guarded' : 'unguarded';
      return { type: type.name as RootFieldAccess['type'], field: field.name, access };
    });
}

function assertEveryRootFieldGuarded(schema: GraphQLSchema, resolverClasses: readonly unknown[]): void {
  const unguarded = describeRootFieldAccess(schema, resolverClasses).filter((row) => row.access === 'unguarded');
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
