// What a refresh announces to the other instances. An ended session always; a plain rotation
// only under an inactivity timeout, the one check that reads the last use another instance may
// hold in its cache. (A transaction that notifies commits under a database-wide lock.)
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { claimsOf, refreshOk } from '../helpers/session-helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer } from '../helpers/test-server.js';

const CHANNEL = 'tessera_principal_invalidation';

let database: TestDatabase;
let listener: pg.Client;
const notices: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  listener.on('notification', (notice) => {
    if (notice.channel === CHANNEL) notices.push(notice.payload ?? '');
  });
  await listener.query(`listen ${CHANNEL}`);
});

afterAll(async () => {
  await listener?.end();
  await database?.drop();
});

/**
 * The notices for one session through a rotation and then a logout. Notices arrive in commit
 * order: once a marker sent after the logout has come, every notice of the two has come before it.
 */
async function noticesOfRotationThenLogout(env: Record<string, string>, username: string): Promise<string[]> {
  const app = await startTestServer(env, database);
  try {
    const { refreshToken } = await app.client.signup(username);
    const sid = claimsOf(refreshToken).sid as string;
    const rotated = await refreshOk(app, refreshToken);
    expect(claimsOf(rotated.refreshToken).sid).toBe(sid);
    const logout = await app.client.request('mutation { logout }', {}, { token: rotated.accessToken });
    expect(logout.data).toEqual({ logout: true });

    const marker = `test-marker:${randomUUID()}`;
    await listener.query('select pg_notify($1, $2)', [CHANNEL, marker]);
    expect(await eventually(() => Promise.resolve(notices.includes(marker)), 5000, 20)).toBe(true);
    return notices.slice(0, notices.indexOf(marker)).filter((payload) => payload === `s:${sid}`);
  } finally {
    await app.stop();
  }
}

test('without an inactivity timeout a rotation announces nothing; the logout is announced', async () => {
  expect(await noticesOfRotationThenLogout({}, 'quiet_rotation')).toHaveLength(1);
});

test('with SESSION_INACTIVITY_TIMEOUT the rotation is announced too, before the logout', async () => {
  expect(await noticesOfRotationThenLogout({ SESSION_INACTIVITY_TIMEOUT: '1h' }, 'announced_rotation')).toHaveLength(2);
});
