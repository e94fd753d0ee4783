// Fresh tokens, password changes, account deletion, what ADMINs do to other accounts, and the
// audit trail, through real HTTP against real PostgreSQL. Every change counts from the very next
// request: the stored roles and session state decide, never the claims in an old token.
import { randomUUID } from 'node:crypto';
import type { AuthPayload } from '../helpers/graphql-client.js';
import { onlyError } from '../helpers/graphql-client.js';
import {
  AUTH_EVENTS,
  authEvents,
  CHANGE_PASSWORD,
  claimsOf,
  codeOf,
  createAdmin,
  DELETE_MY_ACCOUNT,
  LOGOUT_DEFAULT,
  loginOk,
  ME,
  meReason,
  PASSWORD,
  reasonOf,
  REAUTHENTICATE,
  refreshOk,
  refreshReason,
  REVOKE_SESSION,
  SET_USER_ACTIVE,
  SET_USER_ROLES,
  USERS,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { ADMIN_PASSWORD } from '../helpers/fixtures.js';

let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  app = await startTestServer();
  admin = await createAdmin(app, 'warden');
});
afterAll(() => app?.stop());

describe('fresh tokens', () => {
  test('refuses deleteMyAccount with a token from refresh as FRESH_TOKEN_REQUIRED and keeps the account', async () => {
    const signup = await app.client.signup('hasty');
    const rotated = await refreshOk(app, signup.refreshToken);
    const result = await app.client.request(DELETE_MY_ACCOUNT, {}, { token: rotated.accessToken });
    const error = onlyError(result);
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.reason).toBe('FRESH_TOKEN_REQUIRED');
    expect(await meReason(app, rotated.accessToken)).toBeUndefined();
    expect((await app.client.login('hasty')).errors).toBeUndefined();
  });

  test('reauthenticate gives fresh tokens for the same session that can delete the account, which ends every token', async () => {
    const signup = await app.client.signup('leaving');
    const other = await loginOk(app, 'leaving');
    const rotated = await refreshOk(app, signup.refreshToken);

    const reauth = await app.client.request(REAUTHENTICATE, { p: PASSWORD }, { token: rotated.accessToken });
    expect(reauth.errors).toBeUndefined();
    const fresh = reauth.data.reauthenticate as AuthPayload;
    expect(claimsOf(fresh.accessToken).fresh).toBe(true);
    expect(claimsOf(fresh.accessToken).sid).toBe(claimsOf(signup.accessToken).sid);
    expect(claimsOf(fresh.refreshToken).sid).toBe(claimsOf(signup.accessToken).sid);

    const deleted = await app.client.request(DELETE_MY_ACCOUNT, {}, { token: fresh.accessToken });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data?.deleteMyAccount).toBe(true);

    const login = await app.client.login('leaving');
    expect(onlyError(login).extensions?.reason).toBe('INVALID_CREDENTIALS');
    for (const tokens of [signup, rotated, fresh, other]) {
      expect(await meReason(app, tokens.accessToken)).toBe('TOKEN_REVOKED');
    }
    expect(await refreshReason(app, fresh.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, other.refreshToken)).toBe('TOKEN_REVOKED');
  });

  test('reauthenticate with a wrong password fails with INVALID_CREDENTIALS and issues nothing', async () => {
    const signup = await app.client.signup('forgetful');
    const result = await app.client.request(
      REAUTHENTICATE,
      { p: 'not my password at all' },
      { token: signup.accessToken },
    );
    const error = onlyError(result);
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(result.data).toBeNull();
    expect(await meReason(app, signup.accessToken)).toBeUndefined();
  });

  test('refuses setUserRoles and setUserActive by an ADMIN holding a refreshed token as FRESH_TOKEN_REQUIRED', async () => {
    const target = await app.client.signup('untouched');
    const stale = await refreshOk(app, admin.refreshToken);
    // Rotating the admin's token made the one in `admin` a parent: keep the suite's admin usable.
    admin = stale;
    const roles = await app.client.request(
      SET_USER_ROLES,
      { id: target.user.id, roles: ['USER', 'ADMIN'] },
      { token: stale.accessToken },
    );
    expect(codeOf(roles)).toBe('UNAUTHENTICATED');
    expect(reasonOf(roles)).toBe('FRESH_TOKEN_REQUIRED');
    const active = await app.client.request(
      SET_USER_ACTIVE,
      { id: target.user.id, active: false },
      { token: stale.accessToken },
    );
    expect(codeOf(active)).toBe('UNAUTHENTICATED');
    expect(reasonOf(active)).toBe('FRESH_TOKEN_REQUIRED');

    const me = await app.client.request(ME, {}, { token: target.accessToken });
    expect(me.data?.me.roles).toEqual(['USER']);
    expect(me.data?.me.isActive).toBe(true);

    // The same admin, after reauthenticating, may.
    const reauth = await app.client.request(REAUTHENTICATE, { p: ADMIN_PASSWORD }, { token: stale.accessToken });
    admin = reauth.data.reauthenticate as AuthPayload;
    const allowed = await app.client.request(
      SET_USER_ROLES,
      { id: target.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(allowed.errors).toBeUndefined();
  });

  test('refuses setUserRoles and setUserActive by a USER as FORBIDDEN, fresh token or not', async () => {
    const user = await app.client.signup('upstart');
    const roles = await app.client.request(
      SET_USER_ROLES,
      { id: user.user.id, roles: ['USER', 'ADMIN'] },
      { token: user.accessToken },
    );
    expect(codeOf(roles)).toBe('FORBIDDEN');
    const active = await app.client.request(
      SET_USER_ACTIVE,
      { id: admin.user.id, active: false },
      { token: user.accessToken },
    );
    expect(codeOf(active)).toBe('FORBIDDEN');
    const me = await app.client.request(ME, {}, { token: user.accessToken });
    expect(me.data?.me.roles).toEqual(['USER']);
    expect(await meReason(app, admin.accessToken)).toBeUndefined();
  });
});

