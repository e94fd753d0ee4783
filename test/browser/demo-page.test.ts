// The demo page in a real Chromium against a real Tessera, served by Tessera itself and again from
// another origin: cookie-mode sign-up, a reload restored from the cookie alone, the silent refresh
// once the 2-second access token expired, logout; and a page on an origin Tessera refuses.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { COOKIE_REFRESH, cookieHeader, post } from '../helpers/cookie-requests.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { launchChromium } from './helpers/chromium.js';
import { recordGraphQL, type GraphQLLog } from './helpers/graphql-log.js';
import { newContext as contextOf, statusBecomes, uniqueName, watchForPageErrors } from './helpers/page-steps.js';
import { startStaticSite, type StaticSite } from './helpers/static-site.js';

const ACCESS_TOKEN_SECONDS = 2;
const PASSWORD = 'a browser test password';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
const newContext = () => contextOf(browser);

async function signUp(page: Page, username: string): Promise<void> {
  await page.getByTestId('username').fill(username);
  await page.getByTestId('email').fill(`${username}@example.com`);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('signup').click();
}

async function cookieNamed(context: BrowserContext, name: string) {
  return (await context.cookies()).find((cookie) => cookie.name === name);
}

/** The refresh cookie is there, but no script of the page can see it. */
async function expectRefreshCookieHidden(page: Page): Promise<void> {
  expect(await cookieNamed(page.context(), 'refresh_token_cookie')).toMatchObject({ httpOnly: true });
  // A string, since the tests are compiled without the DOM's types.
  const visible = String(await page.evaluate('document.cookie'));
  expect(visible).toContain('csrf_refresh_token=');
  expect(visible).not.toContain('refresh_token_cookie');
}

interface Placement {
  readonly name: string;
  /** Where the page is, for a Tessera at `graphqlUrl`. */
  serve(graphqlUrl: string): Promise<{ pageUrl: string; stop(): Promise<void> }>;
}

const PLACEMENTS: Placement[] = [
  {
    name: 'served by Tessera (same origin)',
    serve: (graphqlUrl) => Promise.resolve({ pageUrl: new URL('/', graphqlUrl).toString(), stop: async () => {} }),
  },
  {
    name: 'served from another origin',
    async serve(graphqlUrl) {
      const site = await startStaticSite(graphqlUrl);
      return { pageUrl: site.pageUrl(graphqlUrl), stop: () => site.stop() };
    },
  },
];

