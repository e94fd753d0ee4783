// The schema as a contract: the committed schema.graphql is what the code emits, every root field
// is explicitly public or guarded (deny by default), and the migrations build exactly the tables
// the entities describe.
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  getNamedType,
  graphql,
  GraphQLObjectType,
  isNonNullType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import {
  Authorized,
  buildSchema,
  Ctx,
  Query,
  Resolver,
  type BuildSchemaOptions,
  type ContainerType,
  type MiddlewareFn,
} from 'type-graphql';
import type { Context } from '../../src/graphql/context.js';
import { authChecker } from '../../src/graphql/auth-checker.js';
import { applyFastPaths, describeFastPaths } from '../../src/graphql/fast-path/index.js';
import { AuthResolver } from '../../src/graphql/resolvers/auth.resolver.js';
import { UserResolver } from '../../src/graphql/resolvers/user.resolver.js';
import { rootFieldResolvers } from '../../src/graphql/root-field-resolvers.js';
import { buildTesseraSchema, describeRootFieldAccess, renderSchemaFile, RESOLVERS } from '../../src/graphql/schema.js';
import { createAdmin, deactivateUser } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PUBLIC_FIELDS = [
  'Mutation.completeMfaLogin',
  'Mutation.confirmEmailChange',
  'Mutation.login',
  'Mutation.refresh',
  'Mutation.register',
  'Mutation.requestPasswordReset',
  'Mutation.resetPassword',
  'Mutation.signup',
  'Mutation.verifyEmail',
  'Query.viewer',
  'Query.viewerClaims',
];

/** A resolver someone forgot to guard: only ever built into a throwaway schema below. */
@Resolver()
class ForgottenResolver {
  @Query(() => String)
  forgotten(): string {
    return 'secret';
  }
}

/**
 * Loaded but never built into Tessera's schema, with a context-only guarded method named like
 * the ADMIN-only `users`: it must not take that field over.
 */
@Resolver()
class ImpostorResolver {
  @Authorized()
  @Query(() => [String])
  users(@Ctx() _context: unknown): string[] {
    return ['everyone'];
  }
}

/** An application's own resolver, as type-graphql documents it, that nobody marked. */
@Resolver()
class NotesResolver {
  @Authorized()
  @Query(() => [String])
  myNotes(@Ctx() _context: Context): string[] {
    return ['a note'];
  }
}

/** A resolver whose dependency only a DI container can supply. */
@Resolver()
class InjectedResolver {
  constructor(private readonly greeting: string) {}

  @Authorized()
  @Query(() => String)
  injected(@Ctx() _context: Context): string {
    return this.greeting;
  }
}

/** What the authChecker and `me` read of a request's context: a signed-in USER. */
function signedIn(): Context {
  const user = {
    id: 'u1',
    username: 'nora',
    email: 'nora@example.com',
    roles: ['USER'],
    isActive: true,
    createdAt: new Date(),
  };
  return { auth: { viewer: { user, fresh: true } } } as unknown as Context;
}

describe('schema.graphql', () => {
  test('equals the schema emitted from the code', async () => {
    const committed = await readFile(path.resolve('schema.graphql'), 'utf8');
    expect(committed).toBe(renderSchemaFile(await buildTesseraSchema()));
  });

  test('declares every root field of the documented contract', async () => {
    const schema = await buildTesseraSchema();
    const queries = Object.keys(schema.getQueryType()!.getFields());
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(queries).toEqual(expect.arrayContaining(['me', 'user', 'users', 'myTasks', 'task']));
    expect(mutations).toEqual(expect.arrayContaining(['signup', 'login', 'createTask', 'updateTask', 'deleteTask']));
  });
});

