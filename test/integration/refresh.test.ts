// Refresh rotation through real HTTP against real PostgreSQL: every refresh rotates, a rotated-away
// token presented again ends the session (except the immediate parent inside the grace window),
// concurrent refreshes do not fork the family, and a session ends at its absolute expiry (or
// after inactivity, when configured) however often it was rotated.
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthEvent, Session } from '../../src/db/entities/index.js';
import { onlyError } from '../helpers/graphql-client.js';
import {
  claimsOf,
  codeOf,
  ME,
  meReason,
  mySessions,
  reasonOf,
  REFRESH,
  REFRESH_FROM_HEADER,
  refreshOk,
  refreshReason,
  sleep,
  untilJustAfterSecond,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app?.stop());

describe('rotation', () => {
  test('returns a new access token and a new refresh token for the same session', async () => {
    const signup = await app.client.signup('rotor');
    const rotated = await refreshOk(app, signup.refreshToken);

    const oldRefresh = claimsOf(signup.refreshToken);
    const newRefresh = claimsOf(rotated.refreshToken);
    const newAccess = claimsOf(rotated.accessToken);
    expect(newRefresh.jti).not.toBe(oldRefresh.jti);
    expect(newRefresh.sid).toBe(oldRefresh.sid);
    expect(newRefresh.sub).toBe(signup.user.id);
    expect(rotated.accessToken).not.toBe(signup.accessToken);
    expect(newAccess.sid).toBe(oldRefresh.sid);
    expect(newAccess.jti).not.toBe(claimsOf(signup.accessToken).jti);
    expect(rotated.user.id).toBe(signup.user.id);
    expect(rotated.tokenType).toBe('Bearer');

    const me = await app.client.request(ME, {}, { token: rotated.accessToken });
    expect(me.errors).toBeUndefined();
    expect(me.data.me.id).toBe(signup.user.id);
  });

  test('issues a non-fresh access token where login and signup issue fresh ones', async () => {
    const signup = await app.client.signup('freshness');
    expect(claimsOf(signup.accessToken).fresh).toBe(true);
    const rotated = await refreshOk(app, signup.refreshToken);
    expect(claimsOf(rotated.accessToken).fresh).toBe(false);
  });

  test('takes the refresh token from the Authorization header when the argument is omitted', async () => {
    const signup = await app.client.signup('headerman');
    const result = await app.client.request(REFRESH_FROM_HEADER, {}, { token: signup.refreshToken });
    expect(result.errors).toBeUndefined();
    const rotated = result.data.refresh;
    expect(claimsOf(rotated.refreshToken).sid).toBe(claimsOf(signup.refreshToken).sid);
    expect(claimsOf(rotated.refreshToken).jti).not.toBe(claimsOf(signup.refreshToken).jti);
    // The header token was really consumed: the new one is now the current one.
    expect(await refreshReason(app, rotated.refreshToken)).toBeUndefined();
  });

  test('fails with UNAUTHENTICATED and TOKEN_MISSING when no refresh token is sent at all', async () => {
    const result = await app.client.request(REFRESH_FROM_HEADER);
    const error = onlyError(result);
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.reason).toBe('TOKEN_MISSING');
    expect(result.data).toBeNull();
  });

  test('records a REFRESH event with the user, the session and the ip', async () => {
    const signup = await app.client.signup('audited');
    await refreshOk(app, signup.refreshToken);
    const sid = claimsOf(signup.refreshToken).sid;
    const events = await app.orm.em.fork().find(AuthEvent, { userId: signup.user.id, type: 'REFRESH' });
    expect(events).toHaveLength(1);
    expect(events[0].sessionId).toBe(sid);
    expect(events[0].ip).toBe('127.0.0.1');
  });
});

