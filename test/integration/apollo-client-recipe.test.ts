// examples/apollo-client.ts run as a page on http://localhost:5173 would run it: a cookie-mode
// login through Apollo Client, the access token expiring on the real clock, the silent refresh
// (one for concurrent expiries), and logout taking the refresh cookie away.
import { gql } from '@apollo/client';
import { createTesseraClient, CSRF_REFRESH_COOKIE, type TesseraClient } from '../../examples/apollo-client.js';
import { browserPage } from '../helpers/browser-page.js';
import { claimsOf, sleep, untilJustAfterSecond } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LOGIN = gql`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      transport
    }
  }
`;
const ME = gql`
  query Me {
    me {
      id
      username
    }
  }
`;
const MY_SESSIONS = gql`
  query MySessions {
    mySessions {
      id
      current
    }
  }
`;
const LOGOUT = gql`
  mutation Logout {
    logout(scope: CURRENT)
  }
`;

interface LoginData {
  login: { accessToken: string; refreshToken: string | null; transport: string };
}

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '2s' });
  await app.client.signup('ada');
});
afterAll(() => app.stop());

function pageWithClient() {
  const page = browserPage(app.url);
  const endedReasons: (string | undefined)[] = [];
  const tessera = createTesseraClient({
    uri: page.apiUrl,
    fetch: page.fetch,
    readCsrfToken: page.readCsrfToken,
    onSessionEnded: (reason) => endedReasons.push(reason),
  });
  return { ...page, endedReasons, tessera };
}

async function logIn(tessera: TesseraClient): Promise<LoginData['login']> {
  const { data } = await tessera.apollo.mutate<LoginData>({
    mutation: LOGIN,
    variables: { input: { usernameOrEmail: 'ada', password: 'correct horse battery', transport: 'COOKIE' } },
  });
  if (!data) throw new Error('login returned no data');
  tessera.setAccessToken(data.login.accessToken);
  return data.login;
}

async function me(tessera: TesseraClient) {
  return (
    await tessera.apollo.query<{ me: { id: string; username: string } }>({ query: ME, fetchPolicy: 'network-only' })
  ).data?.me;
}

test('a cookie session survives its access token expiring, and logout ends it', async () => {
  const { jar, refreshes, endedReasons, tessera } = pageWithClient();
  await untilJustAfterSecond();
  const login = await logIn(tessera);
  expect(login.transport).toBe('COOKIE');
  expect(login.refreshToken).toBeNull();
  const refreshCookie = jar.get('refresh_token_cookie');
  expect(refreshCookie).toMatchObject({ path: '/graphql', httpOnly: true, secure: true });
  expect(jar.get(CSRF_REFRESH_COOKIE)).toMatchObject({ path: '/', httpOnly: false, secure: true });
  const csrfToken = jar.pageCookie(CSRF_REFRESH_COOKIE);
  expect(csrfToken).toBeDefined();

  expect(await me(tessera)).toMatchObject({ username: 'ada' });
  expect(refreshes).toHaveLength(0);

  await sleep(Math.max(0, claimsOf(login.accessToken).exp * 1000 + 100 - Date.now()));
  expect(await me(tessera)).toMatchObject({ username: 'ada' });
  expect(refreshes).toHaveLength(1);
  expect(refreshes[0]?.credentials).toBe('include');
  expect(new Headers(refreshes[0]?.headers).get('x-csrf-token')).toBe(csrfToken);
  expect(new Headers(refreshes[0]?.headers).has('authorization')).toBe(false);
  // The refresh token rotated in its cookie, with a new CSRF value beside it.
  expect(jar.get('refresh_token_cookie')?.value).not.toBe(refreshCookie?.value);
  expect(jar.pageCookie(CSRF_REFRESH_COOKIE)).not.toBe(csrfToken);

  const { data } = await tessera.apollo.mutate<{ logout: boolean }>({ mutation: LOGOUT });
  expect(data?.logout).toBe(true);
  tessera.setAccessToken(null);
  await tessera.apollo.clearStore();
  expect(jar.names()).not.toContain('refresh_token_cookie');
  expect(jar.names()).not.toContain(CSRF_REFRESH_COOKIE);

  expect(await tessera.refresh()).toBe(false);
  expect(endedReasons).toEqual(['TOKEN_MISSING']);
});

test('operations that find the access token expired at the same time share one refresh', async () => {
  const { refreshes, tessera } = pageWithClient();
  await untilJustAfterSecond();
  const login = await logIn(tessera);
  await sleep(Math.max(0, claimsOf(login.accessToken).exp * 1000 + 100 - Date.now()));

  const [meResult, sessions] = await Promise.all([
    me(tessera),
    tessera.apollo.query<{ mySessions: { id: string; current: boolean }[] }>({
      query: MY_SESSIONS,
      fetchPolicy: 'network-only',
    }),
  ]);
  expect(meResult).toMatchObject({ username: 'ada' });
  expect(sessions.data?.mySessions.filter((session) => session.current)).toHaveLength(1);
  expect(refreshes).toHaveLength(1);
});

test('a session ended on another device: the refresh is refused, the page is told, the error reaches the caller', async () => {
  const { refreshes, endedReasons, tessera } = pageWithClient();
  await untilJustAfterSecond();
  const login = await logIn(tessera);
  const elsewhere = await app.client.login('ada');
  const loggedOut = await app.client.request(
    'mutation { logout(scope: ALL) }',
    {},
    { token: elsewhere.data?.login.accessToken },
  );
  expect(loggedOut.errors).toBeUndefined();

  await sleep(Math.max(0, claimsOf(login.accessToken).exp * 1000 + 100 - Date.now()));
  const refused = tessera.apollo.query({ query: ME, fetchPolicy: 'network-only' });
  await expect(refused).rejects.toMatchObject({ errors: [{ extensions: { reason: 'TOKEN_EXPIRED' } }] });
  expect(refreshes).toHaveLength(1);
  expect(endedReasons).toHaveLength(1);
});

test('a page load resumes the session from the cookie alone', async () => {
  const { jar, tessera } = pageWithClient();
  await logIn(tessera);
  // A reload: a new client with the memory wiped, the same cookie jar.
  const page = browserPage(app.url, jar);
  const reloaded = createTesseraClient({ uri: page.apiUrl, fetch: page.fetch, readCsrfToken: page.readCsrfToken });
  expect(await reloaded.refresh()).toBe(true);
  expect(await me(reloaded)).toMatchObject({ username: 'ada' });
});
