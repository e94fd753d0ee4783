// The schema as a contract: the committed schema.graphql is what the code emits, every root field
// is explicitly public or guarded (deny by default), and the migrations build exactly the tables
// the entities describe.
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildSchema, Query, Resolver } from 'type-graphql';
import { authChecker } from '../../src/graphql/auth-checker.js';
import { AuthResolver } from '../../src/graphql/resolvers/auth.resolver.js';
import { buildTesseraSchema, describeRootFieldAccess, renderSchemaFile } from '../../src/graphql/schema.js';
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
