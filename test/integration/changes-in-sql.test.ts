// A change made around Tessera (an operator's SQL, a restore) sends no NOTIFY. The cached principal
// is re-read within AUTH_CACHE_TTL, so such a change takes effect within it; with a TTL of 0 there
// is no cache, and it takes effect on the next request.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { claimsOf, codeOf, meReason, USERS } from '../helpers/session-helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** A 1 s TTL, with room for a busy machine. */
const SEEN_WITHIN_MS = 8_000;

let database: TestDatabase;
let sql: pg.Client;
let cached: ServerProcess;
let uncached: ServerProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
  cached = await startServerProcess({ ...env, AUTH_CACHE_TTL: '1s' });
  uncached = await startServerProcess({ ...env, AUTH_CACHE_TTL: '0' });
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await Promise.all([cached?.stop(), uncached?.stop()]);
  await database?.drop();
});

async function usersCode(app: ServerProcess, token: string): Promise<string | undefined> {
  return codeOf(await app.client.request(USERS, {}, { token }));
}

test('roles changed in SQL: the ADMIN-only users query follows them within the TTL', async () => {
  const operator = await cached.client.signup('operator');
  await sql.query(`update users set roles = '{ADMIN,USER}' where id = $1`, [operator.user.id]);
  expect(
    await eventually(async () => (await usersCode(cached, operator.accessToken)) === undefined, SEEN_WITHIN_MS),
  ).toBe(true);
  // Answered from the cache now; the demotion must still get through.
  expect(await usersCode(cached, operator.accessToken)).toBeUndefined();

  await sql.query(`update users set roles = '{USER}' where id = $1`, [operator.user.id]);
  expect(
    await eventually(async () => (await usersCode(cached, operator.accessToken)) === 'FORBIDDEN', SEEN_WITHIN_MS),
  ).toBe(true);
}, 30_000);

test('a session revoked in SQL is refused with TOKEN_REVOKED within the TTL', async () => {
  const revoked = await cached.client.signup('revoked-in-sql');
  expect(await meReason(cached, revoked.accessToken)).toBeUndefined();
  expect(await meReason(cached, revoked.accessToken)).toBeUndefined();

  await sql.query('update sessions set revoked_at = now() where id = $1', [claimsOf(revoked.accessToken).sid]);
  expect(
    await eventually(async () => (await meReason(cached, revoked.accessToken)) === 'TOKEN_REVOKED', SEEN_WITHIN_MS),
  ).toBe(true);
}, 30_000);

test('a user in constant use (refreshed in the background) still sees a deactivation made in SQL', async () => {
  const busy = await cached.client.signup('busy');
  // Used throughout several TTLs: the background refresh keeps it, and keeps reading it.
  const end = Date.now() + 2_500;
  while (Date.now() < end) expect(await meReason(cached, busy.accessToken)).toBeUndefined();

  await sql.query('update users set is_active = false where id = $1', [busy.user.id]);
  expect(
    await eventually(async () => (await meReason(cached, busy.accessToken)) === 'TOKEN_REVOKED', SEEN_WITHIN_MS),
  ).toBe(true);
}, 30_000);

test('AUTH_CACHE_TTL=0: a change made in SQL is seen on the next request', async () => {
  const plain = await uncached.client.signup('no-cache');
  expect(await meReason(uncached, plain.accessToken)).toBeUndefined();
  expect(await meReason(uncached, plain.accessToken)).toBeUndefined();

  await sql.query('update sessions set revoked_at = now() where id = $1', [claimsOf(plain.accessToken).sid]);
  expect(await meReason(uncached, plain.accessToken)).toBe('TOKEN_REVOKED');
}, 30_000);
