// Logout scopes, the session list and revoking one session, through real HTTP against real
// PostgreSQL. A revoked session's access token fails on its very next request, not at its expiry.
import { randomUUID } from 'node:crypto';
import type { AuthPayload } from '../helpers/graphql-client.js';
import { onlyError } from '../helpers/graphql-client.js';
import {
  claimsOf,
  loginOk,
  LOGOUT,
  LOGOUT_DEFAULT,
  meReason,
  mySessions,
  refreshReason,
  REVOKE_SESSION,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app?.stop());

const DEVICES = ['Laptop Firefox/130', 'Phone Safari/17', 'Tablet Chrome/128'];

/** A user with exactly three live sessions, one per login, each from its own user agent. */
async function threeSessions(username: string): Promise<[AuthPayload, AuthPayload, AuthPayload]> {
  const signup = await app.client.signup(username);
  const out = await app.client.request(LOGOUT_DEFAULT, {}, { token: signup.accessToken });
  expect(out.data?.logout).toBe(true);
  const sessions: AuthPayload[] = [];
  for (const device of DEVICES) sessions.push(await loginOk(app, username, undefined, device));
  return sessions as [AuthPayload, AuthPayload, AuthPayload];
}

async function expectWorks(tokens: AuthPayload): Promise<void> {
  expect(await meReason(app, tokens.accessToken)).toBeUndefined();
  expect(await refreshReason(app, tokens.refreshToken)).toBeUndefined();
}

async function expectEnded(tokens: AuthPayload): Promise<void> {
  expect(await meReason(app, tokens.accessToken)).toBe('TOKEN_REVOKED');
  expect(await refreshReason(app, tokens.refreshToken)).toBe('TOKEN_REVOKED');
}

describe('mySessions', () => {
  test('lists every live session with its user agent and ip, and marks exactly the caller as current', async () => {
    const [first, second, third] = await threeSessions('lister');
    const sessions = await mySessions(app, second.accessToken);

    expect(sessions).toHaveLength(3);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    expect(sessions.find((session) => session.current)!.id).toBe(claimsOf(second.accessToken).sid);
    expect(sessions.map((session) => session.id).sort()).toEqual(
      [first, second, third].map((tokens) => claimsOf(tokens.accessToken).sid).sort(),
    );
    expect(sessions.map((session) => session.userAgent).sort()).toEqual([...DEVICES].sort());
    for (const session of sessions) {
      expect(session.ip).toBe('127.0.0.1');
      expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());
      expect(Date.parse(session.createdAt)).toBeLessThanOrEqual(Date.parse(session.lastUsedAt));
    }
    const thirdSid = claimsOf(third.accessToken).sid;
    expect(sessions.find((session) => session.id === thirdSid)!.userAgent).toBe(DEVICES[2]);
  });

  test('leaves out sessions that were logged out', async () => {
    const [first, second] = await threeSessions('pruned');
    await app.client.request(LOGOUT, { scope: 'CURRENT' }, { token: first.accessToken });
    const sessions = await mySessions(app, second.accessToken);
    expect(sessions).toHaveLength(2);
    expect(sessions.map((session) => session.id)).not.toContain(claimsOf(first.accessToken).sid);
    expect(sessions.filter((session) => session.current).map((session) => session.id)).toEqual([
      claimsOf(second.accessToken).sid,
    ]);
  });

  test('refuses an anonymous caller with UNAUTHENTICATED', async () => {
    const result = await app.client.request('{ mySessions { id } }');
    expect(onlyError(result).extensions?.code).toBe('UNAUTHENTICATED');
    expect(onlyError(result).extensions?.reason).toBe('TOKEN_MISSING');
  });
});