describe('changePassword', () => {
  test('refuses a wrong current password with INVALID_CREDENTIALS and changes nothing', async () => {
    const signup = await app.client.signup('guessing');
    const result = await app.client.request(
      CHANGE_PASSWORD,
      { c: 'wrong current password', n: 'brand new passphrase 9' },
      { token: signup.accessToken },
    );
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
    expect(reasonOf(result)).toBe('INVALID_CREDENTIALS');
    expect((await app.client.login('guessing')).errors).toBeUndefined();
    expect((await app.client.login('guessing', 'brand new passphrase 9')).errors?.[0]?.extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
  });

  test('refuses a weak new password with WEAK_PASSWORD and changes nothing', async () => {
    const signup = await app.client.signup('weakling');
    const other = await loginOk(app, 'weakling');
    const result = await app.client.request(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'short' },
      { token: signup.accessToken },
    );
    const error = onlyError(result);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.extensions?.reason).toBe('WEAK_PASSWORD');
    expect(error.extensions?.field).toBe('newPassword');
    expect(await meReason(app, other.accessToken)).toBeUndefined();
    expect((await app.client.login('weakling')).errors).toBeUndefined();
  });

  test('returns fresh tokens for the same session, ends every other session at once, and swaps the passwords', async () => {
    const signup = await app.client.signup('rotating');
    const laptop = await loginOk(app, 'rotating');
    const phone = await loginOk(app, 'rotating');
    // The other sessions' principals are cached before the change.
    expect(await meReason(app, laptop.accessToken)).toBeUndefined();
    expect(await meReason(app, phone.accessToken)).toBeUndefined();

    const result = await app.client.request(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'brand new passphrase 9' },
      { token: signup.accessToken },
    );
    expect(result.errors).toBeUndefined();
    const tokens = result.data.changePassword as AuthPayload;
    expect(claimsOf(tokens.accessToken).fresh).toBe(true);
    expect(claimsOf(tokens.accessToken).sid).toBe(claimsOf(signup.accessToken).sid);
    expect(claimsOf(tokens.refreshToken).sid).toBe(claimsOf(signup.accessToken).sid);
    expect(tokens.user.id).toBe(signup.user.id);

    expect(await meReason(app, laptop.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, phone.accessToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, laptop.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, tokens.accessToken)).toBeUndefined();
    expect(await refreshReason(app, tokens.refreshToken)).toBeUndefined();

    const oldLogin = await app.client.login('rotating');
    expect(onlyError(oldLogin).extensions?.reason).toBe('INVALID_CREDENTIALS');
    const newLogin = await app.client.login('rotating', 'brand new passphrase 9');
    expect(newLogin.errors).toBeUndefined();
    expect(newLogin.data?.login.user.id).toBe(signup.user.id);
  });
});

