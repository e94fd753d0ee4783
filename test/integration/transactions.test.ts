// Every multi-step write is one transaction: a failure in the middle leaves the previous state
// intact. The failure is injected for real, by a PostgreSQL trigger that refuses one audit row,
// the last write of each of these operations.
import pg from 'pg';
import { onlyError } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
let sql: pg.Client;

beforeAll(async () => {
  app = await startTestServer();
  sql = new pg.Client({ connectionString: app.database.url });
  await sql.connect();
  await sql.query(`
    create function refuse_audit_event() returns trigger language plpgsql as $$
    begin
      raise exception 'injected failure for %', new.type;
    end $$`);
});

afterAll(async () => {
  await sql.end();
  await app.stop();
});

/** Makes the next audit row of `type` fail, for the duration of `work`. */
async function withFailingAuditEvent<T>(type: string, work: () => Promise<T>): Promise<T> {
  await sql.query(`create trigger refuse_audit_event before insert on auth_events for each row
    when (new.type = '${type}') execute function refuse_audit_event()`);
  try {
    return await work();
  } finally {
    await sql.query('drop trigger refuse_audit_event on auth_events');
  }
}

async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await sql.query(`select count(*)::int as n from ${table} where ${where}`, params);
  return rows[0].n;
}

const REFRESH = 'mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }';
const ME = '{ me { id } }';

test('a signup that fails at its last write leaves no user and no session behind', async () => {
  const result = await withFailingAuditEvent('SIGNUP', () =>
    app.client.request(
      'mutation { signup(input: {username: "ghost", email: "ghost@example.com", password: "correct horse battery"}) { accessToken } }',
    ),
  );
  expect(onlyError(result).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  expect(JSON.stringify(result)).not.toContain('injected failure');
  expect(await count('users', 'username_key = $1', ['ghost'])).toBe(0);
  expect(await count('sessions')).toBe(0);
  // Nothing half-written blocks a retry.
  await expect(app.client.signup('ghost')).resolves.toMatchObject({ user: { username: 'ghost' } });
});

test('a failed rotation leaves the presented refresh token working', async () => {
  const alice = await app.client.signup('alice');
  const failed = await withFailingAuditEvent('REFRESH', () => app.client.request(REFRESH, { t: alice.refreshToken }));
  expect(onlyError(failed).extensions?.code).toBe('INTERNAL_SERVER_ERROR');

  const retried = await app.client.request(REFRESH, { t: alice.refreshToken });
  expect(retried.errors).toBeUndefined();
  expect(retried.data.refresh.refreshToken).toEqual(expect.any(String));
});

test('a failed logout of all sessions ends none of them', async () => {
  const bob = await app.client.signup('bob');
  const second = (await app.client.login('bob')).data!.login;
  const failed = await withFailingAuditEvent('LOGOUT', () =>
    app.client.request('mutation { logout(scope: ALL) }', {}, { token: bob.accessToken }),
  );
  expect(onlyError(failed).extensions?.code).toBe('INTERNAL_SERVER_ERROR');

  for (const token of [bob.accessToken, second.accessToken]) {
    expect((await app.client.request(ME, {}, { token })).errors).toBeUndefined();
  }
});

test('a failed password change keeps the old password and every session', async () => {
  const carol = await app.client.signup('carol');
  const other = (await app.client.login('carol')).data!.login;
  const failed = await withFailingAuditEvent('PASSWORD_CHANGED', () =>
    app.client.request(
      'mutation { changePassword(currentPassword: "correct horse battery", newPassword: "a brand new passphrase") { accessToken } }',
      {},
      { token: carol.accessToken },
    ),
  );
  expect(onlyError(failed).extensions?.code).toBe('INTERNAL_SERVER_ERROR');

  expect((await app.client.request(ME, {}, { token: other.accessToken })).errors).toBeUndefined();
  expect((await app.client.login('carol', 'correct horse battery')).errors).toBeUndefined();
  expect(onlyError(await app.client.login('carol', 'a brand new passphrase')).extensions?.reason).toBe(
    'INVALID_CREDENTIALS',
  );
});

test('a failed account deletion keeps the account, its sessions and its tasks', async () => {
  const dave = await app.client.signup('dave');
  await app.client.request('mutation { createTask(title: "keep me") { id } }', {}, { token: dave.accessToken });
  const failed = await withFailingAuditEvent('ACCOUNT_DELETED', () =>
    app.client.request('mutation { deleteMyAccount }', {}, { token: dave.accessToken }),
  );
  expect(onlyError(failed).extensions?.code).toBe('INTERNAL_SERVER_ERROR');

  const tasks = await app.client.request('{ myTasks { title } }', {}, { token: dave.accessToken });
  expect(tasks.data).toEqual({ myTasks: [{ title: 'keep me' }] });
});

test('a failed deactivation leaves the user active and signed in', async () => {
  const { Role } = await import('../../src/db/entities/index.js');
  await app.server.services.accounts.createUser(app.orm.em.fork(), {
    username: 'admin',
    email: 'admin@example.com',
    password: 'an admin passphrase',
    roles: [Role.USER, Role.ADMIN],
  });
  const admin = (await app.client.login('admin', 'an admin passphrase')).data!.login;
  const erin = await app.client.signup('erin');
  const failed = await withFailingAuditEvent('ACCOUNT_DISABLED', () =>
    app.client.request(
      'mutation D($id: ID!) { setUserActive(userId: $id, active: false) { id } }',
      { id: erin.user.id },
      { token: admin.accessToken },
    ),
  );
  expect(onlyError(failed).extensions?.code).toBe('INTERNAL_SERVER_ERROR');

  expect((await app.client.request(ME, {}, { token: erin.accessToken })).errors).toBeUndefined();
  expect((await app.client.login('erin')).errors).toBeUndefined();
});
