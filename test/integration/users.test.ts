// Reading users: the viewer, another user (whose email only they and ADMINs see), and the
// ADMIN-only paged list (by offset, and by cursor).
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const USER = 'query User($id: ID!) { user(id: $id) { id username email roles isActive createdAt } }';
const USERS =
  'query Users($limit: Int!, $offset: Int!) { users(limit: $limit, offset: $offset) { id username email } }';
const MISSING_ID = '6f1c2a9e-0000-4000-8000-000000000000';

let app: TestServer;
let admin: AuthPayload;
let olga: AuthPayload;
let pavel: AuthPayload;
/** Every account in creation order. */
let everyone: AuthPayload[];

beforeAll(async () => {
  app = await startTestServer();
  // One at a time, so that creation order is well defined.
  admin = await createAdmin(app);
  olga = await app.client.signup('olga');
  pavel = await app.client.signup('pavel');
  const more: AuthPayload[] = [];
  for (const name of ['quinn', 'rosa', 'sven']) more.push(await app.client.signup(name));
  everyone = [admin, olga, pavel, ...more];
});
afterAll(() => app.stop());

describe('me', () => {
  test('returns the viewer with their own email, roles and state', async () => {
    const result = await app.client.request(
      '{ me { id username email roles isActive createdAt } }',
      {},
      { token: olga.accessToken },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.me).toEqual({
      id: olga.user.id,
      username: 'olga',
      email: 'olga@example.com',
      roles: ['USER'],
      isActive: true,
      createdAt: olga.user.createdAt,
    });
  });

  test('returns the ADMIN roles for an admin', async () => {
    const result = await app.client.request('{ me { id roles } }', {}, { token: admin.accessToken });
    expect(result.data.me.id).toBe(admin.user.id);
    expect([...result.data.me.roles].sort()).toEqual(['ADMIN', 'USER']);
  });
});

