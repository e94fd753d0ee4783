// Cookie mode over real HTTP: a COOKIE session's refresh token travels only in an HttpOnly cookie,
// every use of a cookie needs its CSRF value and an allowed page, rotation and reuse detection work
// as with body tokens, logout clears the cookies, and every misplaced or malformed cookie is refused
// with its reason without rotating anything.
import { Session, User } from '../../src/db/entities/index.js';
import {
  COOKIE_LOGIN,
  COOKIE_REFRESH,
  COOKIE_SIGNUP,
  cookieHeader,
  cookieValue,
  type CookieResponse,
  post,
  REFRESH_WITH_ARGUMENT,
  SPA_ORIGIN,
} from '../helpers/cookie-requests.js';
import { onlyError } from '../helpers/graphql-client.js';
import { claimsOf, DELETE_MY_ACCOUNT, LOGOUT, ME, PASSWORD, sleep } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const REFRESH_COOKIE = 'refresh_token_cookie';
const REFRESH_CSRF = 'csrf_refresh_token';
const CHANGE_PASSWORD = `mutation Change($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { refreshToken transport } }`;
const REAUTHENTICATE = `mutation Reauth($p: String!) { reauthenticate(password: $p) { refreshToken transport } }`;

interface CookieSession {
  userId: string;
  accessToken: string;
  refreshCookie: string;
  csrf: string;
  response: CookieResponse;
}

async function cookieSignup(app: TestServer, username: string, origin = SPA_ORIGIN): Promise<CookieSession> {
  const input = { username, email: `${username}@example.com`, password: PASSWORD, transport: 'COOKIE' };
  const response = await post(app.url, COOKIE_SIGNUP, { input }, { origin });
  if (!response.data?.signup) throw new Error(`signup failed: ${JSON.stringify(response.errors)}`);
  return sessionOf(response, response.data.signup);
}

function sessionOf(response: CookieResponse, payload: { accessToken: string; user: { id: string } }): CookieSession {
  return {
    userId: payload.user.id,
    accessToken: payload.accessToken,
    refreshCookie: cookieValue(response, REFRESH_COOKIE),
    csrf: cookieValue(response, REFRESH_CSRF),
    response,
  };
}

/** A refresh as the app sends it: the cookie, its CSRF header, the app's origin. */
function refreshFromCookie(app: TestServer, session: { refreshCookie: string; csrf: string }, headers = {}) {
  return post(
    app.url,
    COOKIE_REFRESH,
    {},
    {
      origin: SPA_ORIGIN,
      cookie: cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_CSRF, session.csrf]),
      'x-csrf-token': session.csrf,
      ...headers,
    },
  );
}

function reasonOf(response: CookieResponse): string | undefined {
  return onlyError(response).extensions?.reason;
}

async function liveRefreshJti(app: TestServer, sessionId: string): Promise<string> {
  const row = await app.orm.em.fork().findOneOrFail(Session, { id: sessionId });
  return row.refreshJti;
}

function expectCleared(response: CookieResponse): void {
  for (const name of [REFRESH_COOKIE, REFRESH_CSRF]) {
    const cookie = response.setCookies.get(name);
    expect(cookie?.value).toBe('');
    expect(cookie?.attributes.get('max-age')).toBe('0');
  }
  expect(response.setCookies.get(REFRESH_COOKIE)?.attributes.get('path')).toBe('/graphql');
  expect(response.setCookies.get(REFRESH_CSRF)?.attributes.get('path')).toBe('/');
}

