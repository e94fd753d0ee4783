// examples/urql.ts run as a page on http://localhost:5173 would run it: a cookie-mode login, the
// access token expiring on the real clock, one silent refresh for concurrent expiries, logout.
import { Client, fetchExchange, gql } from '@urql/core';
import { createTesseraUrqlClient, type TesseraUrqlClient } from '../../examples/urql.js';
import { browserPage } from '../helpers/browser-page.js';
import { claimsOf, sleep, untilJustAfterSecond } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LOGIN = gql<{ login: { accessToken: string; refreshToken: string | null; transport: string } }>`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      transport
    }
  }
`;
const ME = gql<{ me: { id: string; username: string } }>`
  query Me {
    me {
      id
      username
    }
  }
`;
const MY_SESSIONS = gql<{ mySessions: { id: string; current: boolean }[] }>`
  query MySessions {
    mySessions {
      id
      current
    }
  }
`;
const LOGOUT = gql<{ logout: boolean }>`
  mutation Logout {
    logout(scope: CURRENT)
  }
`;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '2s' });
  await app.client.signup('uma');
});
afterAll(() => app.stop());

function pageWithClient() {
  const page = browserPage(app.url);
  const endedReasons: (string | undefined)[] = [];
  const tessera = createTesseraUrqlClient({
    url: page.apiUrl,
    fetch: page.fetch,
    readCsrfToken: page.readCsrfToken,
    onSessionEnded: (reason) => endedReasons.push(reason),
  });
  return { ...page, endedReasons, tessera };
}

async function logIn(tessera: TesseraUrqlClient) {
  const input = { usernameOrEmail: 'uma', password: 'correct horse battery', transport: 'COOKIE' };
  const result = await tessera.client.mutation(LOGIN, { input }).toPromise();
  if (!result.data) throw new Error(`login failed: ${result.error?.message}`);
  tessera.setAccessToken(result.data.login.accessToken);
  return result.data.login;
}

async function me(tessera: TesseraUrqlClient) {
  const result = await tessera.client.query(ME, {}, { requestPolicy: 'network-only' }).toPromise();
  expect(result.error).toBeUndefined();
  return result.data?.me;
}

test('a cookie session survives its access token expiring, and logout ends it', async () => {
  const { jar, refreshes, endedReasons, tessera } = pageWithClient();
  await untilJustAfterSecond();
  const login = await logIn(tessera);
  expect(login).toMatchObject({ transport: 'COOKIE', refreshToken: null });
  expect(await me(tessera)).toMatchObject({ username: 'uma' });
  const refreshCookie = jar.get('refresh_token_cookie')?.value;
  expect(refreshCookie).toBeDefined();

  await sleep(Math.max(0, claimsOf(login.accessToken).exp * 1000 + 100 - Date.now()));
  const [meResult, sessions] = await Promise.all([
    me(tessera),
    tessera.client.query(MY_SESSIONS, {}, { requestPolicy: 'network-only' }).toPromise(),
  ]);
  expect(meResult).toMatchObject({ username: 'uma' });
  expect(sessions.data?.mySessions.filter((session) => session.current)).toHaveLength(1);
  expect(refreshes).toHaveLength(1);
  expect(new Headers(refreshes[0]?.headers).has('authorization')).toBe(false);
  expect(jar.get('refresh_token_cookie')?.value).not.toBe(refreshCookie);

  const logout = await tessera.client.mutation(LOGOUT, {}).toPromise();
  expect(logout.data?.logout).toBe(true);
  tessera.setAccessToken(null);
  expect(jar.names()).not.toContain('refresh_token_cookie');
  expect(jar.names()).not.toContain('csrf_refresh_token');
  expect(endedReasons).toEqual([]);
});

test('a session ended on another device: the refresh is refused, the page is told, the error reaches the caller', async () => {
  const { refreshes, endedReasons, tessera } = pageWithClient();
  await untilJustAfterSecond();
  const login = await logIn(tessera);
  const elsewhere = await app.client.login('uma');
  const loggedOut = await app.client.request(
    'mutation { logout(scope: ALL) }',
    {},
    { token: elsewhere.data?.login.accessToken },
  );
  expect(loggedOut.errors).toBeUndefined();

  await sleep(Math.max(0, claimsOf(login.accessToken).exp * 1000 + 100 - Date.now()));
  const result = await tessera.client.query(ME, {}, { requestPolicy: 'network-only' }).toPromise();
  expect(result.error?.graphQLErrors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  expect(refreshes).toHaveLength(1);
  expect(endedReasons).toHaveLength(1);
});

test("urql's default GET for queries is refused by CSRF prevention, which is why the recipe posts", async () => {
  const page = browserPage(app.url);
  const client = new Client({ url: page.apiUrl, fetch: page.fetch, exchanges: [fetchExchange] });
  const result = await client.query(ME, {}).toPromise();
  expect(result.operation.context.preferGetMethod).not.toBe(false);
  expect(result.error?.response?.status).toBe(400);
  expect(result.error?.graphQLErrors[0]?.extensions.code).toBe('BAD_REQUEST');
  expect(result.error?.message).toMatch(/CSRF/i);
});
