// Guessing and flooding: attempts are counted per field execution, per client IP and per
// account, in PostgreSQL so that every instance shares the counts; locks expire by themselves.
import pg from 'pg';
import { LoginStatements } from '../../src/auth/login-statements.js';
import { queueResetLink } from '../../src/auth/reset-link-statement.js';
import { Throttle, ThrottledAction } from '../../src/auth/throttle.js';
import { captureLog, type CapturedLog } from '../helpers/captured-log.js';
import { onlyError } from '../helpers/graphql-client.js';
import { CHANGE_PASSWORD, PASSWORD, REAUTHENTICATE } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LOGIN = 'mutation L($input: LoginInput!) { login(input: $input) { accessToken } }';

describe('per account', () => {
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    const limits = { ACCOUNT_LOCK_FAILURES: '3', ACCOUNT_LOCK_DURATION: '2', ACCOUNT_LOCK_WINDOW: '1m' };
    first = await startTestServer(limits);
    // A second instance on the same database: the counts live in PostgreSQL.
    second = await startTestServer(limits, first.database);
  });
  afterAll(async () => {
    await second.stop();
    await first.stop();
  });

  test('repeated failures lock the account on every instance, even for the right password, until the lock expires', async () => {
    await first.client.signup('victim');
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(onlyError(await first.client.login('victim', 'not the password')).extensions?.reason).toBe(
        'INVALID_CREDENTIALS',
      );
    }
    for (const server of [first, second]) {
      const locked = onlyError(await server.client.login('victim'));
      expect(locked.extensions?.code).toBe('RATE_LIMITED');
      expect(locked.extensions?.retryAfter).toEqual(expect.any(Number));
      expect(locked.extensions?.retryAfter as number).toBeGreaterThanOrEqual(1);
      expect(locked.extensions?.retryAfter as number).toBeLessThanOrEqual(2);
    }
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await second.client.login('victim')).errors).toBeUndefined();
  });

  test('a name with no account locks the same way, so the lock tells nothing about which accounts exist', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(onlyError(await first.client.login('nobody-here', 'not the password')).extensions?.reason).toBe(
        'INVALID_CREDENTIALS',
      );
    }
    expect(onlyError(await first.client.login('nobody-here', 'not the password')).extensions?.code).toBe(
      'RATE_LIMITED',
    );
  });

  test('a successful login clears the failure count', async () => {
    await first.client.signup('forgetful');
    for (let round = 0; round < 2; round++) {
      for (let attempt = 0; attempt < 2; attempt++) await first.client.login('forgetful', 'not the password');
      expect((await first.client.login('forgetful')).errors).toBeUndefined();
    }
  });

  const reauthIn = (token: string, password: string) =>
    first.client.request(REAUTHENTICATE, { p: password }, { token });

  test("reauthenticate counts failed password checks per session: that session is locked, the account's logins are not", async () => {
    const user = await first.client.signup('reauth');
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(onlyError(await reauthIn(user.accessToken, 'not the password')).extensions?.reason).toBe(
        'INVALID_CREDENTIALS',
      );
    }
    expect(onlyError(await reauthIn(user.accessToken, 'correct horse battery')).extensions?.code).toBe('RATE_LIMITED');
    const login = await first.client.login('reauth');
    expect(login.errors).toBeUndefined();
    expect((await reauthIn(login.data!.login.accessToken, 'correct horse battery')).errors).toBeUndefined();
  });

  test("while strangers' failed logins lock the account, its signed-in owner can still confirm and change the password", async () => {
    const owner = await first.client.signup('besieged');
    for (let attempt = 0; attempt < 3; attempt++) await first.client.login('besieged', 'not the password');
    expect(onlyError(await first.client.login('besieged')).extensions?.code).toBe('RATE_LIMITED');

    const reauth = await reauthIn(owner.accessToken, 'correct horse battery');
    expect(reauth.errors).toBeUndefined();
    // Reauthenticating outdated the owner's earlier access token: the pair it returned is theirs now.
    const changed = await first.client.request(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'a brand new passphrase' },
      { token: reauth.data!.reauthenticate.accessToken },
    );
    expect(changed.errors).toBeUndefined();
  });
});