describe('the rotation as stored', () => {
  test('is in the database when the answer arrives: the new token current, the old one its parent', async () => {
    const signup = await app.client.signup('durable');
    const rotated = await refreshOk(app, signup.refreshToken);
    const row = await app.orm.em.fork().findOneOrFail(Session, { id: claimsOf(signup.refreshToken).sid });
    expect(row.refreshJti).toBe(claimsOf(rotated.refreshToken).jti);
    expect(row.previousRefreshJti).toBe(claimsOf(signup.refreshToken).jti);
    expect(row.rotatedAt).not.toBeNull();
    expect(row.lastUsedAt.getTime()).toBe(row.rotatedAt!.getTime());
    expect(row.revokedAt).toBeNull();
  });

  test('a reuse ends the session with REFRESH_TOKEN_REUSED as its reason, and the grace answer writes nothing', async () => {
    const signup = await app.client.signup('reasoned');
    const sid = claimsOf(signup.refreshToken).sid;
    const b = await refreshOk(app, signup.refreshToken);
    const before = await app.orm.em.fork().findOneOrFail(Session, { id: sid });
    const again = await refreshOk(app, signup.refreshToken);
    expect(claimsOf(again.refreshToken).jti).toBe(claimsOf(b.refreshToken).jti);
    const graced = await app.orm.em.fork().findOneOrFail(Session, { id: sid });
    expect(graced.refreshJti).toBe(before.refreshJti);
    expect(graced.rotatedAt!.getTime()).toBe(before.rotatedAt!.getTime());
    expect(await app.orm.em.fork().count(AuthEvent, { sessionId: sid, type: 'REFRESH' })).toBe(1);

    await refreshOk(app, b.refreshToken);
    expect(await refreshReason(app, signup.refreshToken)).toBe('REFRESH_TOKEN_REUSED');
    const ended = await app.orm.em.fork().findOneOrFail(Session, { id: sid });
    expect(ended.revokedReason).toBe('REFRESH_TOKEN_REUSED');
    expect(ended.revokedAt).not.toBeNull();
    // Presented again, the ended session records no second reuse.
    expect(await refreshReason(app, signup.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await app.orm.em.fork().count(AuthEvent, { sessionId: sid, type: 'REFRESH_REUSE_DETECTED' })).toBe(1);
  });

  test("a validly signed token naming another user's session is refused, and that session lives on", async () => {
    const owner = await app.client.signup('owner');
    const intruder = await app.client.signup('intruder');
    const keys = app.config.jwt.keys;
    if (keys.algorithm !== 'HS256') throw new Error('the test server signs with HS256');
    // Signed with the server's secret outside Tessera: only the subject is wrong.
    const claims = claimsOf(owner.refreshToken);
    const kid = createHmac('sha256', keys.secret).update('tessera kid').digest('base64url').slice(0, 22);
    const forged = jwt.sign({ ...claims, sub: intruder.user.id }, keys.secret, {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'refresh+jwt', kid },
    });
    expect(await refreshReason(app, forged)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, owner.refreshToken)).toBeUndefined();
  });
});

describe('reuse detection', () => {
  test('revokes the whole session when a rotated-away grandparent refresh token is presented again', async () => {
    const signup = await app.client.signup('victim');
    const a = signup;
    const b = await refreshOk(app, a.refreshToken);
    const c = await refreshOk(app, b.refreshToken);

    const reuse = await app.client.request(REFRESH, { t: a.refreshToken });
    const error = onlyError(reuse);
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.reason).toBe('REFRESH_TOKEN_REUSED');

    // Every token descended from that login is dead now, the current one included.
    expect(await refreshReason(app, b.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, c.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, a.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, a.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, b.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, c.accessToken)).toBe('TOKEN_REVOKED');

    const sid = claimsOf(a.refreshToken).sid;
    const events = await app.orm.em.fork().find(AuthEvent, { sessionId: sid, type: 'REFRESH_REUSE_DETECTED' });
    expect(events).toHaveLength(1);
    expect(events[0].userId).toBe(signup.user.id);
    expect(events[0].ip).toBe('127.0.0.1');
  });

  test('ends only the family of the reused token, not the other sessions of the user', async () => {
    const signup = await app.client.signup('twodevices');
    const other = (await app.client.login('twodevices')).data!.login;
    const b = await refreshOk(app, signup.refreshToken);
    await refreshOk(app, b.refreshToken);
    expect(await refreshReason(app, signup.refreshToken)).toBe('REFRESH_TOKEN_REUSED');

    expect(await meReason(app, other.accessToken)).toBeUndefined();
    expect(await refreshReason(app, other.refreshToken)).toBeUndefined();
  });
});