describe('user(id)', () => {
  test("hides another user's email behind a FORBIDDEN error at that path, showing the rest", async () => {
    const result = await app.client.request(USER, { id: pavel.user.id }, { token: olga.accessToken });
    expect(result.data.user).toMatchObject({
      id: pavel.user.id,
      username: 'pavel',
      email: null,
      roles: ['USER'],
      isActive: true,
    });
    const error = onlyError(result);
    expect(error.path).toEqual(['user', 'email']);
    expect(error.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(result)).not.toContain('pavel@example.com');
  });

  test('shows the user their own email', async () => {
    const result = await app.client.request(USER, { id: olga.user.id }, { token: olga.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data.user.email).toBe('olga@example.com');
  });

  test("shows an ADMIN another user's email", async () => {
    const result = await app.client.request(USER, { id: pavel.user.id }, { token: admin.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data.user).toMatchObject({ id: pavel.user.id, email: 'pavel@example.com' });
  });

  test('returns null without an error for a UUID that names no user', async () => {
    const result = await app.client.request(USER, { id: MISSING_ID }, { token: olga.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ user: null });
  });

  test('returns null without an error for an id that is not a UUID', async () => {
    const result = await app.client.request(USER, { id: 'not-a-uuid' }, { token: olga.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ user: null });
  });

  test('refuses a caller without a token as UNAUTHENTICATED', async () => {
    const result = await app.client.request(USER, { id: olga.user.id });
    expect(result.data).toEqual({ user: null });
    expect(onlyError(result).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
  });
});

describe('users(limit, offset)', () => {
  async function page(limit: number, offset: number, token = admin.accessToken) {
    return app.client.request(USERS, { limit, offset }, { token });
  }

  test('lists every user to an ADMIN in creation order, with emails, at limit 100 (the largest page)', async () => {
    const result = await page(100, 0);
    expect(result.errors).toBeUndefined();
    expect(result.data.users.map((user: { id: string }) => user.id)).toEqual(everyone.map((user) => user.user.id));
    expect(result.data.users[2]).toEqual({ id: pavel.user.id, username: 'pavel', email: 'pavel@example.com' });
  });

  test('pages with limit and offset without gaps or repeats', async () => {
    const pages = [await page(2, 0), await page(2, 2), await page(2, 4), await page(2, 6)];
    for (const result of pages) expect(result.errors).toBeUndefined();
    expect(pages.map((result) => result.data.users.length)).toEqual([2, 2, 2, 0]);
    const ids = pages.flatMap((result) => result.data.users.map((user: { id: string }) => user.id));
    expect(ids).toEqual(everyone.map((user) => user.user.id));
  });

  test('uses limit 50 and offset 0 by default', async () => {
    const result = await app.client.request('{ users { id } }', {}, { token: admin.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data.users).toHaveLength(everyone.length);
  });

  test('refuses a USER with FORBIDDEN', async () => {
    const result = await page(10, 0, olga.accessToken);
    expect(result.data ?? null).toBeNull();
    const error = onlyError(result);
    expect(error.path).toEqual(['users']);
    expect(error.extensions?.code).toBe('FORBIDDEN');
  });

  test('refuses a caller without a token as UNAUTHENTICATED', async () => {
    const result = await app.client.request(USERS, { limit: 10, offset: 0 });
    expect(onlyError(result).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
  });

  test.each([0, 101, -1])('refuses limit %i with BAD_USER_INPUT', async (limit) => {
    const result = await page(limit, 0);
    expect(result.data ?? null).toBeNull();
    expect(onlyError(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
  });

  test('refuses a negative offset with BAD_USER_INPUT', async () => {
    const result = await page(10, -1);
    expect(onlyError(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'offset' });
  });
});

describe('users(after)', () => {
  const AFTER = 'query Users($limit: Int!, $after: ID) { users(limit: $limit, after: $after) { id username } }';
  const SAME_INSTANT = 12;
  let tied: string[];

  beforeAll(async () => {
    // Accounts created in the same microsecond: only the id orders them.
    const rows = await app.orm.em.fork().execute<{ id: string }[]>(
      `insert into users (id, username, username_key, email, email_key, password_hash, roles, created_at, updated_at)
       select gen_random_uuid(), 'tied' || n, 'tied' || n, 'tied' || n || '@example.com', 'tied' || n || '@example.com',
              'not-a-hash', '{USER}', now() + interval '1 day', now()
         from generate_series(1, ${SAME_INSTANT}) n
       returning id`,
    );
    tied = rows.map((row) => row.id).sort();
  });

  async function afterPage(limit: number, after: string | null, token = admin.accessToken) {
    return app.client.request(AFTER, { limit, after }, { token });
  }

  async function allPages(limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const result = await afterPage(limit, after);
      expect(result.errors).toBeUndefined();
      const ids = result.data.users.map((user: { id: string }) => user.id);
      if (ids.length === 0) return pages;
      pages.push(ids);
      after = ids[ids.length - 1];
    }
  }

  test('pages that follow each other cover every user exactly once, ties on the creation time by id', async () => {
    for (const limit of [1, 5, 100]) {
      const pages = await allPages(limit);
      expect(pages.every((ids) => ids.length <= limit)).toBe(true);
      expect(pages.flat()).toEqual([...everyone.map((user) => user.user.id), ...tied]);
    }
  });

  test('a page after a user is the same whatever happened before it', async () => {
    const first = (await afterPage(3, null)).data.users.map((user: { id: string }) => user.id);
    const expected = (await afterPage(3, first[2])).data.users;
    // Removing an earlier user moves every offset page by one, not the cursor's.
    await app.orm.em.fork().execute('delete from users where id = ?', [tied[0]]);
    tied.shift();
    expect((await afterPage(3, first[2])).data.users).toEqual(expected);
  });

  test.each([
    ['not a UUID', 'not-a-uuid'],
    ['a UUID of no user', MISSING_ID],
    ['an empty string', ''],
  ])('refuses a cursor that is %s with BAD_USER_INPUT on `after`', async (_what, after) => {
    const result = await afterPage(10, after);
    expect(result.data ?? null).toBeNull();
    const error = onlyError(result);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(error.message).toBe('after names no user');
  });

  test('refuses after with an offset', async () => {
    const result = await app.client.request(
      'query { users(limit: 10, offset: 2, after: "' + olga.user.id + '") { id } }',
      {},
      { token: admin.accessToken },
    );
    expect(onlyError(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'offset' });
  });

  test('refuses a USER with FORBIDDEN and a caller without a token as UNAUTHENTICATED, cursor or not', async () => {
    const asUser = await afterPage(10, olga.user.id, olga.accessToken);
    expect(asUser.data ?? null).toBeNull();
    expect(onlyError(asUser).extensions?.code).toBe('FORBIDDEN');
    const anonymous = await app.client.request(AFTER, { limit: 10, after: olga.user.id });
    expect(onlyError(anonymous).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
  });
});
