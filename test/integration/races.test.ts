// What happens between a password check and the write it leads to: concurrent guesses, and a
// login whose hash check overlaps a password change or a deactivation.
import { connect } from 'node:net';
import pg from 'pg';
import { onlyError } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ ACCOUNT_LOCK_FAILURES: '3', ACCOUNT_LOCK_DURATION: '1m' });
});
afterAll(() => app.stop());

async function sessionCount(sql: pg.Client, userId: string): Promise<number> {
  const { rows } = await sql.query('select count(*)::int as n from sessions where user_id = $1', [userId]);
  return rows[0].n;
}

test('guesses sent all at once get no more tries than the account lock allows', async () => {
  await app.client.signup('target');
  const results = await Promise.all(Array.from({ length: 12 }, () => app.client.login('target', 'a wrong guess')));
  const outcomes = results.map((result) =>
    onlyError(result).extensions?.code === 'RATE_LIMITED' ? 'locked' : onlyError(result).extensions?.reason,
  );
  expect(outcomes.filter((outcome) => outcome === 'INVALID_CREDENTIALS')).toHaveLength(3);
  expect(outcomes.filter((outcome) => outcome === 'locked')).toHaveLength(9);
});

describe('a login whose password check overlaps a change to the account', () => {
  let sql: pg.Client;
  beforeAll(async () => {
    sql = new pg.Client({ connectionString: app.database.url });
    await sql.connect();
  });
  afterAll(() => sql.end());

  /** Holds the user's row locked while `change` runs, starts a login, then commits the change. */
  async function loginDuring(username: string, change: string, userId: string) {
    await sql.query('begin');
    await sql.query(change, [userId]);
    const login = app.client.login(username);
    // The login reads the committed row, checks the old password, then waits on the row lock.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sql.query('commit');
    return login;
  }

  test('loses to a password change committed meanwhile, and opens no session', async () => {
    const user = await app.client.signup('changing');
    const before = await sessionCount(sql, user.user.id);
    const login = await loginDuring(
      'changing',
      `update users set password_hash = 'changed elsewhere' where id = $1`,
      user.user.id,
    );
    expect(onlyError(login).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(await sessionCount(sql, user.user.id)).toBe(before);
  });

  test('loses to a deactivation committed meanwhile, and opens no session', async () => {
    const user = await app.client.signup('disabling');
    const before = await sessionCount(sql, user.user.id);
    const login = await loginDuring('disabling', 'update users set is_active = false where id = $1', user.user.id);
    expect(onlyError(login).extensions?.reason).toBe('ACCOUNT_DISABLED');
    expect(await sessionCount(sql, user.user.id)).toBe(before);
  });

  test('loses to a deletion committed meanwhile with a coded error, not a 500', async () => {
    const user = await app.client.signup('deleting');
    const login = await loginDuring('deleting', 'delete from users where id = $1', user.user.id);
    expect(onlyError(login).extensions?.reason).toBe('INVALID_CREDENTIALS');
  });
});

test('a request target that is not a URL is a 400, not a 500', async () => {
  const { port } = new URL(app.url);
  const response = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.end('GET http://[/graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(response).toMatch(/^HTTP\/1\.1 400/);
  expect(response).toContain('BAD_REQUEST');
});
