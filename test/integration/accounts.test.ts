// Sign-up and login over HTTP: the tokens and session they issue, the coded errors they refuse
// with, races on the unique names, password re-hashing and the audit trail.
import { AuthEvent, Session, User } from '../../src/db/entities/index.js';
import { decodeJwt, deactivateUser } from '../helpers/fixtures.js';
import { LOGIN, onlyError, SIGNUP, type AuthPayload, type GraphQLResult } from '../helpers/graphql-client.js';
import { untilJustAfterSecond } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PASSWORD = 'correct horse battery';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

function signup(
  username: string,
  email: string,
  password = PASSWORD,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<{ signup: AuthPayload }>> {
  return app.client.request(SIGNUP, { input: { username, email, password } }, { headers });
}

function login(
  usernameOrEmail: string,
  password = PASSWORD,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<{ login: AuthPayload }>> {
  return app.client.request(LOGIN, { input: { usernameOrEmail, password } }, { headers });
}

function expectInputError(result: GraphQLResult, reason: string, field: string): void {
  expect(result.data ?? null).toBeNull();
  const error = onlyError(result);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, field });
}

function findSession(id: string): Promise<Session | null> {
  return app.orm.em.fork().findOne(Session, { id });
}

describe('signup', () => {
  test('returns Bearer tokens with their lifetimes and the new USER, own email included', async () => {
    // The session's end is fixed in whole seconds as it opens and its tokens are signed just after:
    // across a second boundary refreshExpiresIn would read one less. Started just after a
    // boundary, both fall in the same second.
    await untilJustAfterSecond();
    const result = await signup('alice', 'Alice@Example.com');
    expect(result.errors).toBeUndefined();
    const payload = result.data!.signup;
    expect(payload).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 2592000 });
    expect(payload.user).toMatchObject({
      username: 'alice',
      email: 'Alice@Example.com',
      roles: ['USER'],
      isActive: true,
    });
    expect(payload.user.id).toMatch(UUID);
    expect(Number.isNaN(Date.parse(payload.user.createdAt))).toBe(false);
  });

  test('issues an at+jwt access token with a kid and every claim of the contract, fresh', async () => {
    const payload = (await signup('bruno', 'bruno@example.com')).data!.signup;
    const { header, payload: claims } = decodeJwt(payload.accessToken);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'HS256' });
    expect(typeof header.kid).toBe('string');
    expect((header.kid as string).length).toBeGreaterThan(0);
    expect(claims).toMatchObject({
      iss: 'tessera',
      aud: 'tessera',
      sub: payload.user.id,
      roles: ['USER'],
      fresh: true,
    });
    expect(claims.sid).toMatch(UUID);
    expect(claims.jti).toMatch(UUID);
    expect(typeof claims.iat).toBe('number');
    expect(claims.exp).toBe((claims.iat as number) + 900);
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  test('issues a refresh+jwt refresh token for the same session with a 30-day expiry', async () => {
    const payload = (await signup('celia', 'celia@example.com')).data!.signup;
    const access = decodeJwt(payload.accessToken).payload;
    const { header, payload: claims } = decodeJwt(payload.refreshToken);
    expect(header.typ).toBe('refresh+jwt');
    expect(claims).toMatchObject({ iss: 'tessera', aud: 'tessera', sub: payload.user.id, sid: access.sid });
    expect(claims.jti).toMatch(UUID);
    expect(claims.jti).not.toBe(access.jti);
    expect(claims.exp).toBe((claims.iat as number) + 2592000);
  });

  test('creates a session row holding the refresh jti, the user agent and the client IP', async () => {
    const payload = (await signup('dora', 'dora@example.com', PASSWORD, { 'user-agent': 'TesseraTest/1.0 (signup)' }))
      .data!.signup;
    const refresh = decodeJwt(payload.refreshToken).payload;
    const session = await findSession(refresh.sid as string);
    expect(session).not.toBeNull();
    expect(session!.user.id).toBe(payload.user.id);
    expect(session!.refreshJti).toBe(refresh.jti);
    expect(session!.userAgent).toBe('TesseraTest/1.0 (signup)');
    expect(session!.ip).toMatch(/127\.0\.0\.1$/);
    expect(session!.revokedAt).toBeNull();
    expect(Math.abs(session!.expiresAt.getTime() - (refresh.exp as number) * 1000)).toBeLessThan(2000);
  });

  test.each([
    ['too short', 'ab'],
    ['33 characters long', 'a'.repeat(33)],
    ['containing a space', 'bad name'],
    ['containing an @', 'x@y'],
  ])('refuses a username %s with INVALID_USERNAME on the username field', async (_label, username) => {
    expectInputError(await signup(username, 'someone@example.com'), 'INVALID_USERNAME', 'username');
  });

  test.each([
    ['without an @', 'nope'],
    ['without a domain', 'a@'],
    ['of 300 characters', `${'a'.repeat(288)}@example.com`],
  ])('refuses an email %s with INVALID_EMAIL on the email field', async (_label, email) => {
    expectInputError(await signup('emailtester', email), 'INVALID_EMAIL', 'email');
  });

  test('refuses a 7-character password with WEAK_PASSWORD on the password field', async () => {
    expectInputError(await signup('shorty', 'shorty@example.com', 'x7#kq2Z'), 'WEAK_PASSWORD', 'password');
  });

  test('creates no account when the input is refused', async () => {
    await signup('ab', 'refused@example.com');
    expect(await app.orm.em.fork().count(User, { emailKey: 'refused@example.com' })).toBe(0);
  });

  test('refuses a taken username in another case with ACCOUNT_EXISTS on the username field', async () => {
    expect((await signup('Erika', 'erika@example.com')).errors).toBeUndefined();
    expectInputError(await signup('eRIKA', 'erika.other@example.com'), 'ACCOUNT_EXISTS', 'username');
  });

  test('refuses a taken email in another case with ACCOUNT_EXISTS on the email field', async () => {
    expect((await signup('fabio', 'Fabio@Example.com')).errors).toBeUndefined();
    expectInputError(await signup('fabio2', 'FABIO@example.COM'), 'ACCOUNT_EXISTS', 'email');
  });

  test('ten simultaneous signups for one username make exactly one account and nine ACCOUNT_EXISTS, never a 500', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => signup('racer', `racer${i}@example.com`)));
    expect(results.every((result) => result.status === 200 || result.status === 400)).toBe(true);
    const succeeded = results.filter((result) => result.data?.signup);
    const failed = results.filter((result) => result.errors);
    expect(succeeded).toHaveLength(1);
    expect(failed).toHaveLength(9);
    for (const result of failed) {
      expect(onlyError(result).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'ACCOUNT_EXISTS',
        field: 'username',
      });
    }
    expect(await app.orm.em.fork().count(User, { usernameKey: 'racer' })).toBe(1);
  });

  test('ten simultaneous signups for one email make exactly one account and nine ACCOUNT_EXISTS on the email field', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => signup(`mailracer${i}`, 'Shared@Example.com')),
    );
    const failed = results.filter((result) => result.errors);
    expect(results.filter((result) => result.data?.signup)).toHaveLength(1);
    expect(failed).toHaveLength(9);
    for (const result of failed) {
      expect(onlyError(result).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'ACCOUNT_EXISTS',
        field: 'email',
      });
    }
    expect(await app.orm.em.fork().count(User, { emailKey: 'shared@example.com' })).toBe(1);
  });
});

