// An ADMIN reads and ends another user's sessions (ASVS 7.4.5): effective on the next request on
// every instance, recorded with the actor; refused to a USER, to a token that is not fresh, and
// for an id that names no user.
import { randomBytes, randomUUID } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { ADMIN_PASSWORD, createAdmin } from '../helpers/fixtures.js';
import { AUTH_EVENTS, loginOk, meReason, refreshOk, refreshReason } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const USER_SESSIONS = 'query S($id: ID!) { userSessions(userId: $id) { id userAgent ip current } }';
const REVOKE_USER_SESSIONS = 'mutation R($id: ID!) { revokeUserSessions(userId: $id) }';

let app: TestServer;
let other: TestServer;
let adminToken: string;

beforeAll(async () => {
  const JWT_SECRET_KEY = randomBytes(32).toString('base64url');
  app = await startTestServer({ METRICS_PORT: '0', JWT_SECRET_KEY });
  // A second instance on the same database, with its own principal cache and listener.
  other = await startTestServer({ JWT_SECRET_KEY }, app.database);
  adminToken = (await createAdmin(app)).accessToken;
});

afterAll(async () => {
  await other?.stop();
  await app?.stop();
});

test("an ADMIN lists a user's live sessions", async () => {
  const erin = await app.client.signup('erin');
  await loginOk(app, 'erin', undefined, 'Erin phone');
  const result = await app.client.request(USER_SESSIONS, { id: erin.user.id }, { token: adminToken });
  expect(result.errors).toBeUndefined();
  const sessions = result.data.userSessions as { userAgent: string | null; current: boolean }[];
  expect(sessions).toHaveLength(2);
  expect(sessions.map((session) => session.userAgent)).toContain('Erin phone');
  expect(sessions.every((session) => !session.current)).toBe(true);
});

test('revokeUserSessions ends them all at once, on every instance, and records the actor', async () => {
  const frank = await app.client.signup('frank');
  const second = await loginOk(app, 'frank');
  // The other instance has both principals in its cache.
  expect(await meReason(other, frank.accessToken)).toBeUndefined();
  expect(await meReason(other, second.accessToken)).toBeUndefined();

  const revoked = await app.client.request(REVOKE_USER_SESSIONS, { id: frank.user.id }, { token: adminToken });
  expect(revoked.data).toEqual({ revokeUserSessions: 2 });

  // This instance at once; the other as soon as the notice crosses (within a second).
  expect(await meReason(app, frank.accessToken)).toBe('TOKEN_REVOKED');
  const revokedThere = async (token: string) => (await meReason(other, token)) === 'TOKEN_REVOKED';
  expect(await eventually(() => revokedThere(frank.accessToken), 1000, 20)).toBe(true);
  expect(await eventually(() => revokedThere(second.accessToken), 1000, 20)).toBe(true);
  expect(await refreshReason(app, second.refreshToken)).toBe('TOKEN_REVOKED');

  const listed = await app.client.request(USER_SESSIONS, { id: frank.user.id }, { token: adminToken });
  expect(listed.data.userSessions).toEqual([]);
  const again = await app.client.request(REVOKE_USER_SESSIONS, { id: frank.user.id }, { token: adminToken });
  expect(again.data).toEqual({ revokeUserSessions: 0 });

  const adminId = JSON.parse(Buffer.from(adminToken.split('.')[1], 'base64url').toString()).sub as string;
  const events = await app.client.request(AUTH_EVENTS, { userId: frank.user.id, limit: 10 }, { token: adminToken });
  const revocations = (events.data.authEvents as { type: string; actorId: string; sessionId: string }[]).filter(
    (event) => event.type === 'SESSION_REVOKED',
  );
  expect(revocations).toHaveLength(2);
  expect(revocations.every((event) => event.actorId === adminId)).toBe(true);
  expect(new Set(revocations.map((event) => event.sessionId)).size).toBe(2);

  const metrics = await (await fetch(app.server.metricsUrl()!)).text();
  expect(metrics).toMatch(/^tessera_sessions_revoked_total\{why="admin_revoked"\} 2$/m);
});

test('a USER may do neither, even for themselves', async () => {
  const gina = await app.client.signup('gina');
  const list = await app.client.request(USER_SESSIONS, { id: gina.user.id }, { token: gina.accessToken });
  expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const revoke = await app.client.request(REVOKE_USER_SESSIONS, { id: gina.user.id }, { token: gina.accessToken });
  expect(revoke.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(revoke.data).toBeNull();
  expect(await meReason(app, gina.accessToken)).toBeUndefined();
});

test('revoking needs a fresh token; listing does not', async () => {
  const hank = await app.client.signup('hank');
  const admin = await app.client.login('admin', ADMIN_PASSWORD);
  const stale = (await refreshOk(app, admin.data!.login.refreshToken)).accessToken;
  const revoke = await app.client.request(REVOKE_USER_SESSIONS, { id: hank.user.id }, { token: stale });
  expect(revoke.errors?.[0]?.extensions?.reason).toBe('FRESH_TOKEN_REQUIRED');
  expect(await meReason(app, hank.accessToken)).toBeUndefined();
  const list = await app.client.request(USER_SESSIONS, { id: hank.user.id }, { token: stale });
  expect(list.data.userSessions).toHaveLength(1);
});

test.each([
  ['an unknown user', randomUUID()],
  ['a malformed id', "1' or '1'='1"],
  ['an empty id', ''],
])('%s is NOT_FOUND', async (_, id) => {
  const list = await app.client.request(USER_SESSIONS, { id }, { token: adminToken });
  expect(list.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  const revoke = await app.client.request(REVOKE_USER_SESSIONS, { id }, { token: adminToken });
  expect(revoke.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
});

test('without a token, or with garbage, it is UNAUTHENTICATED', async () => {
  const id = randomUUID();
  const none = await app.client.request(REVOKE_USER_SESSIONS, { id });
  expect(none.errors?.[0]?.extensions?.reason).toBe('TOKEN_MISSING');
  const garbage = await app.client.request(REVOKE_USER_SESSIONS, { id }, { token: 'garbage' });
  expect(garbage.errors?.[0]?.extensions?.reason).toBe('TOKEN_INVALID');
});
