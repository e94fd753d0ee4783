// Queries answered from the viewer's user alone (`me`) are served from that user's previous
// result (src/graphql/fast-path/viewer-result-cache.ts). These tests show the result never outlives what it
// was computed from, never reaches another viewer, and never stands in for a check.
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { Authorized, buildSchema, Query, Resolver, UseMiddleware, type BuildSchemaOptions } from 'type-graphql';
import { AnsweredFromViewer, rememberAnsweredFromViewer } from '../../src/graphql/fast-path/answered-from-viewer.js';
import { buildTesseraSchema } from '../../src/graphql/schema.js';
import { answersFromViewerOnly } from '../../src/graphql/fast-path/viewer-result-cache.js';
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import { claimsOf, sleep, untilJustAfterSecond } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ME = '{ me { id username email roles } }';
const SET_ROLES =
  'mutation Roles($userId: ID!, $roles: [Role!]!) { setUserRoles(userId: $userId, roles: $roles) { roles } }';
const SET_ACTIVE =
  'mutation Active($userId: ID!, $active: Boolean!) { setUserActive(userId: $userId, active: $active) { isActive } }';

let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  app = await startTestServer();
  admin = await createAdmin(app);
});
afterAll(() => app.stop());

const me = (token: string, query = ME) => app.client.request(query, {}, { token });

test('a repeated me answers each viewer with their own user, never another', async () => {
  const olga = await app.client.signup('olga');
  const pavel = await app.client.signup('pavel');
  for (let round = 0; round < 3; round++) {
    expect((await me(olga.accessToken)).data.me).toEqual({
      id: olga.user.id,
      username: 'olga',
      email: 'olga@example.com',
      roles: ['USER'],
    });
    expect((await me(pavel.accessToken)).data.me).toEqual({
      id: pavel.user.id,
      username: 'pavel',
      email: 'pavel@example.com',
      roles: ['USER'],
    });
  }
});

test('a role change shows in the very next me', async () => {
  const rita = await app.client.signup('rita');
  expect((await me(rita.accessToken)).data.me.roles).toEqual(['USER']);
  expect((await me(rita.accessToken)).data.me.roles).toEqual(['USER']);
  const granted = await app.client.request(
    SET_ROLES,
    { userId: rita.user.id, roles: ['USER', 'ADMIN'] },
    { token: admin.accessToken },
  );
  expect(granted.errors).toBeUndefined();
  expect((await me(rita.accessToken)).data.me.roles).toEqual(['USER', 'ADMIN']);
});

test('a session ended by logout is refused with TOKEN_REVOKED, not answered from memory', async () => {
  const sami = await app.client.signup('sami');
  expect((await me(sami.accessToken)).errors).toBeUndefined();
  expect((await me(sami.accessToken)).errors).toBeUndefined();
  expect((await app.client.request('mutation { logout }', {}, { token: sami.accessToken })).data?.logout).toBe(true);
  const refused = await me(sami.accessToken);
  expect(refused.data).toBeNull();
  expect(onlyError(refused).extensions?.reason).toBe('TOKEN_REVOKED');
});

test('a deactivated user is refused at once', async () => {
  const tara = await app.client.signup('tara');
  expect((await me(tara.accessToken)).errors).toBeUndefined();
  expect((await me(tara.accessToken)).errors).toBeUndefined();
  expect(
    (await app.client.request(SET_ACTIVE, { userId: tara.user.id, active: false }, { token: admin.accessToken }))
      .errors,
  ).toBeUndefined();
  expect(onlyError(await me(tara.accessToken)).extensions?.reason).toBe('TOKEN_REVOKED');
});

test('an expired access token is refused with TOKEN_EXPIRED even after a remembered answer', async () => {
  const shortLived = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '2s' }, app.database);
  try {
    // Leaves the two requests below almost two seconds.
    await untilJustAfterSecond();
    const una = await shortLived.client.signup('una');
    expect((await shortLived.client.request(ME, {}, { token: una.accessToken })).errors).toBeUndefined();
    expect((await shortLived.client.request(ME, {}, { token: una.accessToken })).errors).toBeUndefined();
    await sleep(Math.max(0, claimsOf(una.accessToken).exp * 1000 + 100 - Date.now()));
    expect(onlyError(await shortLived.client.request(ME, {}, { token: una.accessToken })).extensions?.reason).toBe(
      'TOKEN_EXPIRED',
    );
  } finally {
    await shortLived.stop();
  }
});