describe.each(PLACEMENTS)('the demo page $name', (placement) => {
  const username = uniqueName('reader');
  let tessera: TestServer;
  let site: { pageUrl: string; stop(): Promise<void> };
  let context: BrowserContext;
  let page: Page;
  let log: GraphQLLog;
  let pageErrors: string[];

  beforeAll(async () => {
    tessera = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: `${ACCESS_TOKEN_SECONDS}s` });
    site = await placement.serve(tessera.url);
    context = await newContext();
    page = await context.newPage();
    log = recordGraphQL(page, tessera.url);
    pageErrors = watchForPageErrors(page);
  });
  afterAll(async () => {
    await context?.close();
    await site?.stop();
    await tessera?.stop();
  });

  test('signs up with the COOKIE transport and shows me, my session and my tasks', async () => {
    await page.goto(site.pageUrl);
    await statusBecomes(page, 'Signed out');
    const step = log.mark();
    await signUp(page, username);
    await statusBecomes(page, `Signed in as ${username}`);

    expect(await page.getByTestId('me-username').textContent()).toBe(username);
    expect(await page.getByTestId('me-email').textContent()).toBe(`${username}@example.com`);
    expect(await page.getByTestId('me-roles').textContent()).toBe('USER');
    expect(await page.getByTestId('sessions').locator('li').allTextContents()).toEqual([
      expect.stringMatching(/^\(this one\) /),
    ]);
    expect(await page.getByTestId('tasks').locator('li').count()).toBe(0);
    const [signup, account] = await step.since();
    expect(signup).toMatchObject({ operation: 'Signup', reasons: [], data: { signup: { transport: 'COOKIE' } } });
    expect(account).toMatchObject({ operation: 'Account', reasons: [] });
    expect(await cookieNamed(context, 'refresh_token_cookie')).toMatchObject({ path: '/graphql', httpOnly: true });
    expect(await cookieNamed(context, 'csrf_refresh_token')).toMatchObject({ path: '/', httpOnly: false });
    await expectRefreshCookieHidden(page);
  });

  test('a reload restores the session from the cookie alone, which rotates', async () => {
    const csrfBefore = (await cookieNamed(context, 'csrf_refresh_token'))?.value;
    const step = log.mark();
    await page.reload();
    await statusBecomes(page, `Signed in as ${username}`);

    const [refresh, account] = await step.since();
    // Nothing but the cookies: no token in a header or the body, only the CSRF value.
    expect(refresh).toMatchObject({ operation: 'Refresh', authorization: undefined, csrfHeader: csrfBefore });
    expect(refresh.reasons).toEqual([]);
    expect(account).toMatchObject({ operation: 'Account', reasons: [] });
    expect((await cookieNamed(context, 'csrf_refresh_token'))?.value).not.toBe(csrfBefore);
    expect(await page.getByTestId('refresh-count').textContent()).toBe('1');
    await expectRefreshCookieHidden(page);
  });

  test('once the access token expired, adding a task refreshes silently and retries', async () => {
    // A real clock: the token the reload got expires after ACCESS_TOKEN_SECONDS.
    await page.waitForTimeout((ACCESS_TOKEN_SECONDS + 1) * 1000);
    const step = log.mark();
    await page.getByTestId('task-title').fill('water the plants');
    await page.getByTestId('add-task').click();
    await page.getByTestId('tasks').getByText('water the plants').waitFor();

    expect((await step.since()).map(({ operation, reasons }) => ({ operation, reasons }))).toEqual([
      { operation: 'CreateTask', reasons: ['TOKEN_EXPIRED'] },
      { operation: 'Refresh', reasons: [] },
      { operation: 'CreateTask', reasons: [] },
      { operation: 'Account', reasons: [] },
    ]);
    expect(await page.getByTestId('refresh-count').textContent()).toBe('2');
    await statusBecomes(page, `Signed in as ${username}`);
    await expectRefreshCookieHidden(page);
  });

  test('logout ends the session and clears the cookies; a reload then stays signed out', async () => {
    const refreshToken = (await cookieNamed(context, 'refresh_token_cookie'))!.value;
    const csrf = (await cookieNamed(context, 'csrf_refresh_token'))!.value;
    await page.getByTestId('logout').click();
    await statusBecomes(page, 'Signed out');
    expect(await cookieNamed(context, 'refresh_token_cookie')).toBeUndefined();
    expect(await cookieNamed(context, 'csrf_refresh_token')).toBeUndefined();
    // Ended on the server too, not only forgotten by the browser: the last cookie, replayed.
    const replay = await post(
      tessera.url,
      COOKIE_REFRESH,
      {},
      {
        cookie: cookieHeader(['refresh_token_cookie', refreshToken], ['csrf_refresh_token', csrf]),
        'x-csrf-token': csrf,
      },
    );
    expect(replay.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });

    const step = log.mark();
    await page.reload();
    await statusBecomes(page, 'Signed out');
    expect(await page.getByTestId('sign-in').isVisible()).toBe(true);
    expect(await page.getByTestId('account').isVisible()).toBe(false);
    expect(await step.since()).toEqual([]);
  });

  test('logs in again with the COOKIE transport', async () => {
    const step = log.mark();
    await page.getByTestId('username').fill(username);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('login').click();
    await statusBecomes(page, `Signed in as ${username}`);
    expect((await step.since())[0]).toMatchObject({ operation: 'Login', data: { login: { transport: 'COOKIE' } } });
    await expectRefreshCookieHidden(page);
  });

  test('the page ran without an uncaught error or a policy violation', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('a page on an origin Tessera does not allow', () => {
  const allowedOrigin = 'https://app.example.com';
  let tessera: TestServer;
  let site: StaticSite;
  let context: BrowserContext;

  beforeAll(async () => {
    // One exact origin: loopback origins, the static site's among them, are no longer allowed.
    tessera = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '2s', CORS_ORIGINS: allowedOrigin });
    site = await startStaticSite(tessera.url);
    context = await newContext();
  });
  afterAll(async () => {
    await context?.close();
    await site?.stop();
    await tessera?.stop();
  });

  test('cannot sign up: the browser blocks the call and the page says so', async () => {
    const page = await context.newPage();
    const log = recordGraphQL(page, tessera.url);
    const username = uniqueName('outsider');
    await page.goto(site.pageUrl(tessera.url));
    await statusBecomes(page, 'Signed out');
    await signUp(page, username);
    await statusBecomes(page, `Could not reach Tessera at ${tessera.url}`);

    expect(await log.all()).toEqual([]);
    expect(await context.cookies()).toEqual([]);
    // The sign-up never arrived: the name is still free.
    expect((await tessera.client.signup(username)).user.username).toBe(username);
  });

  test("Tessera's own page, pointed elsewhere with ?api=, is stopped by its policy before sending", async () => {
    const page = await context.newPage();
    const pageErrors = watchForPageErrors(page);
    const elsewhere = `${site.origin}/graphql`;
    await page.goto(new URL(`/?api=${encodeURIComponent(elsewhere)}`, tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await signUp(page, uniqueName('misled'));
    await statusBecomes(page, `Could not reach Tessera at ${elsewhere}`);

    expect(site.requests.filter((request) => request.endsWith(' /graphql'))).toEqual([]);
    // Chromium names the directive that refused the connection.
    expect(pageErrors).toContainEqual(expect.stringContaining(`directive: "connect-src 'self'"`));
  });

  test('the same page served by Tessera itself still signs up', async () => {
    const page = await context.newPage();
    const username = uniqueName('insider');
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await signUp(page, username);
    await statusBecomes(page, `Signed in as ${username}`);
  });
});