describe('administration takes effect on the next request', () => {
  test("a promoted user's existing token may list users, and after demotion the same token gets FORBIDDEN", async () => {
    const user = await app.client.signup('climber');
    expect(codeOf(await app.client.request(USERS, {}, { token: user.accessToken }))).toBe('FORBIDDEN');

    const promoted = await app.client.request(
      SET_USER_ROLES,
      { id: user.user.id, roles: ['USER', 'ADMIN'] },
      { token: admin.accessToken },
    );
    expect(promoted.errors).toBeUndefined();
    expect(promoted.data?.setUserRoles.roles.sort()).toEqual(['ADMIN', 'USER']);
    const listed = await app.client.request(USERS, {}, { token: user.accessToken });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.users.map((row: { id: string }) => row.id)).toContain(user.user.id);
    expect((await app.client.request(ME, {}, { token: user.accessToken })).data?.me.roles.sort()).toEqual([
      'ADMIN',
      'USER',
    ]);

    const demoted = await app.client.request(
      SET_USER_ROLES,
      { id: user.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(demoted.data?.setUserRoles.roles).toEqual(['USER']);
    expect(codeOf(await app.client.request(USERS, {}, { token: user.accessToken }))).toBe('FORBIDDEN');
    // The session itself is untouched by a role change.
    expect(await meReason(app, user.accessToken)).toBeUndefined();
  });

  test('a token carrying ADMIN in its claims is not honoured once the stored roles lose it', async () => {
    const user = await app.client.signup('demotee');
    await app.client.request(
      SET_USER_ROLES,
      { id: user.user.id, roles: ['USER', 'ADMIN'] },
      { token: admin.accessToken },
    );
    const adminLogin = await loginOk(app, 'demotee');
    expect(claimsOf(adminLogin.accessToken).roles).toContain('ADMIN');
    await app.client.request(SET_USER_ROLES, { id: user.user.id, roles: ['USER'] }, { token: admin.accessToken });
    expect(codeOf(await app.client.request(USERS, {}, { token: adminLogin.accessToken }))).toBe('FORBIDDEN');
  });

  test("setUserActive(false) ends the user's sessions at once and refuses their logins until setUserActive(true)", async () => {
    const user = await app.client.signup('suspended');
    const other = await loginOk(app, 'suspended');
    expect(await meReason(app, user.accessToken)).toBeUndefined();

    const disabled = await app.client.request(
      SET_USER_ACTIVE,
      { id: user.user.id, active: false },
      { token: admin.accessToken },
    );
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data?.setUserActive.isActive).toBe(false);

    expect(await meReason(app, user.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, other.accessToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, other.refreshToken)).toBe('TOKEN_REVOKED');
    const refused = await app.client.login('suspended');
    expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    expect(reasonOf(refused)).toBe('ACCOUNT_DISABLED');

    const enabled = await app.client.request(
      SET_USER_ACTIVE,
      { id: user.user.id, active: true },
      { token: admin.accessToken },
    );
    expect(enabled.data?.setUserActive.isActive).toBe(true);
    const back = await loginOk(app, 'suspended');
    expect(await meReason(app, back.accessToken)).toBeUndefined();
    // Re-enabling does not bring the ended sessions back.
    expect(await meReason(app, user.accessToken)).toBe('TOKEN_REVOKED');
  });

  test('setUserRoles and setUserActive of a user that does not exist answer NOT_FOUND', async () => {
    for (const id of [randomUUID(), 'abc']) {
      const roles = await app.client.request(SET_USER_ROLES, { id, roles: ['USER'] }, { token: admin.accessToken });
      expect(onlyError(roles).extensions?.code).toBe('NOT_FOUND');
      const active = await app.client.request(SET_USER_ACTIVE, { id, active: false }, { token: admin.accessToken });
      expect(onlyError(active).extensions?.code).toBe('NOT_FOUND');
    }
  });
});