describe('login', () => {
  let gina: AuthPayload;
  beforeAll(async () => {
    gina = (await signup('Gina', 'Gina@Example.com')).data!.signup;
  });

  test.each(['Gina', 'gina', 'GINA'])('logs in by username written as %s', async (name) => {
    const result = await login(name);
    expect(result.errors).toBeUndefined();
    expect(result.data!.login.user).toMatchObject({ id: gina.user.id, username: 'Gina', email: 'Gina@Example.com' });
    expect(decodeJwt(result.data!.login.accessToken).payload).toMatchObject({ sub: gina.user.id, fresh: true });
  });

  test.each(['Gina@Example.com', 'gina@example.com', 'GINA@EXAMPLE.COM'])(
    'logs in by email written as %s',
    async (email) => {
      const result = await login(email);
      expect(result.errors).toBeUndefined();
      expect(result.data!.login.user.id).toBe(gina.user.id);
    },
  );

  test('opens a new session row for each login, recording the user agent', async () => {
    const result = await login('gina', PASSWORD, { 'user-agent': 'TesseraTest/2.0 (login)' });
    const sid = decodeJwt(result.data!.login.accessToken).payload.sid as string;
    expect(sid).not.toBe(decodeJwt(gina.accessToken).payload.sid);
    const session = await findSession(sid);
    expect(session).not.toBeNull();
    expect(session!.user.id).toBe(gina.user.id);
    expect(session!.userAgent).toBe('TesseraTest/2.0 (login)');
    expect(session!.refreshJti).toBe(decodeJwt(result.data!.login.refreshToken).payload.jti);
  });

  test('answers an unknown user and a wrong password with byte-identical INVALID_CREDENTIALS errors', async () => {
    const unknown = await login('nobody-here', PASSWORD);
    const wrong = await login('gina', 'not the password');
    expect(unknown.data ?? null).toBeNull();
    expect(onlyError(unknown).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(JSON.stringify(wrong.errors)).toBe(JSON.stringify(unknown.errors));
    expect(wrong.status).toBe(unknown.status);
  });

  test('answers a name containing a NUL byte exactly like any unknown user, with INVALID_CREDENTIALS', async () => {
    const unknown = await login('nobody-here', PASSWORD);
    const withNul = await login('gina\u0000', PASSWORD);
    expect(onlyError(withNul).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(JSON.stringify(withNul.errors)).toBe(JSON.stringify(unknown.errors));
  });

  test('answers unknown names as long as an email or longer with INVALID_CREDENTIALS, not a server error', async () => {
    // Their attempt counters' keys would not fit the column whole.
    const longEmail = `${'x'.repeat(240)}@example.com`;
    for (const name of [longEmail, 'y'.repeat(300)]) {
      expect(onlyError(await login(name, PASSWORD)).extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_CREDENTIALS',
      });
    }
  });

  test('tells a disabled account with the right password ACCOUNT_DISABLED but with a wrong one INVALID_CREDENTIALS', async () => {
    const hana = (await signup('hana', 'hana@example.com')).data!.signup;
    await deactivateUser(app, hana.user.id);
    const right = await login('hana', PASSWORD);
    expect(right.data ?? null).toBeNull();
    expect(onlyError(right).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'ACCOUNT_DISABLED' });
    const wrong = await login('hana', 'not the password');
    expect(onlyError(wrong).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(await app.orm.em.fork().count(Session, { user: hana.user.id })).toBe(1);
  });

  test.each([
    ['a garbage Bearer token', 'Bearer garbage.garbage.garbage'],
    ['a wrong scheme', 'Basic dXNlcjpwYXNz'],
    ['a scheme alone', 'Bearer'],
  ])('still logs in with %s in the Authorization header, login being public', async (_label, authorization) => {
    const result = await login('gina', PASSWORD, { authorization });
    expect(result.errors).toBeUndefined();
    expect(result.data!.login.user.id).toBe(gina.user.id);
  });

  test('still logs in with the token of a revoked session in the header', async () => {
    const irma = (await signup('irma', 'irma@example.com')).data!.signup;
    const logout = await app.client.request('mutation { logout }', {}, { token: irma.accessToken });
    expect(logout.data).toEqual({ logout: true });
    const result = await login('irma', PASSWORD, { authorization: `Bearer ${irma.accessToken}` });
    expect(result.errors).toBeUndefined();
    expect(result.data!.login.user.id).toBe(irma.user.id);
  });
});

/** The m, t and p of an argon2id PHC string ("$argon2id$v=19$m=..,t=..,p=..$salt$hash", in any order). */
function argon2Parameters(hash: string): Record<string, number> {
  const [, algorithm, , parameters] = hash.split('$');
  expect(algorithm).toBe('argon2id');
  return Object.fromEntries(
    (parameters ?? '').split(',').map((pair) => {
      const [name, value] = pair.split('=');
      return [name, Number(value)];
    }),
  );
}

describe('password re-hashing', () => {
  test('re-hashes a hash made with other argon2 parameters at the next successful login', async () => {
    // An older deployment with m=2048 creates the account, on this file's database.
    const older = await startTestServer({ ARGON2_MEMORY_KIB: '2048' }, app.database);
    try {
      const result = await older.client.request(SIGNUP, {
        input: { username: 'julia', email: 'julia@example.com', password: PASSWORD },
      });
      expect(result.errors).toBeUndefined();
    } finally {
      await older.stop();
    }
    const storedParameters = async () =>
      argon2Parameters((await app.orm.em.fork().findOneOrFail(User, { usernameKey: 'julia' })).passwordHash);
    expect(await storedParameters()).toEqual({ m: 2048, t: 1, p: 1 });

    // A wrong password changes nothing.
    expect(onlyError(await login('julia', 'not the password')).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect((await storedParameters()).m).toBe(2048);

    // The current deployment (m=1024) upgrades it while the password is at hand.
    expect((await login('julia')).errors).toBeUndefined();
    expect(await storedParameters()).toEqual({ m: 1024, t: 1, p: 1 });
    expect((await login('julia')).errors).toBeUndefined();
  });
});

describe('audit trail', () => {
  test('records SIGNUP, LOGIN_SUCCEEDED and LOGIN_FAILED events for the user, never the password', async () => {
    const secret = 'Very-Secret-Password-42';
    const kato = (await signup('kato', 'kato@example.com', secret)).data!.signup;
    expect((await login('kato', secret)).errors).toBeUndefined();
    const wrongPassword = 'Wrong-Secret-Password-43';
    expect((await login('kato', wrongPassword)).errors).toBeDefined();

    const events = await app.orm.em.fork().find(AuthEvent, { userId: kato.user.id }, { orderBy: { id: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['SIGNUP', 'LOGIN_SUCCEEDED', 'LOGIN_FAILED']);
    expect(events[0].sessionId).toBe(decodeJwt(kato.accessToken).payload.sid);

    const rows = await app.orm.em.fork().getConnection().execute('select * from auth_events');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(wrongPassword);
  });

  test('records a LOGIN_FAILED event without a user for an unknown name', async () => {
    const before = await app.orm.em.fork().count(AuthEvent, { type: 'LOGIN_FAILED', userId: null });
    await login('ghost-user', 'whatever password');
    expect(await app.orm.em.fork().count(AuthEvent, { type: 'LOGIN_FAILED', userId: null })).toBe(before + 1);
  });
});