describe('per client IP', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({
      RATE_LIMIT_IP_ATTEMPTS: '4',
      RATE_LIMIT_IP_REFRESHES: '2',
      RATE_LIMIT_IP_WINDOW: '1m',
    });
  });
  afterAll(() => app.stop());

  test('credential attempts from one IP are limited across accounts and fields, and X-Forwarded-For is not believed from a stranger', async () => {
    await app.client.signup('ip-one'); // 1
    await app.client.login('ip-one'); // 2
    await app.client.login('someone-else', 'wrong password'); // 3
    await app.client.login('ip-one', 'wrong password'); // 4
    const limited = await app.client.request(
      LOGIN,
      { input: { usernameOrEmail: 'ip-one', password: 'correct horse battery' } },
      {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      },
    );
    expect(onlyError(limited).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    const signup = await app.client.request(
      'mutation { signup(input: {username: "ip-two", email: "ip2@example.com", password: "correct horse battery"}) { accessToken } }',
    );
    expect(onlyError(signup).extensions?.code).toBe('RATE_LIMITED');
  });

  test('refreshes from one IP are limited on their own budget', async () => {
    const other = await startTestServer({ RATE_LIMIT_IP_REFRESHES: '2' }, app.database);
    try {
      const user = (await other.client.login('ip-one')).data!.login;
      let token = user.refreshToken;
      for (let attempt = 0; attempt < 2; attempt++) {
        const rotated = await other.client.request(
          'mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }',
          { t: token },
        );
        expect(rotated.errors).toBeUndefined();
        token = rotated.data.refresh.refreshToken;
      }
      const limited = await other.client.request(
        'mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }',
        { t: token },
      );
      expect(onlyError(limited).extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await other.stop();
    }
  });
});