describe('deny by default', () => {
  test('lists every Query and Mutation field, each either public or guarded, none unguarded', async () => {
    const schema = await buildTesseraSchema();
    const rows = describeRootFieldAccess(schema);
    const expected = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((field) => `Query.${field}`),
      ...Object.keys(schema.getMutationType()!.getFields()).map((field) => `Mutation.${field}`),
    ];
    expect(rows.map((row) => `${row.type}.${row.field}`).sort()).toEqual(expected.sort());
    expect(rows.filter((row) => row.access === 'unguarded')).toEqual([]);
    expect(rows.every((row) => row.access === 'public' || row.access === 'guarded')).toBe(true);
  });

  test('makes only the ways in, the mailed links and the optional viewer fields public', async () => {
    const rows = describeRootFieldAccess(await buildTesseraSchema());
    const publicFields = rows.filter((row) => row.access === 'public').map((row) => `${row.type}.${row.field}`);
    expect(publicFields.sort()).toEqual(PUBLIC_FIELDS);
  });

  test('reports a root field without @Public or @Authorized as unguarded', async () => {
    const resolvers = [AuthResolver, ForgottenResolver] as const;
    const schema = await buildSchema({ resolvers, authChecker, validate: false });
    const rows = describeRootFieldAccess(schema, resolvers);
    expect(rows).toContainEqual({ type: 'Query', field: 'forgotten', access: 'unguarded' });
    expect(rows).toContainEqual({ type: 'Mutation', field: 'login', access: 'public' });
  });
});

describe('the fast paths', () => {
  test('take only fields someone marked, and none with GRAPHQL_FAST_PATHS off', async () => {
    const schema = await buildTesseraSchema();
    const fast = describeFastPaths(schema);
    expect(fast.length).toBeGreaterThan(0);
    for (const { type, field } of fast) {
      const graphqlType = schema.getType(type) as GraphQLObjectType;
      const marked =
        graphqlType.extensions?.fastAuthorized === true ||
        graphqlType.getFields()[field].extensions?.fastAuthorized === true;
      expect(`${type}.${field}: ${marked}`).toBe(`${type}.${field}: true`);
    }
    expect(describeFastPaths(await buildTesseraSchema({ fastPaths: false }))).toEqual([]);
  });

  test('find each root field in the classes the schema was built from, never in another loaded class', async () => {
    const rows = rootFieldResolvers(await buildTesseraSchema(), RESOLVERS);
    const users = rows.find((row) => row.field.name === 'users');
    expect(users?.resolver?.target).toBe(UserResolver);
    expect(rows.some((row) => row.resolver?.target === ImpostorResolver)).toBe(false);
  });

  test('leave an unmarked context-only @Authorized field to type-graphql', async () => {
    const options = {
      resolvers: [UserResolver, NotesResolver],
      authChecker,
      authMode: 'error',
      validate: false,
    } satisfies BuildSchemaOptions;
    const schema = await buildSchema(options);
    const before = schema.getQueryType()!.getFields().myNotes.resolve;
    applyFastPaths(schema, options);
    expect(schema.getQueryType()!.getFields().myNotes.resolve).toBe(before);
    expect(describeFastPaths(schema).map((row) => `${row.type}.${row.field}`)).toContain('Query.me');
    expect(describeFastPaths(schema).map((row) => `${row.type}.${row.field}`)).not.toContain('Query.myNotes');
    const result = await graphql({ schema, source: '{ myNotes }', contextValue: signedIn() });
    expect(result).toEqual({ data: { myNotes: ['a note'] } });
  });

  test('step aside for a global middleware and a container, which then run as type-graphql documents', async () => {
    const seen: string[] = [];
    const recordField: MiddlewareFn = ({ info }, next) => {
      seen.push(`${info.parentType.name}.${info.fieldName}`);
      return next();
    };
    const container: ContainerType = {
      get: (someClass: new (...args: unknown[]) => unknown) =>
        someClass === InjectedResolver ? new InjectedResolver('from the container') : new someClass(),
    };
    const options = {
      resolvers: [UserResolver, InjectedResolver],
      authChecker,
      validate: false,
      container,
      globalMiddlewares: [recordField],
    } satisfies BuildSchemaOptions;
    const schema = await buildSchema(options);
    expect(() => applyFastPaths(schema, options)).not.toThrow();
    expect(describeFastPaths(schema)).toEqual([]);
    const result = await graphql({ schema, source: '{ me { username } injected }', contextValue: signedIn() });
    expect(result).toEqual({ data: { me: { username: 'nora' }, injected: 'from the container' } });
    expect(seen.sort()).toEqual(['Query.injected', 'Query.me', 'User.username']);
  });

  test('with a container alone, leave every root field to type-graphql and its container', async () => {
    const container: ContainerType = { get: () => new InjectedResolver('from the container') };
    const options = {
      resolvers: [InjectedResolver],
      authChecker,
      validate: false,
      container,
    } satisfies BuildSchemaOptions;
    const schema = await buildSchema(options);
    applyFastPaths(schema, options);
    expect(describeFastPaths(schema).filter((row) => row.type === 'Query')).toEqual([]);
    const result = await graphql({ schema, source: '{ injected }', contextValue: signedIn() });
    expect(result).toEqual({ data: { injected: 'from the container' } });
  });
});

