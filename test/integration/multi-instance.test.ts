// Several Tessera processes behind a load balancer share one database. A revocation or a role
// change made through one must be honoured by the others at once (LISTEN/NOTIFY invalidation).
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { onlyError } from '../helpers/graphql-client.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { meReason, PASSWORD } from '../helpers/session-helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const PROPAGATION_DEADLINE_MS = 1000;

let database: TestDatabase;
let first: ServerProcess;
let second: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
  // Sequential: the first applies the migrations, the second finds them applied.
  first = await startServerProcess(env);
  second = await startServerProcess(env);
}, 60_000);

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await database?.drop();
});

/** A notice crossing instances, polled for finely: the deadline is what is being tested. */
const propagated = (probe: () => Promise<boolean>) => eventually(probe, PROPAGATION_DEADLINE_MS, 20);

test('a logout on one instance is refused by the other within a second', async () => {
  const alice = await first.client.signup('alice');
  // The second instance has seen the token and holds its principal in cache.
  expect(await meReason(second, alice.accessToken)).toBeUndefined();
  expect(await meReason(second, alice.accessToken)).toBeUndefined();

  const logout = await first.client.request('mutation { logout }', {}, { token: alice.accessToken });
  expect(logout.data).toEqual({ logout: true });

  expect(await propagated(async () => (await meReason(second, alice.accessToken)) === 'TOKEN_REVOKED')).toBe(true);
});

test('a role change made on one instance takes effect on the other', async () => {
  const admin = await runCli(
    'create-user.js',
    ['--username', 'root', '--email', 'root@example.com', '--role', 'ADMIN'],
    env,
    'operator password 1\n',
  );
  expect(admin.code).toBe(0);
  const adminLogin = await first.client.login('root', 'operator password 1');
  const adminToken = adminLogin.data!.login.accessToken;

  const bob = await first.client.signup('bob');
  const denied = await second.client.request('{ users { id } }', {}, { token: bob.accessToken });
  expect(onlyError(denied).extensions?.code).toBe('FORBIDDEN');

  const promoted = await first.client.request(
    'mutation P($id: ID!) { setUserRoles(userId: $id, roles: [USER, ADMIN]) { roles } }',
    { id: bob.user.id },
    { token: adminToken },
  );
  expect(promoted.data?.setUserRoles.roles).toEqual(['USER', 'ADMIN']);

  // The same token, issued with roles [USER], now carries the stored roles on the other instance.
  expect(
    await propagated(
      async () => !(await second.client.request('{ users { id } }', {}, { token: bob.accessToken })).errors,
    ),
  ).toBe(true);
});

test('deactivating a user on one instance ends their sessions on the other', async () => {
  const adminToken = (await first.client.login('root', 'operator password 1')).data!.login.accessToken;
  const carol = await first.client.signup('carol');
  expect(await meReason(second, carol.accessToken)).toBeUndefined();

  const disabled = await first.client.request(
    'mutation D($id: ID!) { setUserActive(userId: $id, active: false) { isActive } }',
    { id: carol.user.id },
    { token: adminToken },
  );
  expect(disabled.data?.setUserActive.isActive).toBe(false);
  expect(await propagated(async () => (await meReason(second, carol.accessToken)) === 'TOKEN_REVOKED')).toBe(true);
});

test("a password change on one instance refuses the session's older access token on the other", async () => {
  const dave = await first.client.signup('dave');
  expect(await meReason(second, dave.accessToken)).toBeUndefined();
  expect(await meReason(second, dave.accessToken)).toBeUndefined();

  const changed = await first.client.request(
    'mutation C($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }',
    { c: PASSWORD, n: 'a brand new passphrase' },
    { token: dave.accessToken },
  );
  const fresh = changed.data!.changePassword.accessToken as string;

  expect(await propagated(async () => (await meReason(second, dave.accessToken)) === 'TOKEN_REVOKED')).toBe(true);
  expect(await meReason(second, fresh)).toBeUndefined();
});

const REFRESH = 'mutation R($t: String) { refresh(refreshToken: $t) { accessToken refreshToken } }';

test('a refresh token reused on one instance ends the session on the other within a second', async () => {
  const erin = await first.client.signup('erin');
  const b = (await first.client.request(REFRESH, { t: erin.refreshToken })).data!.refresh;
  const c = (await second.client.request(REFRESH, { t: b.refreshToken })).data!.refresh;
  // The first instance holds the current session's principal in cache.
  expect(await meReason(first, c.accessToken)).toBeUndefined();
  expect(await meReason(first, c.accessToken)).toBeUndefined();

  // The signup token is two generations back: no grace window covers it.
  const reuse = await second.client.request(REFRESH, { t: erin.refreshToken });
  expect(onlyError(reuse).extensions?.reason).toBe('REFRESH_TOKEN_REUSED');

  expect(await propagated(async () => (await meReason(first, c.accessToken)) === 'TOKEN_REVOKED')).toBe(true);
  const afterwards = await first.client.request(REFRESH, { t: c.refreshToken });
  expect(onlyError(afterwards).extensions?.reason).toBe('TOKEN_REVOKED');
});

test('refreshes of one token sent to both instances at once rotate it exactly once', async () => {
  const frank = await first.client.signup('frank');
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, index) =>
      (index % 2 === 0 ? first : second).client.request(REFRESH, { t: frank.refreshToken }),
    ),
  );
  const successors = new Set(
    results.filter((result) => result.data?.refresh).map((result) => result.data.refresh.refreshToken as string),
  );
  for (const result of results.filter((r) => !r.data?.refresh))
    expect(onlyError(result).extensions?.reason).toBeDefined();
  // The losers of the race got the winner's successor again (the grace window), never a second one.
  const jtis = new Set([...successors].map((token) => JSON.parse(atob(token.split('.')[1])).jti as string));
  expect(jtis.size).toBe(1);
  const [current] = successors;
  const next = await second.client.request(REFRESH, { t: current });
  expect(next.data?.refresh.accessToken).toBeDefined();
  expect(await meReason(first, next.data!.refresh.accessToken)).toBeUndefined();
});