describe('grace window', () => {
  test('hands the current generation out again when the immediate parent is presented inside the interval', async () => {
    const signup = await app.client.signup('twotabs');
    const b = await refreshOk(app, signup.refreshToken);
    const again = await refreshOk(app, signup.refreshToken);

    expect(claimsOf(again.refreshToken).jti).toBe(claimsOf(b.refreshToken).jti);
    expect(claimsOf(again.refreshToken).sid).toBe(claimsOf(b.refreshToken).sid);
    expect(claimsOf(again.accessToken).fresh).toBe(false);

    // No fork: still one session, and the current token still rotates.
    const sessions = await mySessions(app, again.accessToken);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].current).toBe(true);
    const row = await app.orm.em.fork().findOneOrFail(Session, { id: claimsOf(b.refreshToken).sid });
    expect(row.refreshJti).toBe(claimsOf(b.refreshToken).jti);
    const c = await refreshOk(app, b.refreshToken);
    expect(claimsOf(c.refreshToken).jti).not.toBe(claimsOf(b.refreshToken).jti);
    expect(await meReason(app, c.accessToken)).toBeUndefined();
    expect(await meReason(app, again.accessToken)).toBeUndefined();
  });

  test('does not extend grace to the grandparent even inside the interval', async () => {
    const signup = await app.client.signup('grandparent');
    const b = await refreshOk(app, signup.refreshToken);
    await refreshOk(app, b.refreshToken);
    // b is now the immediate parent; the signup token is two generations back.
    expect(await refreshReason(app, signup.refreshToken)).toBe('REFRESH_TOKEN_REUSED');
  });

  test('treats the immediate parent as reuse once JWT_REFRESH_REUSE_INTERVAL has passed', async () => {
    const short = await startTestServer({ JWT_REFRESH_REUSE_INTERVAL: '1' });
    try {
      const signup = await short.client.signup('latecomer');
      const b = await refreshOk(short, signup.refreshToken);
      await sleep(1200);
      const late = await short.client.request(REFRESH, { t: signup.refreshToken });
      expect(codeOf(late)).toBe('UNAUTHENTICATED');
      expect(reasonOf(late)).toBe('REFRESH_TOKEN_REUSED');
      expect(await refreshReason(short, b.refreshToken)).toBe('TOKEN_REVOKED');
      expect(await meReason(short, b.accessToken)).toBe('TOKEN_REVOKED');
    } finally {
      await short.stop();
    }
  });
});

describe('concurrency', () => {
  test('twenty simultaneous refreshes with one token leave exactly one successor and a working session', async () => {
    const signup = await app.client.signup('stampede');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => app.client.request(REFRESH, { t: signup.refreshToken })),
    );

    const successes = results.filter((result) => result.data?.refresh);
    const failures = results.filter((result) => !result.data?.refresh);
    for (const failure of failures) expect(failure.errors?.length).toBeGreaterThan(0);
    expect(successes.length).toBeGreaterThan(0);
    expect(successes.length + failures.length).toBe(20);

    const successorJtis = new Set(successes.map((result) => claimsOf(result.data.refresh.refreshToken).jti));
    expect(successorJtis.size).toBe(1);
    const [successor] = [...successorJtis];
    expect(successor).not.toBe(claimsOf(signup.refreshToken).jti);

    // The session holds exactly that successor, and only one session exists.
    const sid = claimsOf(signup.refreshToken).sid;
    const row = await app.orm.em.fork().findOneOrFail(Session, { id: sid });
    expect(row.refreshJti).toBe(successor);
    expect(row.revokedAt).toBeNull();
    const sessions = await mySessions(app, successes[0].data.refresh.accessToken);
    expect(sessions).toHaveLength(1);

    // Exactly one rotation happened: one REFRESH event.
    const refreshes = await app.orm.em.fork().find(AuthEvent, { sessionId: sid, type: 'REFRESH' });
    expect(refreshes).toHaveLength(1);

    const next = await refreshOk(app, successes[0].data.refresh.refreshToken);
    expect(claimsOf(next.refreshToken).jti).not.toBe(successor);
    expect(await meReason(app, next.accessToken)).toBeUndefined();
  });
});

