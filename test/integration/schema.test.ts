// The schema as a contract: the committed schema.graphql is what the code emits, every root field
// is explicitly public or guarded (deny by default), and the migrations build exactly the tables
// the entities describe.
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphQLObjectType } from 'graphql';
import { Authorized, buildSchema, Ctx, Query, Resolver } from 'type-graphql';
import { authChecker } from '../../src/graphql/auth-checker.js';
import { AuthResolver } from '../../src/graphql/resolvers/auth.resolver.js';
import { buildTesseraSchema, describeRootFieldAccess, renderSchemaFile } from '../../src/graphql/schema.js';
import { SYNCHRONOUSLY_AUTHORIZED } from '../../src/graphql/synchronous-authorization.js';
import { onlyError } from '../helpers/graphql-client.js';
import { createAdmin } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PUBLIC_FIELDS = ['Mutation.login', 'Mutation.refresh', 'Mutation.signup'];

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

describe('schema.graphql', () => {
  test('equals the schema emitted from the code', async () => {
    const committed = await readFile(path.resolve('schema.graphql'), 'utf8');
    expect(committed).toBe(renderSchemaFile(await buildTesseraSchema()));
  });

  test('declares every root field of the issue 2 contract', async () => {
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

  test('makes only signup, login and refresh public', async () => {
    const rows = describeRootFieldAccess(await buildTesseraSchema());
    const publicFields = rows.filter((row) => row.access === 'public').map((row) => `${row.type}.${row.field}`);
    expect(publicFields.sort()).toEqual(PUBLIC_FIELDS);
  });

  test('reports a root field without @Public or @Authorized as unguarded', async () => {
    const schema = await buildSchema({ resolvers: [AuthResolver, ForgottenResolver], authChecker, validate: false });
    const rows = describeRootFieldAccess(schema);
    expect(rows).toContainEqual({ type: 'Query', field: 'forgotten', access: 'unguarded' });
    expect(rows).toContainEqual({ type: 'Mutation', field: 'login', access: 'public' });
  });
});

describe('synchronous authorization', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app?.stop());

  test('covers exactly the guarded fields that take no arguments, and no class outside the schema', async () => {
    const schema = await buildTesseraSchema();
    const covered: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.extensions?.[SYNCHRONOUSLY_AUTHORIZED as unknown as string])
          covered.push(`${type.name}.${field.name}`);
      }
    }
    expect(covered.sort()).toEqual([
      'Mutation.deleteMyAccount',
      'Query.allTasks',
      'Query.me',
      'Query.mySessions',
      'Query.myTasks',
      'User.email',
    ]);
    expect(ImpostorResolver).toBeDefined();
  });

  test.each(['{ me { id } }', '{ myTasks { id } }', '{ mySessions { id } }', 'mutation { deleteMyAccount }'])(
    'refuses %s without a token as TOKEN_MISSING',
    async (operation) => {
      const error = onlyError(await app.client.request(operation));
      expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
    },
  );

  test('keeps users ADMIN-only although a loaded class outside the schema declares a looser users', async () => {
    const user = await app.client.signup('plainuser');
    const error = onlyError(await app.client.request('{ users { id } }', {}, { token: user.accessToken }));
    expect(error.extensions?.code).toBe('FORBIDDEN');
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