describe('audit trail', () => {
  test('records each kind of event with its user, session and ip, newest first, and never a password or a token', async () => {
    const secrets: string[] = [];
    const keep = (tokens: AuthPayload) => {
      secrets.push(
        tokens.accessToken,
        tokens.refreshToken,
        claimsOf(tokens.accessToken).jti,
        claimsOf(tokens.refreshToken).jti,
      );
      return tokens;
    };
    const firstPassword = 'first audited passphrase 1';
    const wrongPassword = 'wrong audited passphrase 2';
    const secondPassword = 'second audited passphrase 3';
    secrets.push(firstPassword, wrongPassword, secondPassword);

    const signup = keep(await app.client.signup('audited', firstPassword));
    const userId = signup.user.id;
    const signupSid = claimsOf(signup.accessToken).sid;
    const failed = await app.client.login('audited', wrongPassword);
    expect(reasonOf(failed)).toBe('INVALID_CREDENTIALS');
    const phone = keep(await loginOk(app, 'audited', firstPassword));
    const phoneSid = claimsOf(phone.accessToken).sid;
    const tablet = keep(await loginOk(app, 'audited', firstPassword));
    const tabletSid = claimsOf(tablet.accessToken).sid;
    const rotated = keep(await refreshOk(app, phone.refreshToken));
    expect(
      (await app.client.request(REVOKE_SESSION, { id: tabletSid }, { token: signup.accessToken })).data?.revokeSession,
    ).toBe(true);
    expect((await app.client.request(LOGOUT_DEFAULT, {}, { token: rotated.accessToken })).data?.logout).toBe(true);
    const changed = await app.client.request(
      CHANGE_PASSWORD,
      { c: firstPassword, n: secondPassword },
      { token: signup.accessToken },
    );
    expect(changed.errors).toBeUndefined();
    const afterChange = keep(changed.data.changePassword);
    expect(
      (await app.client.request(SET_USER_ROLES, { id: userId, roles: ['USER', 'ADMIN'] }, { token: admin.accessToken }))
        .errors,
    ).toBeUndefined();
    expect(
      (await app.client.request(SET_USER_ACTIVE, { id: userId, active: false }, { token: admin.accessToken })).errors,
    ).toBeUndefined();
    expect(
      (await app.client.request(SET_USER_ACTIVE, { id: userId, active: true }, { token: admin.accessToken })).errors,
    ).toBeUndefined();
    const last = keep(await loginOk(app, 'audited', secondPassword));
    const lastSid = claimsOf(last.accessToken).sid;
    expect((await app.client.request(DELETE_MY_ACCOUNT, {}, { token: last.accessToken })).data?.deleteMyAccount).toBe(
      true,
    );
    // A reuse, on a second user, for the REFRESH_REUSE_DETECTED event.
    const reuser = keep(await app.client.signup('reuser', firstPassword));
    keep(await refreshOk(app, reuser.refreshToken));
    keep(await refreshOk(app, (await refreshOk(app, reuser.refreshToken)).refreshToken));
    expect(await refreshReason(app, reuser.refreshToken)).toBe('REFRESH_TOKEN_REUSED');

    const events = await authEvents(app, admin.accessToken, { userId });
    // Newest first, and the trail of a deleted account is kept.
    expect(events.map((event) => event.type)).toEqual([
      'ACCOUNT_DELETED',
      'LOGIN_SUCCEEDED',
      'ACCOUNT_ENABLED',
      'ACCOUNT_DISABLED',
      'ROLES_CHANGED',
      'PASSWORD_CHANGED',
      'LOGOUT',
      'SESSION_REVOKED',
      'REFRESH',
      'LOGIN_SUCCEEDED',
      'LOGIN_SUCCEEDED',
      'LOGIN_FAILED',
      'SIGNUP',
    ]);
    const ids = events.map((event) => BigInt(event.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1] > ids[i]).toBe(true);
    for (let i = 1; i < events.length; i++) {
      expect(Date.parse(events[i - 1].createdAt)).toBeGreaterThanOrEqual(Date.parse(events[i].createdAt));
    }
    for (const event of events) {
      expect(event.userId).toBe(userId);
      expect(event.ip).toBe('127.0.0.1');
    }
    const byType = (type: string) => events.filter((event) => event.type === type);
    expect(byType('SIGNUP')[0].sessionId).toBe(signupSid);
    expect(byType('LOGIN_FAILED')[0].sessionId).toBeNull();
    expect(
      byType('LOGIN_SUCCEEDED')
        .map((event) => event.sessionId)
        .sort(),
    ).toEqual([phoneSid, tabletSid, lastSid].sort());
    expect(byType('REFRESH')[0].sessionId).toBe(phoneSid);
    expect(byType('SESSION_REVOKED')[0].sessionId).toBe(tabletSid);
    expect(byType('LOGOUT')[0].sessionId).toBe(phoneSid);
    expect(byType('PASSWORD_CHANGED')[0].sessionId).toBe(signupSid);
    expect(byType('ROLES_CHANGED')[0].actorId).toBe(admin.user.id);
    expect(byType('ACCOUNT_DISABLED')[0].actorId).toBe(admin.user.id);
    expect(byType('ACCOUNT_DELETED')[0].sessionId).toBe(lastSid);

    const reuserEvents = await authEvents(app, admin.accessToken, { userId: reuser.user.id });
    expect(reuserEvents[0].type).toBe('REFRESH_REUSE_DETECTED');
    expect(reuserEvents[0].sessionId).toBe(claimsOf(reuser.refreshToken).sid);
    expect(reuserEvents[0].ip).toBe('127.0.0.1');

    // The whole table, every column as text: no password, token or token id anywhere.
    expect(afterChange.accessToken).toBeTruthy();
    const rows = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ row: string }[]>('select row_to_json(e)::text as row from auth_events e');
    expect(rows.length).toBeGreaterThanOrEqual(events.length + reuserEvents.length);
    const table = rows.map((row) => row.row).join('\n');
    for (const secret of secrets) expect(table.includes(secret)).toBe(false);
  });

  test("lists every user's events newest first, honours limit and the userId filter", async () => {
    const one = await app.client.signup('filtered');
    await app.client.login('filtered', 'a wrong password here');

    const all = await authEvents(app, admin.accessToken);
    expect(new Set(all.map((event) => event.userId)).size).toBeGreaterThan(2);
    expect(all[0].type).toBe('LOGIN_FAILED');
    expect(all[0].userId).toBe(one.user.id);
    expect(all[1].type).toBe('SIGNUP');

    const limited = await authEvents(app, admin.accessToken, { limit: 3 });
    expect(limited).toEqual(all.slice(0, 3));

    const mine = await authEvents(app, admin.accessToken, { userId: one.user.id });
    expect(mine.map((event) => event.type)).toEqual(['LOGIN_FAILED', 'SIGNUP']);
    // createdAt is the row's own instant, to the millisecond, in UTC.
    const [stored] = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ at: string }[]>(
        `select to_char(date_trunc('milliseconds', created_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
           from auth_events where id = ?`,
        [mine[0].id],
      );
    expect(mine[0].createdAt).toBe(stored.at);
    const oneOfMine = await authEvents(app, admin.accessToken, { userId: one.user.id, limit: 1 });
    expect(oneOfMine.map((event) => event.type)).toEqual(['LOGIN_FAILED']);
    expect(await authEvents(app, admin.accessToken, { userId: randomUUID() })).toEqual([]);
  });

  test('refuses authEvents to a non-ADMIN with FORBIDDEN and to an anonymous caller with UNAUTHENTICATED', async () => {
    const user = await app.client.signup('snoop');
    const result = await app.client.request(AUTH_EVENTS, { limit: 10 }, { token: user.accessToken });
    expect(onlyError(result).extensions?.code).toBe('FORBIDDEN');
    expect(result.data).toBeNull();
    const anonymous = await app.client.request(AUTH_EVENTS, { limit: 10 });
    expect(onlyError(anonymous).extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('refuses a limit of 0 with BAD_USER_INPUT', async () => {
    const result = await app.client.request(AUTH_EVENTS, { limit: 0 }, { token: admin.accessToken });
    const error = onlyError(result);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('limit');
  });
});