describe('logout scopes', () => {
  test('logout(CURRENT) ends only the calling session', async () => {
    const [first, second, third] = await threeSessions('current');
    const result = await app.client.request(LOGOUT, { scope: 'CURRENT' }, { token: first.accessToken });
    expect(result.data?.logout).toBe(true);
    await expectEnded(first);
    await expectWorks(second);
    await expectWorks(third);
  });

  test('logout without a scope defaults to CURRENT', async () => {
    const [first, second, third] = await threeSessions('defaulted');
    const result = await app.client.request(LOGOUT_DEFAULT, {}, { token: second.accessToken });
    expect(result.data?.logout).toBe(true);
    await expectEnded(second);
    await expectWorks(first);
    await expectWorks(third);
  });

  test('logout(OTHERS) ends every other session and keeps the calling one', async () => {
    const [first, second, third] = await threeSessions('others');
    const result = await app.client.request(LOGOUT, { scope: 'OTHERS' }, { token: first.accessToken });
    expect(result.data?.logout).toBe(true);
    await expectEnded(second);
    await expectEnded(third);
    await expectWorks(first);
  });

  test('logout(ALL) ends every session of the user, the calling one included', async () => {
    const [first, second, third] = await threeSessions('everything');
    const result = await app.client.request(LOGOUT, { scope: 'ALL' }, { token: third.accessToken });
    expect(result.data?.logout).toBe(true);
    await expectEnded(first);
    await expectEnded(second);
    await expectEnded(third);
  });

  test('logout(ALL) leaves the sessions of other users alone', async () => {
    const [mine] = await threeSessions('leaver');
    const bystander = await app.client.signup('bystander');
    await app.client.request(LOGOUT, { scope: 'ALL' }, { token: mine.accessToken });
    await expectWorks(bystander);
  });

  test('a logged-out access token fails at once even after it was just used', async () => {
    const signup = await app.client.signup('cached');
    // Used twice so that its principal sits in the server's cache.
    expect(await meReason(app, signup.accessToken)).toBeUndefined();
    expect(await meReason(app, signup.accessToken)).toBeUndefined();
    await app.client.request(LOGOUT_DEFAULT, {}, { token: signup.accessToken });
    expect(await meReason(app, signup.accessToken)).toBe('TOKEN_REVOKED');
    const again = await app.client.request(LOGOUT_DEFAULT, {}, { token: signup.accessToken });
    expect(onlyError(again).extensions?.reason).toBe('TOKEN_REVOKED');
  });

  test('logout requires a signed-in caller', async () => {
    const result = await app.client.request(LOGOUT_DEFAULT);
    expect(onlyError(result).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('revokeSession', () => {
  test("ends another of the caller's own sessions at once", async () => {
    const [first, second, third] = await threeSessions('revoker');
    // The victim's principal is cached before the revocation.
    expect(await meReason(app, second.accessToken)).toBeUndefined();

    const secondSid = claimsOf(second.accessToken).sid;
    const result = await app.client.request(REVOKE_SESSION, { id: secondSid }, { token: first.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data?.revokeSession).toBe(true);

    expect(await meReason(app, second.accessToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, second.refreshToken)).toBe('TOKEN_REVOKED');
    await expectWorks(first);
    await expectWorks(third);
    const listed = await mySessions(app, third.accessToken);
    expect(listed.map((session) => session.id)).not.toContain(secondSid);
    expect(listed).toHaveLength(2);
  });

  test('answers NOT_FOUND for a session that is already revoked', async () => {
    const [first, second] = await threeSessions('twice');
    const secondSid = claimsOf(second.accessToken).sid;
    expect(
      (await app.client.request(REVOKE_SESSION, { id: secondSid }, { token: first.accessToken })).data?.revokeSession,
    ).toBe(true);
    const again = await app.client.request(REVOKE_SESSION, { id: secondSid }, { token: first.accessToken });
    expect(onlyError(again).extensions?.code).toBe('NOT_FOUND');
  });

  test("answers NOT_FOUND for another user's session and leaves it running", async () => {
    const mallory = await app.client.signup('mallory');
    const alice = await app.client.signup('alicia');
    const result = await app.client.request(
      REVOKE_SESSION,
      { id: claimsOf(alice.accessToken).sid },
      { token: mallory.accessToken },
    );
    expect(onlyError(result).extensions?.code).toBe('NOT_FOUND');
    expect(result.data).toBeNull();
    await expectWorks(alice);
  });

  test('answers NOT_FOUND for a random UUID and for an id that is not a UUID', async () => {
    const signup = await app.client.signup('guesser');
    for (const id of [randomUUID(), 'abc']) {
      const result = await app.client.request(REVOKE_SESSION, { id }, { token: signup.accessToken });
      expect(onlyError(result).extensions?.code).toBe('NOT_FOUND');
    }
    await expectWorks(signup);
  });
});