describe('every fast path refuses exactly whom type-graphql refuses', () => {
  let fast: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    fast = await startTestServer();
    plain = await startTestServer({ GRAPHQL_FAST_PATHS: 'false' });
  });
  afterAll(async () => {
    await fast?.stop();
    await plain?.stop();
  });

  const CALLERS = ['anonymous', 'bad token', 'user', 'admin', 'refreshed', 'deactivated', 'logged out'] as const;
  type Caller = { token?: string; userId?: string };

  /** The same caller, made the same way on a server; `name` keeps each set apart. */
  async function makeCaller(app: TestServer, kind: (typeof CALLERS)[number], name: string): Promise<Caller> {
    if (kind === 'anonymous') return {};
    if (kind === 'bad token') return { token: 'not.a.token' };
    if (kind === 'admin') {
      const admin = await createAdmin(app, name);
      return { token: admin.accessToken, userId: admin.user.id };
    }
    const signedUp = await app.client.signup(name);
    const caller = { token: signedUp.accessToken, userId: signedUp.user.id };
    if (kind === 'refreshed') {
      const refreshed = await app.client.request(
        'mutation ($t: String) { refresh(refreshToken: $t) { accessToken } }',
        {
          t: signedUp.refreshToken,
        },
      );
      return { ...caller, token: (refreshed.data as { refresh: { accessToken: string } }).refresh.accessToken };
    }
    if (kind === 'deactivated') await deactivateUser(app, signedUp.user.id);
    if (kind === 'logged out') await app.client.request('mutation { logout }', {}, { token: signedUp.accessToken });
    return caller;
  }

  /** Ids and dates differ between the two databases; everything else must not. */
  function normalized(result: Awaited<ReturnType<TestServer['client']['request']>>): string {
    const body = JSON.stringify({
      status: result.status,
      data: result.data,
      errors: result.errors?.map((error) => ({
        message: error.message,
        path: error.path,
        code: error.extensions?.code,
        reason: error.extensions?.reason,
      })),
    });
    return body
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'DATE');
  }

  /** Operations that reach a field: directly for a root field, else through each root query returning its type. */
  function routesTo(
    schema: GraphQLSchema,
    typeName: string,
    fieldName: string,
  ): Array<(subject: Caller, self: Caller) => string> {
    const type = schema.getType(typeName) as GraphQLObjectType;
    const selection = (field: GraphQLField<unknown, unknown>) =>
      getNamedType(field.type) instanceof GraphQLObjectType ? `${field.name} { __typename }` : field.name;
    const inner = selection(type.getFields()[fieldName]);
    if (type === schema.getQueryType()) return [() => `{ ${inner} }`];
    if (type === schema.getMutationType()) return [() => `mutation { ${inner} }`];
    const routes: Array<(subject: Caller, self: Caller) => string> = [];
    for (const root of Object.values(schema.getQueryType()!.getFields())) {
      if (getNamedType(root.type) !== type) continue;
      const required = root.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
      if (required.length === 0) routes.push(() => `{ ${root.name} { ${inner} } }`);
      else if (typeName === 'User' && required.length === 1 && required[0].name === 'id') {
        routes.push((subject) => `{ ${root.name}(id: "${subject.userId}") { ${inner} } }`);
        routes.push((subject, self) => `{ ${root.name}(id: "${self.userId ?? subject.userId}") { ${inner} } }`);
      }
    }
    return routes;
  }

  test('for every guarded field on a fast path and every kind of caller, with the same codes and reasons', async () => {
    const schema = await buildTesseraSchema();
    const guarded = describeFastPaths(schema).filter(
      (row) => row.paths.includes('synchronous-authorization') || row.paths.includes('answered-from-viewer'),
    );
    expect(guarded.length).toBeGreaterThan(0);
    const subjects = await Promise.all([fast, plain].map((app) => makeCaller(app, 'user', 'subject')));
    const shared = new Map<string, Caller[]>();
    let refused = 0;
    let answered = 0;
    let n = 0;
    for (const { type, field } of guarded) {
      const routes = routesTo(schema, type, field);
      expect(`${type}.${field}: ${routes.length > 0}`).toBe(`${type}.${field}: true`);
      for (const route of routes) {
        // A mutation may change its caller (deleteMyAccount): each gets callers of its own.
        const own = type === schema.getMutationType()?.name;
        for (const kind of CALLERS) {
          const name = own ? `caller${n++}` : kind.replace(' ', '-');
          const callers =
            (!own && shared.get(kind)) || (await Promise.all([fast, plain].map((app) => makeCaller(app, kind, name))));
          if (!own) shared.set(kind, callers);
          const answers: string[][] = [];
          for (const [index, app] of [fast, plain].entries()) {
            const operation = route(subjects[index], callers[index]);
            // Twice: the second may be a remembered answer.
            const first = await app.client.request(operation, {}, { token: callers[index].token });
            const second = own ? first : await app.client.request(operation, {}, { token: callers[index].token });
            answers.push([normalized(first), normalized(second)]);
          }
          const operation = route(subjects[0], callers[0]);
          expect(`${kind}: ${operation}: ${answers[0].join(' then ')}`).toBe(
            `${kind}: ${operation}: ${answers[1].join(' then ')}`,
          );
          if (answers[1][0].includes('"errors":[')) refused++;
          else answered++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
  });
});

describe('migrations', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app?.stop());

  /** The SQL MikroORM would run to bring the database to the entities, minus session settings. */
  async function pendingSchemaChanges(): Promise<string[]> {
    const sql = await app.orm.schema.getUpdateSchemaSQL();
    return sql
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^set names\b/i.test(line) && !/^set session_replication_role\b/i.test(line));
  }

  test('leave no difference between the entities and a freshly migrated database', async () => {
    expect(await pendingSchemaChanges()).toEqual([]);
  });

  test('still leave no difference once the server has written users, sessions, tasks, events and throttle counters', async () => {
    const admin = await createAdmin(app);
    await app.client.request('mutation { createTask(title: "t") { id } }', {}, { token: admin.accessToken });
    await app.client.login('admin', 'a wrong password');
    await app.client.request('mutation { refresh(refreshToken: "x") { accessToken } }');
    expect(await pendingSchemaChanges()).toEqual([]);
  });

  // Last: it damages this file's database on purpose, to show the check above can fail.
  test('would notice a column that the database lacks', async () => {
    await app.orm.em.fork().getConnection().execute('alter table tasks drop column done');
    const changes = (await pendingSchemaChanges()).join('\n');
    expect(changes).toMatch(/alter table "tasks" add (column )?"done"/i);
  });
});