describe('cookie transport (defaults)', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ JWT_REFRESH_REUSE_INTERVAL: '0' });
  });
  afterAll(() => app?.stop());

  test('signup sets the refresh token as an HttpOnly cookie and returns none in the body', async () => {
    const session = await cookieSignup(app, 'cookiejar');
    const payload = session.response.data.signup;
    expect(payload.refreshToken).toBeNull();
    expect(payload.transport).toBe('COOKIE');

    const refresh = session.response.setCookies.get(REFRESH_COOKIE)!;
    expect(claimsOf(refresh.value).sid).toBe(claimsOf(payload.accessToken).sid);
    expect([...refresh.attributes.keys()].sort()).toEqual(['httponly', 'max-age', 'path', 'samesite', 'secure']);
    expect(refresh.attributes.get('path')).toBe('/graphql');
    expect(refresh.attributes.get('samesite')).toBe('Lax');
    const maxAge = Number(refresh.attributes.get('max-age'));
    expect(Math.abs(maxAge - payload.refreshExpiresIn)).toBeLessThanOrEqual(1);
    expect(maxAge).toBeGreaterThan(29 * 86400);

    // The companion cookie: readable by the page's scripts, the same value as the token's claim.
    const csrf = session.response.setCookies.get(REFRESH_CSRF)!;
    expect(csrf.attributes.has('httponly')).toBe(false);
    expect(csrf.attributes.get('path')).toBe('/');
    expect(csrf.attributes.has('secure')).toBe(true);
    expect(claimsOf(refresh.value).csrf).toBe(csrf.value);
    expect(csrf.value).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // The access token is in the body, for the app's memory; it carries no CSRF value.
    expect(claimsOf(payload.accessToken).csrf).toBeUndefined();
    const me = await post(app.url, ME, {}, { authorization: `Bearer ${payload.accessToken}` });
    expect(me.data?.me.id).toBe(session.userId);
    // No access-token cookie unless JWT_TOKEN_LOCATION includes cookies.
    expect(session.response.setCookies.has('access_token_cookie')).toBe(false);
  });

  test('login with COOKIE does the same; BODY (the default) sets no cookie', async () => {
    await cookieSignup(app, 'cookielogin');
    const login = await post(
      app.url,
      COOKIE_LOGIN,
      { input: { usernameOrEmail: 'cookielogin', password: PASSWORD, transport: 'COOKIE' } },
      { origin: SPA_ORIGIN },
    );
    expect(login.data?.login.refreshToken).toBeNull();
    expect(login.data?.login.transport).toBe('COOKIE');
    expect(cookieValue(login, REFRESH_COOKIE)).not.toBe('');

    const body = await post(app.url, COOKIE_LOGIN, { input: { usernameOrEmail: 'cookielogin', password: PASSWORD } });
    expect(body.data?.login.transport).toBe('BODY');
    expect(typeof body.data?.login.refreshToken).toBe('string');
    expect(body.setCookies.size).toBe(0);
  });

  test('refresh reads the cookie, rotates it, and sends the new one back in the cookie', async () => {
    const session = await cookieSignup(app, 'cookierotor');
    const sid = claimsOf(session.accessToken).sid as string;
    const rotated = await refreshFromCookie(app, session);
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data?.refresh.refreshToken).toBeNull();
    expect(rotated.data?.refresh.transport).toBe('COOKIE');
    const next = sessionOf(rotated, rotated.data.refresh);
    expect(claimsOf(next.refreshCookie).jti).not.toBe(claimsOf(session.refreshCookie).jti);
    expect(claimsOf(next.refreshCookie).jti).toBe(await liveRefreshJti(app, sid));
    expect(next.csrf).not.toBe(session.csrf);
    expect(claimsOf(next.refreshCookie).csrf).toBe(next.csrf);

    const me = await post(app.url, ME, {}, { authorization: `Bearer ${next.accessToken}` });
    expect(me.data?.me.id).toBe(session.userId);
    // And again, from the rotated cookie.
    expect((await refreshFromCookie(app, next)).errors).toBeUndefined();
  });

  test('a reused cookie token ends the session and clears the cookies', async () => {
    const session = await cookieSignup(app, 'cookiereuse');
    const rotated = await refreshFromCookie(app, session);
    const next = sessionOf(rotated, rotated.data.refresh);

    const reused = await refreshFromCookie(app, session);
    expect(reasonOf(reused)).toBe('REFRESH_TOKEN_REUSED');
    expectCleared(reused);
    // The whole family is gone: the current cookie too.
    expect(reasonOf(await refreshFromCookie(app, next))).toBe('TOKEN_REVOKED');
    const me = await post(app.url, ME, {}, { authorization: `Bearer ${next.accessToken}` });
    expect(onlyError(me).extensions?.reason).toBe('TOKEN_REVOKED');
  });

  test('without the CSRF header, or with a wrong one, refresh fails with CSRF_FAILED and rotates nothing', async () => {
    const session = await cookieSignup(app, 'cookiecsrf');
    const other = await cookieSignup(app, 'cookiecsrfother');
    const sid = claimsOf(session.accessToken).sid as string;
    const before = await liveRefreshJti(app, sid);
    const cookie = cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_CSRF, session.csrf]);

    const missing = await post(app.url, COOKIE_REFRESH, {}, { origin: SPA_ORIGIN, cookie });
    const wrong = await refreshFromCookie(app, session, {
      'x-csrf-token': session.csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    });
    const anotherSessions = await refreshFromCookie(app, session, { 'x-csrf-token': other.csrf });
    const empty = await refreshFromCookie(app, session, { 'x-csrf-token': '' });
    for (const refused of [missing, wrong, anotherSessions, empty]) {
      expect(onlyError(refused).extensions?.code).toBe('UNAUTHENTICATED');
      expect(reasonOf(refused)).toBe('CSRF_FAILED');
      expect(refused.setCookies.size).toBe(0);
    }
    expect(await liveRefreshJti(app, sid)).toBe(before);
    // The same cookie still works once the app sends its header.
    expect((await refreshFromCookie(app, session)).errors).toBeUndefined();
  });

  test('a cookie sent by a page on a disallowed origin is refused, even with the right CSRF value', async () => {
    const session = await cookieSignup(app, 'cookieorigin');
    const sid = claimsOf(session.accessToken).sid as string;
    const before = await liveRefreshJti(app, sid);
    const byOrigin = await refreshFromCookie(app, session, { origin: 'https://evil.example' });
    const nullOrigin = await refreshFromCookie(app, session, { origin: 'null' });
    const byReferer = await post(
      app.url,
      COOKIE_REFRESH,
      {},
      {
        referer: 'https://evil.example/page',
        cookie: cookieHeader([REFRESH_COOKIE, session.refreshCookie]),
        'x-csrf-token': session.csrf,
      },
    );
    for (const refused of [byOrigin, nullOrigin, byReferer]) expect(reasonOf(refused)).toBe('CSRF_FAILED');
    expect(await liveRefreshJti(app, sid)).toBe(before);
  });

  test("Tessera's own origin, an allowed Referer, and no Origin at all (not a browser) may use the cookie", async () => {
    const session = await cookieSignup(app, 'cookieown');
    const own = await refreshFromCookie(app, session, { origin: new URL(app.url).origin });
    expect(own.errors).toBeUndefined();
    const second = sessionOf(own, own.data.refresh);
    const referred = await post(
      app.url,
      COOKIE_REFRESH,
      {},
      {
        referer: `${SPA_ORIGIN}/account`,
        cookie: cookieHeader([REFRESH_COOKIE, second.refreshCookie]),
        'x-csrf-token': second.csrf,
      },
    );
    expect(referred.errors).toBeUndefined();
    const third = sessionOf(referred, referred.data.refresh);
    const bare = await post(
      app.url,
      COOKIE_REFRESH,
      {},
      {
        cookie: cookieHeader([REFRESH_COOKIE, third.refreshCookie]),
        'x-csrf-token': third.csrf,
      },
    );
    expect(bare.errors).toBeUndefined();
  });

  test('a cookie token presented as the argument or in the header is refused, and rotates nothing', async () => {
    const session = await cookieSignup(app, 'cookiemisplaced');
    const sid = claimsOf(session.accessToken).sid as string;
    const before = await liveRefreshJti(app, sid);
    const asArgument = await post(app.url, REFRESH_WITH_ARGUMENT, { t: session.refreshCookie });
    const inHeader = await post(app.url, COOKIE_REFRESH, {}, { authorization: `Bearer ${session.refreshCookie}` });
    for (const refused of [asArgument, inHeader]) expect(reasonOf(refused)).toBe('TOKEN_INVALID');
    expect(await liveRefreshJti(app, sid)).toBe(before);
  });

  test("a body session's refresh token in the cookie's place is refused, and rotates nothing", async () => {
    const body = await app.client.signup('bodyincookie');
    const sid = claimsOf(body.refreshToken).sid as string;
    const before = await liveRefreshJti(app, sid);
    const refused = await post(
      app.url,
      COOKIE_REFRESH,
      {},
      {
        origin: SPA_ORIGIN,
        cookie: cookieHeader([REFRESH_COOKIE, body.refreshToken]),
        'x-csrf-token': 'A'.repeat(32),
      },
    );
    expect(reasonOf(refused)).toBe('TOKEN_INVALID');
    expect(await liveRefreshJti(app, sid)).toBe(before);
    // An access token is no refresh token either.
    const access = await post(
      app.url,
      COOKIE_REFRESH,
      {},
      { cookie: cookieHeader([REFRESH_COOKIE, body.accessToken]) },
    );
    expect(reasonOf(access)).toBe('TOKEN_INVALID');
  });

  test('a cookie that is not a token, an empty one, or one repeated in the Cookie header is TOKEN_INVALID', async () => {
    const session = await cookieSignup(app, 'cookiegarbage');
    const sid = claimsOf(session.accessToken).sid as string;
    const before = await liveRefreshJti(app, sid);
    const cases = [
      cookieHeader([REFRESH_COOKIE, 'not-a-token']),
      cookieHeader([REFRESH_COOKIE, '']),
      cookieHeader([REFRESH_COOKIE, `${'A'.repeat(9000)}`]),
      cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_COOKIE, session.refreshCookie]),
      cookieHeader([REFRESH_COOKIE, 'x'], [REFRESH_COOKIE, session.refreshCookie]),
    ];
    for (const cookie of cases) {
      const refused = await post(
        app.url,
        COOKIE_REFRESH,
        {},
        { origin: SPA_ORIGIN, cookie, 'x-csrf-token': session.csrf },
      );
      expect(onlyError(refused).extensions?.code).toBe('UNAUTHENTICATED');
      expect(reasonOf(refused)).toBe('TOKEN_INVALID');
    }
    expect(await liveRefreshJti(app, sid)).toBe(before);
    // Still serving, and the real cookie still works.
    expect((await refreshFromCookie(app, session)).errors).toBeUndefined();
  });

  test('refresh with no token anywhere is TOKEN_MISSING', async () => {
    const refused = await post(app.url, COOKIE_REFRESH, {}, { origin: SPA_ORIGIN, cookie: 'unrelated=1' });
    expect(reasonOf(refused)).toBe('TOKEN_MISSING');
  });

  test('COOKIE from a page on a disallowed origin is ORIGIN_NOT_ALLOWED, and opens no session', async () => {
    const input = { username: 'cookieevil', email: 'cookieevil@example.com', password: PASSWORD, transport: 'COOKIE' };
    const refused = await post(app.url, COOKIE_SIGNUP, { input }, { origin: 'https://evil.example' });
    expect(onlyError(refused).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'ORIGIN_NOT_ALLOWED',
      field: 'transport',
    });
    expect(refused.setCookies.size).toBe(0);
    expect(await app.orm.em.fork().count(User, { usernameKey: 'cookieevil' })).toBe(0);
    const { userId } = await cookieSignup(app, 'cookieevil');
    const login = await post(
      app.url,
      COOKIE_LOGIN,
      { input: { usernameOrEmail: 'cookieevil', password: PASSWORD, transport: 'COOKIE' } },
      { referer: 'https://evil.example/login' },
    );
    expect(reasonOf(login)).toBe('ORIGIN_NOT_ALLOWED');
    expect(await app.orm.em.fork().count(Session, { user: userId })).toBe(1);
  });

  test('logout of the current session clears the cookies; logging out the others does not', async () => {
    const session = await cookieSignup(app, 'cookielogout');
    const headers = {
      authorization: `Bearer ${session.accessToken}`,
      origin: SPA_ORIGIN,
      cookie: cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_CSRF, session.csrf]),
    };
    const others = await post(app.url, LOGOUT, { scope: 'OTHERS' }, headers);
    expect(others.data?.logout).toBe(true);
    expect(others.setCookies.size).toBe(0);
    const current = await post(app.url, LOGOUT, { scope: 'CURRENT' }, headers);
    expect(current.data?.logout).toBe(true);
    expectCleared(current);
    expect(reasonOf(await refreshFromCookie(app, session))).toBe('TOKEN_REVOKED');
  });

  test('logout of every session clears them; a body session gets no Set-Cookie', async () => {
    const session = await cookieSignup(app, 'cookieall');
    const all = await post(
      app.url,
      LOGOUT,
      { scope: 'ALL' },
      {
        authorization: `Bearer ${session.accessToken}`,
        cookie: cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_CSRF, session.csrf]),
      },
    );
    expectCleared(all);
    const body = await app.client.signup('bodylogout');
    const plain = await post(app.url, LOGOUT, { scope: 'ALL' }, { authorization: `Bearer ${body.accessToken}` });
    expect(plain.data?.logout).toBe(true);
    expect(plain.setCookies.size).toBe(0);
  });

  test('deleteMyAccount clears the cookies', async () => {
    const session = await cookieSignup(app, 'cookiedelete');
    const deleted = await post(
      app.url,
      DELETE_MY_ACCOUNT,
      {},
      {
        authorization: `Bearer ${session.accessToken}`,
        cookie: cookieHeader([REFRESH_COOKIE, session.refreshCookie], [REFRESH_CSRF, session.csrf]),
      },
    );
    expect(deleted.data?.deleteMyAccount).toBe(true);
    expectCleared(deleted);
  });

  test('reauthenticate and changePassword of a COOKIE session set the new refresh token as the cookie', async () => {
    const session = await cookieSignup(app, 'cookiecreds');
    const sid = claimsOf(session.accessToken).sid as string;
    const auth = { authorization: `Bearer ${session.accessToken}`, origin: SPA_ORIGIN };
    const reauth = await post(app.url, REAUTHENTICATE, { p: PASSWORD }, auth);
    expect(reauth.data?.reauthenticate).toEqual({ refreshToken: null, transport: 'COOKIE' });
    const afterReauth = cookieValue(reauth, REFRESH_COOKIE);
    expect(claimsOf(afterReauth).jti).toBe(await liveRefreshJti(app, sid));
    expect(claimsOf(afterReauth).csrf).toBe(cookieValue(reauth, REFRESH_CSRF));

    const reauthAccess = await post(
      app.url,
      `mutation { refresh { accessToken } }`,
      {},
      {
        origin: SPA_ORIGIN,
        cookie: cookieHeader([REFRESH_COOKIE, afterReauth]),
        'x-csrf-token': cookieValue(reauth, REFRESH_CSRF),
      },
    );
    const rotated = cookieValue(reauthAccess, REFRESH_COOKIE);
    const access = reauthAccess.data.refresh.accessToken as string;
    const change = await post(
      app.url,
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'a brand new passphrase' },
      { authorization: `Bearer ${access}`, origin: SPA_ORIGIN },
    );
    expect(change.data?.changePassword).toEqual({ refreshToken: null, transport: 'COOKIE' });
    const afterChange = cookieValue(change, REFRESH_COOKIE);
    expect(claimsOf(afterChange).jti).toBe(await liveRefreshJti(app, sid));
    // The cookie the change replaced is retired, not reuse: the session lives on.
    const retired = await refreshFromCookie(app, {
      refreshCookie: rotated,
      csrf: cookieValue(reauthAccess, REFRESH_CSRF),
    });
    expect(reasonOf(retired)).toBe('TOKEN_REVOKED');
    expect(
      (await refreshFromCookie(app, { refreshCookie: afterChange, csrf: cookieValue(change, REFRESH_CSRF) })).errors,
    ).toBeUndefined();
  });
});