describe('refused tokens', () => {
  test('refuses a malformed refresh token with TOKEN_INVALID', async () => {
    for (const garbage of ['not-a-token', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
      const result = await app.client.request(REFRESH, { t: garbage });
      expect(codeOf(result)).toBe('UNAUTHENTICATED');
      expect(reasonOf(result)).toBe('TOKEN_INVALID');
    }
  });

  test('refuses a refresh token whose signature was tampered with as TOKEN_INVALID', async () => {
    const signup = await app.client.signup('tamper');
    const [header, payload, signature] = signup.refreshToken.split('.');
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect(await refreshReason(app, `${header}.${payload}.${flipped}`)).toBe('TOKEN_INVALID');
    // The real token was not consumed by the forgery.
    expect(await refreshReason(app, signup.refreshToken)).toBeUndefined();
  });

  test('refuses an access token presented to refresh as TOKEN_INVALID, without touching the session', async () => {
    const signup = await app.client.signup('wrongtype');
    const asArgument = await app.client.request(REFRESH, { t: signup.accessToken });
    expect(codeOf(asArgument)).toBe('UNAUTHENTICATED');
    expect(reasonOf(asArgument)).toBe('TOKEN_INVALID');
    const inHeader = await app.client.request(REFRESH_FROM_HEADER, {}, { token: signup.accessToken });
    expect(reasonOf(inHeader)).toBe('TOKEN_INVALID');
    expect(await meReason(app, signup.accessToken)).toBeUndefined();
    expect(await refreshReason(app, signup.refreshToken)).toBeUndefined();
  });

  test('refuses a refresh token used as an access token with TOKEN_INVALID', async () => {
    const signup = await app.client.signup('misuse');
    const result = await app.client.request(ME, {}, { token: signup.refreshToken });
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
    expect(reasonOf(result)).toBe('TOKEN_INVALID');
  });
});

describe('lifetimes', () => {
  test('ends a session at its absolute expiry even though it was rotated in a later second', async () => {
    const short = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '1', JWT_REFRESH_TOKEN_EXPIRES: '2' });
    try {
      await untilJustAfterSecond();
      const signup = await short.client.signup('mayfly');
      const [session] = await mySessions(short, signup.accessToken);
      const expiresAt = Date.parse(session.expiresAt);
      expect(claimsOf(signup.refreshToken).exp * 1000).toBeLessThanOrEqual(expiresAt);

      // Rotate just after the next whole second: an expiry recomputed from "now" would move.
      const signupSecond = Math.floor(Date.now() / 1000);
      await sleep((signupSecond + 1) * 1000 + 50 - Date.now());
      const rotated = await refreshOk(short, signup.refreshToken);
      expect(claimsOf(rotated.refreshToken).exp * 1000).toBeLessThanOrEqual(expiresAt);
      expect(rotated.refreshExpiresIn).toBeLessThanOrEqual(2);
      const [after] = await mySessions(short, rotated.accessToken);
      expect(Date.parse(after.expiresAt)).toBe(expiresAt);

      await sleep(Math.max(0, expiresAt + 150 - Date.now()));
      const expired = await short.client.request(REFRESH, { t: rotated.refreshToken });
      expect(codeOf(expired)).toBe('UNAUTHENTICATED');
      expect(reasonOf(expired)).toBe('SESSION_EXPIRED');
    } finally {
      await short.stop();
    }
  });

  test('ends a session idle past SESSION_INACTIVITY_TIMEOUT, keeps one kept busy by refreshes, and with the timeout off the same idle time changes nothing', async () => {
    const idle = await startTestServer({ SESSION_INACTIVITY_TIMEOUT: '2' });
    try {
      const dozing = await idle.client.signup('dozer');
      const busy = await idle.client.signup('busybee');
      const unbounded = await app.client.signup('nightowl');
      const [unboundedSession] = await mySessions(app, unbounded.accessToken);

      await sleep(1200);
      const busyRotated = await refreshOk(idle, busy.refreshToken);
      await sleep(1200);

      // 2.4 s without a refresh: the session is over for access and refresh tokens alike.
      expect(await meReason(idle, dozing.accessToken)).toBe('TOKEN_REVOKED');
      const expired = await idle.client.request(REFRESH, { t: dozing.refreshToken });
      expect(codeOf(expired)).toBe('UNAUTHENTICATED');
      expect(reasonOf(expired)).toBe('SESSION_EXPIRED');
      expect(await meReason(idle, dozing.accessToken)).toBe('TOKEN_REVOKED');

      // Refreshed 1.2 s ago: still alive.
      expect(await meReason(idle, busyRotated.accessToken)).toBeUndefined();
      expect(await refreshReason(idle, busyRotated.refreshToken)).toBeUndefined();

      // Default settings (no inactivity timeout): the same 2.4 s idle changes nothing, and the
      // rotation after it does not move the absolute expiry.
      expect(await meReason(app, unbounded.accessToken)).toBeUndefined();
      const rotated = await refreshOk(app, unbounded.refreshToken);
      const [after] = await mySessions(app, rotated.accessToken);
      expect(after.id).toBe(unboundedSession.id);
      expect(after.expiresAt).toBe(unboundedSession.expiresAt);
      expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(unboundedSession.lastUsedAt));
      expect(claimsOf(rotated.refreshToken).exp * 1000).toBeLessThanOrEqual(Date.parse(unboundedSession.expiresAt));
    } finally {
      await idle.stop();
    }
  });

  test('purge deletes sessions past their absolute expiry and keeps live and recently revoked ones', async () => {
    const short = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '1', JWT_REFRESH_TOKEN_EXPIRES: '2' });
    try {
      const old = await short.client.signup('ancient');
      const oldSid = claimsOf(old.refreshToken).sid;
      await sleep(Math.max(0, claimsOf(old.refreshToken).exp * 1000 + 100 - Date.now()));

      const live = await short.client.signup('current');
      const liveSid = claimsOf(live.refreshToken).sid;
      const loggedOut = (await short.client.login('current')).data!.login;
      const loggedOutSid = claimsOf(loggedOut.refreshToken).sid;
      const logout = await short.client.request('mutation { logout }', {}, { token: loggedOut.accessToken });
      expect(logout.data?.logout).toBe(true);

      const purged = await short.server.services.sessions.purge(short.orm.em.fork());
      expect(purged.deleted).toBe(1);

      const remaining = await short.orm.em.fork().find(Session, {});
      const ids = remaining.map((session) => session.id).sort();
      expect(ids).toEqual([liveSid, loggedOutSid].sort());
      expect(ids).not.toContain(oldSid);
      expect(await meReason(short, live.accessToken)).toBeUndefined();
      // The revoked row is kept: its tokens are still recognised as revoked.
      expect(await refreshReason(short, loggedOut.refreshToken)).toBe('TOKEN_REVOKED');
    } finally {
      await short.stop();
    }
  });
});