describe('behind a trusted proxy', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ RATE_LIMIT_IP_ATTEMPTS: '2', TRUST_PROXY: 'loopback' });
  });
  afterAll(() => app.stop());

  const fromClient = (ip: string, name: string) =>
    app.client.request(
      LOGIN,
      { input: { usernameOrEmail: name, password: 'wrong password' } },
      { headers: { 'x-forwarded-for': ip } },
    );

  test('each client address named by the proxy has its own budget', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(onlyError(await fromClient('198.51.100.1', `a${attempt}`)).extensions?.reason).toBe('INVALID_CREDENTIALS');
    }
    expect(onlyError(await fromClient('198.51.100.1', 'a3')).extensions?.code).toBe('RATE_LIMITED');
    expect(onlyError(await fromClient('198.51.100.2', 'b1')).extensions?.reason).toBe('INVALID_CREDENTIALS');
  });

  test('IPv6 clients share a budget per /56, and an IPv4 client keeps one budget on a dual-stack socket', async () => {
    // A client picking a new address in its network for each attempt is still one client.
    expect(onlyError(await fromClient('2001:db8:aa:100::1', 'v6a')).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(onlyError(await fromClient('2001:db8:aa:1ff::2', 'v6b')).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(onlyError(await fromClient('2001:db8:aa:1ab:1:2:3:4', 'v6c')).extensions?.code).toBe('RATE_LIMITED');
    expect(onlyError(await fromClient('2001:db8:aa:200::1', 'v6d')).extensions?.reason).toBe('INVALID_CREDENTIALS');

    expect(onlyError(await fromClient('198.51.100.9', 'v4a')).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(onlyError(await fromClient('::ffff:198.51.100.9', 'v4b')).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(onlyError(await fromClient('198.51.100.9', 'v4c')).extensions?.code).toBe('RATE_LIMITED');
  });

  test('the client address is what sessions and audit events record', async () => {
    const result = await app.client.request(
      'mutation { signup(input: {username: "proxied", email: "proxied@example.com", password: "correct horse battery"}) { accessToken } }',
      {},
      { headers: { 'x-forwarded-for': '192.0.2.77' } },
    );
    const token = result.data.signup.accessToken as string;
    const sessions = await app.client.request('{ mySessions { ip } }', {}, { token });
    expect(sessions.data.mySessions).toEqual([{ ip: '192.0.2.77' }]);
  });
});

const REFRESH = 'mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }';
/** A refresh as if from `ip` (the test servers below trust the loopback proxy). */
const refreshVia = (app: TestServer, ip: string, token: string) =>
  app.client.request(REFRESH, { t: token }, { headers: { 'x-forwarded-for': ip } });

describe('a refresh past its budget', () => {
  let app: TestServer;
  let pool: pg.Pool;
  beforeAll(async () => {
    // No reuse interval: a token rotated away would end its session when presented again.
    app = await startTestServer({
      RATE_LIMIT_IP_REFRESHES: '2',
      TRUST_PROXY: 'loopback',
      JWT_REFRESH_REUSE_INTERVAL: '0',
    });
    pool = new pg.Pool({ connectionString: app.database.url, max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await app.stop();
  });

  const refreshFrom = (ip: string, token: string) => refreshVia(app, ip, token);
  const sessionRow = async (userId: string) =>
    (
      await pool.query<{ refresh_jti: string; revoked_at: Date | null; refreshes: number }>(
        `select refresh_jti, revoked_at, (select count(*)::int from auth_events where user_id = $1 and type = 'REFRESH') as refreshes
         from sessions where user_id = $1`,
        [userId],
      )
    ).rows;

  test('is refused with its retry time, and rotates and records nothing: its token still works from elsewhere', async () => {
    const user = await app.client.signup('refresh-budget');
    let token = user.refreshToken;
    for (let attempt = 0; attempt < 2; attempt++) {
      const rotated = await refreshFrom('203.0.113.20', token);
      expect(rotated.errors).toBeUndefined();
      token = rotated.data.refresh.refreshToken;
    }
    const before = await sessionRow(user.user.id);
    expect(before).toEqual([{ refresh_jti: expect.any(String), revoked_at: null, refreshes: 2 }]);

    const limited = onlyError(await refreshFrom('203.0.113.20', token));
    expect(limited.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(limited.extensions?.retryAfter as number).toBeGreaterThanOrEqual(1);
    expect(limited.extensions?.retryAfter as number).toBeLessThanOrEqual(60);
    expect(await sessionRow(user.user.id)).toEqual(before);

    const elsewhere = await refreshFrom('203.0.113.21', token);
    expect(elsewhere.errors).toBeUndefined();
    expect(await sessionRow(user.user.id)).toEqual([
      { refresh_jti: expect.not.stringContaining(before[0].refresh_jti), revoked_at: null, refreshes: 3 },
    ]);
  });

  test("judges the counter's window as the count does: one that never ends refuses, one that ended starts over", async () => {
    const user = await app.client.signup('refresh-windows');
    const setCounter = (ip: string, points: number, expire: number | null) =>
      pool.query('insert into rate_limits (key, points, expire) values ($1, $2, $3)', [
        `ip-refresh:${ip}`,
        points,
        expire,
      ]);
    await setCounter('203.0.113.40', 50, null);
    expect(onlyError(await refreshFrom('203.0.113.40', user.refreshToken)).extensions?.code).toBe('RATE_LIMITED');
    await setCounter('203.0.113.41', 50, Date.now() - 1000);
    expect((await refreshFrom('203.0.113.41', user.refreshToken)).errors).toBeUndefined();
    expect((await sessionRow(user.user.id))[0].refreshes).toBe(1);
  });

  test('a token that does not verify is counted all the same', async () => {
    const user = await app.client.signup('refresh-garbage');
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(onlyError(await refreshFrom('203.0.113.30', 'not.a.token')).extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect(onlyError(await refreshFrom('203.0.113.30', user.refreshToken)).extensions?.code).toBe('RATE_LIMITED');
    expect(onlyError(await refreshFrom('203.0.113.30', 'not.a.token')).extensions?.code).toBe('RATE_LIMITED');
    expect((await refreshFrom('203.0.113.31', user.refreshToken)).errors).toBeUndefined();
  });
});

describe('a refresh whose count fails', () => {
  const FAILING_IP = '203.0.113.50';
  let app: TestServer;
  let pool: pg.Pool;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog('error');
    app = await startTestServer({ TRUST_PROXY: 'loopback' }, undefined, { logger: log.logger });
    pool = new pg.Pool({ connectionString: app.database.url, max: 1 });
    // A real failure of the count alone: PostgreSQL refuses to write this IP's counter, while the
    // refresh's statement (which only reads it) runs as ever.
    await pool.query(`
      create function refuse_counter() returns trigger language plpgsql as $$
      begin raise exception 'counter refused for the test'; end $$;
      create trigger refuse_counter before insert or update on rate_limits for each row
        when (new.key = 'ip-refresh:${FAILING_IP}') execute function refuse_counter()`);
  });
  afterAll(async () => {
    await pool.end();
    await app.stop();
  });

  const refreshFrom = (ip: string, token: string) => refreshVia(app, ip, token);

  test('answers the rotation it committed, logs the failure without the token, and serves on', async () => {
    const user = await app.client.signup('refresh-count-fails');
    const rotated = await refreshFrom(FAILING_IP, user.refreshToken);
    expect(rotated.errors).toBeUndefined();
    const next = rotated.data.refresh.refreshToken as string;
    expect(next).not.toBe(user.refreshToken);

    const { rows } = await pool.query<{ refreshes: number; counters: number }>(
      `select (select count(*)::int from auth_events where user_id = $1 and type = 'REFRESH') as refreshes,
        (select count(*)::int from rate_limits where key = $2) as counters`,
      [user.user.id, `ip-refresh:${FAILING_IP}`],
    );
    expect(rows).toEqual([{ refreshes: 1, counters: 0 }]);
    const failures = log.entries.filter(
      (entry) => entry.msg === 'counting a refresh attempt failed; its decision stands',
    );
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0])).toContain('counter refused for the test');
    expect(log.text()).not.toContain(user.refreshToken);
    expect(log.text()).not.toContain(next);

    // The token the answer carried is the session's current one: it rotates again, from here too.
    const again = await refreshFrom(FAILING_IP, next);
    expect(again.errors).toBeUndefined();
    expect((await refreshFrom('203.0.113.51', again.data.refresh.refreshToken as string)).errors).toBeUndefined();
  });
});

describe('the counting statements', () => {
  let app: TestServer;
  let pool: pg.Pool;
  let throttle: Throttle;
  let statements: LoginStatements;
  beforeAll(async () => {
    app = await startTestServer();
    // One connection: every statement below runs on the connection that counted.
    pool = new pg.Pool({ connectionString: app.database.url, max: 1 });
    throttle = new Throttle(pool, app.config.throttle);
    statements = new LoginStatements(pool);
  });
  afterAll(async () => {
    await pool.end();
    await app.stop();
  });

  const commitMode = async () => (await pool.query('show synchronous_commit')).rows[0].synchronous_commit as string;
  const points = async (key: string) =>
    (await pool.query('select points from rate_limits where key = $1', [key])).rows[0]?.points as number | undefined;
  const counts: Array<[string, () => Promise<unknown>]> = [
    ['an IP count', () => throttle.consumeIp(ThrottledAction.REFRESH, '198.51.100.7')],
    ['an account count', () => throttle.beginAccountAttempt('no-such-account')],
    [
      'a login by username',
      () =>
        statements.begin(
          Date.now(),
          throttle.ipCounter(ThrottledAction.CREDENTIALS, '198.51.100.7'),
          'nobody',
          throttle.accountCounter('unknown:nobody'),
        ),
    ],
    [
      'a login by email',
      () =>
        statements.begin(
          Date.now(),
          throttle.ipCounter(ThrottledAction.CREDENTIALS, '198.51.100.7'),
          'nobody@example.com',
          throttle.accountCounter('unknown:nobody@example.com'),
        ),
    ],
    // Over the IP's budget the statement counts nothing else, and still skips the flush.
    [
      'a login over the IP budget',
      () =>
        statements.begin(
          Date.now(),
          { ...throttle.ipCounter(ThrottledAction.CREDENTIALS, '198.51.100.8'), limit: 0 },
          'nobody',
          throttle.accountCounter('unknown:nobody'),
        ),
    ],
  ];

  test.each(counts)('%s commits without waiting for the disk', async (_name, count) => {
    // Inside an explicit transaction the setting can be read back before it ends with it.
    await pool.query('begin');
    try {
      await count();
      expect(await commitMode()).toBe('off');
    } finally {
      await pool.query('rollback');
    }
  });

  test.each(counts)(
    'after %s, the next statement on the connection waits for the disk as before',
    async (_name, count) => {
      const before = await commitMode();
      await count();
      expect(await commitMode()).toBe(before);
    },
  );

  // The statement after requestPasswordReset's answer: both sides skip the flush alike.
  test.each([
    ['with an account', true],
    ['without one', false],
  ])("a reset link's request for an address %s commits without waiting for the disk", async (_name, known) => {
    const email = known ? 'resetter@example.com' : 'nobody-here@example.com';
    if (known) await app.client.signup('resetter');
    const tokens = () => pool.query('select 1 from one_time_tokens where token_hash = $1', ['hash-' + email]);
    await pool.query('begin');
    try {
      await queueResetLink(pool, {
        emailKey: email,
        tokenHash: 'hash-' + email,
        link: 'https://app.example/reset#token',
        ttlSeconds: 60,
        ip: null,
      });
      expect(await commitMode()).toBe('off');
      expect((await tokens()).rowCount).toBe(known ? 1 : 0);
    } finally {
      await pool.query('rollback');
    }
    expect(await commitMode()).not.toBe('off');
  });

  test('the counts are written', async () => {
    await throttle.consumeIp(ThrottledAction.REFRESH, '198.51.100.9');
    const ip = throttle.ipCounter(ThrottledAction.CREDENTIALS, '198.51.100.9');
    const unknown = throttle.accountCounter('unknown:someone');
    const candidate = await statements.begin(Date.now(), ip, 'someone', unknown);
    expect(candidate.account?.user).toBeNull();
    expect(await points('ip-refresh:198.51.100.9')).toBe(1);
    expect(await points(ip.key)).toBe(1);
    expect(await points(unknown.key)).toBe(1);
  });
});
