// The security event log: each audit row also as one JSON line with its OWASP Logging Vocabulary
// name, the user, session and address, written where the row is, and never a secret.
import { AuthEventKind, recordAuthEvent } from '../../src/auth/audit.js';
import { captureLog, type CapturedLog } from '../helpers/captured-log.js';
import { LOGOUT_DEFAULT, PASSWORD, REFRESH } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
let log: CapturedLog;

beforeAll(async () => {
  log = captureLog('info');
  // No grace window: the parent presented again is reuse at once.
  app = await startTestServer({ JWT_REFRESH_REUSE_INTERVAL: '0' }, undefined, { logger: log.logger });
});

afterAll(async () => {
  await app?.stop();
});

type Line = Record<string, unknown>;

function securityLines(): Line[] {
  return log.entries.filter((entry) => entry.log === 'security');
}

/** The security lines written while `act` ran. */
async function linesDuring(act: () => Promise<unknown>): Promise<Line[]> {
  const before = securityLines().length;
  await act();
  return securityLines().slice(before);
}

async function auditRows(): Promise<{ type: string; user_id: string | null; session_id: string | null }[]> {
  return app.orm.em.fork().getConnection().execute('select type, user_id, session_id from auth_events order by id');
}

test('a signup and a login: user_created, authn_login_success with the user, session and address', async () => {
  let userId = '';
  let sessionId = '';
  const lines = await linesDuring(async () => {
    userId = (await app.client.signup('alice')).user.id;
    const login = await app.client.login('alice');
    sessionId = JSON.parse(Buffer.from(login.data!.login.accessToken.split('.')[1], 'base64url').toString()).sid;
  });
  expect(lines.map((line) => line.event)).toEqual(['user_created', 'authn_login_success']);
  expect(lines[1]).toMatchObject({
    level: 30,
    event: 'authn_login_success',
    kind: 'LOGIN_SUCCEEDED',
    userId,
    sessionId,
    ip: '127.0.0.1',
    actorId: null,
    msg: 'authn_login_success',
  });
});

test('a wrong password and an unknown account: authn_login_fail', async () => {
  const lines = await linesDuring(async () => {
    await app.client.login('alice', 'not the password at all');
    await app.client.login('nobody-here', 'not the password at all');
  });
  expect(lines.map((line) => [line.event, line.kind])).toEqual([
    ['authn_login_fail', 'LOGIN_FAILED'],
    ['authn_login_fail', 'LOGIN_FAILED'],
  ]);
  expect(lines[0].userId).toEqual(expect.any(String));
  expect(lines[1].userId).toBeNull();
});

test('a refresh token presented twice: session_renewed, then authn_token_reuse on that session', async () => {
  const bob = await app.client.signup('bob');
  const lines = await linesDuring(async () => {
    expect((await app.client.request(REFRESH, { t: bob.refreshToken })).data?.refresh).toBeTruthy();
    const reused = await app.client.request(REFRESH, { t: bob.refreshToken });
    expect(reused.errors?.[0]?.extensions?.reason).toBe('REFRESH_TOKEN_REUSED');
  });
  expect(lines.map((line) => line.event)).toEqual(['session_renewed', 'authn_token_reuse']);
  expect(lines[1]).toMatchObject({ userId: bob.user.id, sessionId: lines[0].sessionId, ip: '127.0.0.1' });
});

test('a logout: session_revoked', async () => {
  const carol = await app.client.signup('carol');
  const lines = await linesDuring(() => app.client.request(LOGOUT_DEFAULT, {}, { token: carol.accessToken }));
  expect(lines).toEqual([expect.objectContaining({ event: 'session_revoked', kind: 'LOGOUT', userId: carol.user.id })]);
});

test('a refused signup writes neither a row nor a line', async () => {
  const rowsBefore = (await auditRows()).length;
  const lines = await linesDuring(async () => {
    const taken = await app.client.request(
      'mutation S($input: SignupInput!) { signup(input: $input) { accessToken } }',
      { input: { username: 'alice', email: 'other@example.com', password: PASSWORD } },
    );
    expect(taken.errors?.[0]?.extensions?.reason).toBe('ACCOUNT_EXISTS');
  });
  expect(lines).toEqual([]);
  expect((await auditRows()).length).toBe(rowsBefore);
});

test('a reset link asked for, in one statement: authn_token_created on the account, and on none for a stranger', async () => {
  const aliceId = (await auditRows()).find((row) => row.type === 'SIGNUP')!.user_id;
  const lines = await linesDuring(async () => {
    for (const email of ['alice@example.com', 'stranger@example.com']) {
      const result = await app.client.request('mutation R($e: String!) { requestPasswordReset(email: $e) }', {
        e: email,
      });
      expect(result.data).toEqual({ requestPasswordReset: true });
    }
    // The statement runs after the answer (the same time for either address): wait for it.
    await app.server.services.passwordReset.settle();
  });
  // The two statements run side by side on the deferred pool: either may finish first.
  const seen = lines.map((line) => [line.event, line.kind, line.userId]);
  expect(seen).toHaveLength(2);
  expect(seen).toEqual(
    expect.arrayContaining([
      ['authn_token_created', 'PASSWORD_RESET_REQUESTED', aliceId],
      ['authn_token_created', 'PASSWORD_RESET_REQUESTED', null],
    ]),
  );
});

test('an event in a transaction that rolls back is neither a row nor a line', async () => {
  const rowsBefore = (await auditRows()).length;
  const lines = await linesDuring(async () => {
    await expect(
      app.orm.em.fork().transactional((tx) => {
        recordAuthEvent(tx, { type: AuthEventKind.LOGOUT, ip: '192.0.2.1' });
        return Promise.reject(new Error('changed our mind'));
      }),
    ).rejects.toThrow('changed our mind');
  });
  expect(lines).toEqual([]);
  expect((await auditRows()).length).toBe(rowsBefore);
});

test('the lines and the audit rows agree, one for one, and no line holds a secret', async () => {
  const rows = await auditRows();
  const lines = securityLines();
  // In order, but for the reset links' requests: their statements run side by side, and each is
  // logged when it ends.
  const inOrder = (entries: unknown[][]) => {
    const side = entries.filter(([kind]) => kind === 'PASSWORD_RESET_REQUESTED');
    const rest = entries.filter(([kind]) => kind !== 'PASSWORD_RESET_REQUESTED');
    return { rest, side: side.map((entry) => JSON.stringify(entry)).sort() };
  };
  expect(inOrder(lines.map((line) => [line.kind, line.userId, line.sessionId]))).toEqual(
    inOrder(rows.map((row) => [row.type, row.user_id, row.session_id])),
  );
  const text = lines.map((line) => JSON.stringify(line)).join('\n');
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain('not the password at all');
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
  expect(text).not.toMatch(/argon2/);
});