describe('cookie transport, configured', () => {
  test('JWT_COOKIE_CSRF_PROTECT=false drops the header check, never the origin check', async () => {
    const app = await startTestServer({ JWT_COOKIE_CSRF_PROTECT: 'false' });
    try {
      const session = await cookieSignup(app, 'nocsrf');
      const cookie = cookieHeader([REFRESH_COOKIE, session.refreshCookie]);
      const refused = await post(app.url, COOKIE_REFRESH, {}, { origin: 'https://evil.example', cookie });
      expect(reasonOf(refused)).toBe('CSRF_FAILED');
      const accepted = await post(app.url, COOKIE_REFRESH, {}, { origin: SPA_ORIGIN, cookie });
      expect(accepted.errors).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  test('names, path, SameSite, Secure and Domain follow their settings', async () => {
    const app = await startTestServer({
      JWT_REFRESH_COOKIE_NAME: 'rt',
      JWT_REFRESH_CSRF_COOKIE_NAME: 'rt_csrf',
      JWT_REFRESH_CSRF_HEADER_NAME: 'X-Refresh-CSRF',
      JWT_REFRESH_COOKIE_PATH: '/graphql/refresh',
      JWT_COOKIE_SAMESITE: 'Strict',
      JWT_COOKIE_SECURE: 'false',
      JWT_COOKIE_DOMAIN: 'example.test',
    });
    try {
      const input = {
        username: 'configured',
        email: 'configured@example.com',
        password: PASSWORD,
        transport: 'COOKIE',
      };
      const signup = await post(app.url, COOKIE_SIGNUP, { input }, { origin: SPA_ORIGIN });
      const refresh = signup.setCookies.get('rt')!;
      expect(refresh.attributes.get('path')).toBe('/graphql/refresh');
      expect(refresh.attributes.get('samesite')).toBe('Strict');
      expect(refresh.attributes.get('domain')).toBe('example.test');
      expect(refresh.attributes.has('secure')).toBe(false);
      expect(refresh.attributes.has('httponly')).toBe(true);
      const csrf = signup.setCookies.get('rt_csrf')!.value;
      const cookie = cookieHeader(['rt', refresh.value]);
      expect(reasonOf(await post(app.url, COOKIE_REFRESH, {}, { cookie, 'x-csrf-token': csrf }))).toBe('CSRF_FAILED');
      expect((await post(app.url, COOKIE_REFRESH, {}, { cookie, 'x-refresh-csrf': csrf })).errors).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  test('JWT_CSRF_IN_COOKIES=false sets no companion cookie', async () => {
    const app = await startTestServer({ JWT_CSRF_IN_COOKIES: 'false' });
    try {
      const session = await post(
        app.url,
        COOKIE_SIGNUP,
        {
          input: { username: 'nocompanion', email: 'nocompanion@example.com', password: PASSWORD, transport: 'COOKIE' },
        },
        { origin: SPA_ORIGIN },
      );
      expect([...session.setCookies.keys()]).toEqual([REFRESH_COOKIE]);
    } finally {
      await app.stop();
    }
  });

  test('a refresh that finds the session expired ends in SESSION_EXPIRED and clears the cookies', async () => {
    const app = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '1s', JWT_REFRESH_TOKEN_EXPIRES: '2s' });
    try {
      const session = await cookieSignup(app, 'cookieexpiry');
      await sleep(3100);
      const expired = await refreshFromCookie(app, session);
      expect(reasonOf(expired)).toBe('SESSION_EXPIRED');
      expectCleared(expired);
    } finally {
      await app.stop();
    }
  });
});

describe('the access token in a cookie (JWT_TOKEN_LOCATION)', () => {
  const ACCESS_COOKIE = 'access_token_cookie';
  const ACCESS_CSRF = 'csrf_access_token';
  let app: TestServer;
  let session: CookieSession & { accessCookie: string; accessCsrf: string };
  beforeAll(async () => {
    app = await startTestServer({ JWT_TOKEN_LOCATION: 'headers,cookies' });
    const signedUp = await cookieSignup(app, 'ssr');
    session = {
      ...signedUp,
      accessCookie: cookieValue(signedUp.response, ACCESS_COOKIE),
      accessCsrf: cookieValue(signedUp.response, ACCESS_CSRF),
    };
  });
  afterAll(() => app?.stop());

  test('COOKIE sessions also get the access token as an HttpOnly cookie with its CSRF companion', () => {
    const access = session.response.setCookies.get(ACCESS_COOKIE)!;
    expect(access.attributes.get('path')).toBe('/');
    expect(access.attributes.has('httponly')).toBe(true);
    expect(Number(access.attributes.get('max-age'))).toBe(session.response.data.signup.expiresIn);
    expect(claimsOf(access.value).csrf).toBe(session.accessCsrf);
    expect(session.accessCsrf).not.toBe(session.csrf);
    expect(session.response.setCookies.get(ACCESS_CSRF)!.attributes.has('httponly')).toBe(false);
  });

  test('a POST authenticated by the access cookie needs its CSRF header', async () => {
    const cookie = cookieHeader([ACCESS_COOKIE, session.accessCookie], [ACCESS_CSRF, session.accessCsrf]);
    const ok = await post(app.url, ME, {}, { origin: SPA_ORIGIN, cookie, 'x-csrf-token': session.accessCsrf });
    expect(ok.data?.me.id).toBe(session.userId);
    const missing = await post(app.url, ME, {}, { origin: SPA_ORIGIN, cookie });
    expect(reasonOf(missing)).toBe('CSRF_FAILED');
    const refreshValue = await post(app.url, ME, {}, { origin: SPA_ORIGIN, cookie, 'x-csrf-token': session.csrf });
    expect(reasonOf(refreshValue)).toBe('CSRF_FAILED');
    const foreign = await post(
      app.url,
      ME,
      {},
      { origin: 'https://evil.example', cookie, 'x-csrf-token': session.accessCsrf },
    );
    expect(reasonOf(foreign)).toBe('CSRF_FAILED');
  });

  test('a GET query authenticated by the access cookie needs no CSRF header', async () => {
    const url = `${app.url}?query=${encodeURIComponent('{ me { id } }')}`;
    const response = await fetch(url, {
      headers: { cookie: cookieHeader([ACCESS_COOKIE, session.accessCookie]), 'apollo-require-preflight': 'true' },
    });
    const body = (await response.json()) as { data?: { me: { id: string } } };
    expect(body.data?.me.id).toBe(session.userId);
  });

  test('the header comes first; a body token in the access cookie is refused', async () => {
    const cookie = cookieHeader([ACCESS_COOKIE, session.accessCookie]);
    const badHeader = await post(
      app.url,
      ME,
      {},
      { authorization: 'Bearer nope', cookie, 'x-csrf-token': session.accessCsrf },
    );
    expect(reasonOf(badHeader)).toBe('TOKEN_INVALID');
    // The header may carry the cookie's own token (the body returned it too).
    const inHeader = await post(app.url, ME, {}, { authorization: `Bearer ${session.accessCookie}` });
    expect(inHeader.data?.me.id).toBe(session.userId);

    const body = await app.client.signup('ssrbody');
    const misplaced = await post(
      app.url,
      ME,
      {},
      {
        cookie: cookieHeader([ACCESS_COOKIE, body.accessToken]),
        'x-csrf-token': 'A'.repeat(32),
      },
    );
    expect(reasonOf(misplaced)).toBe('TOKEN_INVALID');
    const repeated = await post(
      app.url,
      ME,
      {},
      {
        cookie: cookieHeader([ACCESS_COOKIE, session.accessCookie], [ACCESS_COOKIE, session.accessCookie]),
        'x-csrf-token': session.accessCsrf,
      },
    );
    expect(reasonOf(repeated)).toBe('TOKEN_INVALID');
  });

  test('refresh and logout set and clear both pairs of cookies', async () => {
    const second = await cookieSignup(app, 'ssrrotate');
    const rotated = await refreshFromCookie(app, second);
    expect(rotated.errors).toBeUndefined();
    const accessCookie = cookieValue(rotated, ACCESS_COOKIE);
    expect(claimsOf(accessCookie).csrf).toBe(cookieValue(rotated, ACCESS_CSRF));
    const logout = await post(
      app.url,
      LOGOUT,
      { scope: 'CURRENT' },
      {
        origin: SPA_ORIGIN,
        cookie: cookieHeader([ACCESS_COOKIE, accessCookie], [REFRESH_COOKIE, cookieValue(rotated, REFRESH_COOKIE)]),
        'x-csrf-token': cookieValue(rotated, ACCESS_CSRF),
      },
    );
    expect(logout.data?.logout).toBe(true);
    for (const name of [ACCESS_COOKIE, ACCESS_CSRF, REFRESH_COOKIE, REFRESH_CSRF])
      expect(logout.setCookies.get(name)?.attributes.get('max-age')).toBe('0');
  });

  test('with the default location (headers) an access-token cookie is ignored', async () => {
    const headersOnly = await startTestServer();
    try {
      const signedUp = await cookieSignup(headersOnly, 'headersonly');
      const me = await post(headersOnly.url, ME, {}, { cookie: cookieHeader([ACCESS_COOKIE, signedUp.accessToken]) });
      expect(reasonOf(me)).toBe('TOKEN_MISSING');
    } finally {
      await headersOnly.stop();
    }
  });
});