test('a query that also reads the database runs every time', async () => {
  const vera = await app.client.signup('vera');
  const query = '{ me { id } myTasks { title } }';
  expect((await me(vera.accessToken, query)).data.myTasks).toEqual([]);
  const created = await app.client.request(
    'mutation { createTask(title: "new") { id } }',
    {},
    { token: vera.accessToken },
  );
  expect(created.errors).toBeUndefined();
  expect((await me(vera.accessToken, query)).data.myTasks).toEqual([{ title: 'new' }]);
});

test('with GRAPHQL_FAST_PATHS off, nothing is answered from memory', async () => {
  const plain = await startTestServer({ GRAPHQL_FAST_PATHS: 'false' }, app.database);
  try {
    const wanda = await plain.client.signup('wanda');
    expect(onlyError(await plain.client.request('{ me { id } }')).extensions?.reason).toBe('TOKEN_MISSING');
    for (let round = 0; round < 2; round++) {
      const result = await plain.client.request(ME, {}, { token: wanda.accessToken });
      expect(result.data.me).toEqual({
        id: wanda.user.id,
        username: 'wanda',
        email: 'wanda@example.com',
        roles: ['USER'],
      });
    }
    expect(
      answersFromViewerOnly(
        await buildTesseraSchema({ fastPaths: false }),
        parse(ME).definitions[0] as OperationDefinitionNode,
        parse(ME),
      ),
    ).toBe(false);
  } finally {
    await plain.stop();
  }
});

test('without a token, me is refused every time', async () => {
  for (let round = 0; round < 2; round++) {
    const refused = await app.client.request(ME);
    expect(refused.data).toBeNull();
    expect(onlyError(refused).extensions?.reason).toBe('TOKEN_MISSING');
  }
});

describe('which operations are answered from the viewer alone', () => {
  const cases: Array<[string, boolean]> = [
    ['{ me { id username email roles isActive createdAt } }', true],
    ['{ __typename me { __typename id alias: username } }', true],
    ['query Viewer { ...Mine } fragment Mine on Query { me { ...Fields } } fragment Fields on User { id email }', true],
    ['{ me { ... on User { id } } }', true],
    ['query ($show: Boolean!) { me { id email @include(if: $show) } }', false],
    ['{ me { id } myTasks { id } }', false],
    ['{ mySessions { id } }', false],
    ['{ user(id: "6f1c2a9e-0000-4000-8000-000000000000") { id } }', false],
    ['mutation { logout }', false],
  ];
  let schema: Awaited<ReturnType<typeof buildTesseraSchema>>;
  beforeAll(async () => {
    schema = await buildTesseraSchema();
  });

  test.each(cases)('%s: %s', (source, expected) => {
    const document = parse(source);
    const operation = document.definitions.find(
      (definition) => definition.kind === Kind.OPERATION_DEFINITION,
    ) as OperationDefinitionNode;
    expect(answersFromViewerOnly(schema, operation, document)).toBe(expected);
  });
});

describe('@AnsweredFromViewer is refused where a remembered answer would skip a check', () => {
  @Resolver()
  class BareViewerResolver {
    @Authorized()
    @AnsweredFromViewer()
    @Query(() => String)
    bareViewer(): string {
      return 'bare';
    }
  }

  @Resolver()
  class MiddlewareViewerResolver {
    @Authorized()
    @AnsweredFromViewer()
    @UseMiddleware(async (_data, next) => next())
    @Query(() => String)
    viewerWithMiddleware(): string {
      return 'with a middleware';
    }
  }

  @Resolver()
  class AdminViewerResolver {
    @Authorized('ADMIN')
    @AnsweredFromViewer()
    @Query(() => String)
    adminViewer(): string {
      return 'admins only';
    }
  }

  async function check(resolver: new () => unknown): Promise<void> {
    const options = {
      resolvers: [resolver] as [new () => unknown],
      authChecker: () => true,
      validate: false,
    } satisfies BuildSchemaOptions;
    rememberAnsweredFromViewer(await buildSchema(options), options);
  }

  test('a query under a bare @Authorized() is accepted', async () => {
    await expect(check(BareViewerResolver)).resolves.toBeUndefined();
  });

  test('a query with a middleware is refused', async () => {
    await expect(check(MiddlewareViewerResolver)).rejects.toThrow('viewerWithMiddleware');
  });

  test('a query that requires a role is refused', async () => {
    await expect(check(AdminViewerResolver)).rejects.toThrow('adminViewer');
  });
});
