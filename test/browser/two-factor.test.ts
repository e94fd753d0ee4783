// Two-factor in the demo page, in a real Chromium against a real Tessera: turning it on with the
// QR code shown (after the password, since a reloaded page's token is not fresh), the first code
// from an authenticator app, the recovery codes shown once; then logins that ask for a code, a
// wrong code, recovery codes, new codes and turning it off; a challenge that waited too long; a
// stale token with two-factor on (password and code); and the QR code importer given a hostile SVG.
// The codes come from otplib with the key read off the page, as a phone would make them.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { AuthenticatorApp } from '../helpers/two-factor.js';
import { launchChromium } from './helpers/chromium.js';
import { recordGraphQL, type GraphQLExchange, type GraphQLLog } from './helpers/graphql-log.js';
import { newContext, statusBecomes, uniqueName, watchForPageErrors } from './helpers/page-steps.js';

const PASSWORD = 'a browser test password';
const CHALLENGE_SECONDS = 10;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const steps = (exchanges: GraphQLExchange[]) => exchanges.map(({ operation, reasons }) => ({ operation, reasons }));

/** The claims of the access token an exchange answered with (read, not verified: Tessera signed it). */
function accessTokenClaims(exchange: GraphQLExchange, field: string): Record<string, unknown> {
  const token = (exchange.data as Record<string, { accessToken: string }>)[field].accessToken;
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('login').click();
}

/** Logs out, and waits until the log has read the Logout, so that the next step's mark follows it. */
async function logOut(page: Page, log: GraphQLLog): Promise<void> {
  const step = log.mark();
  await page.getByTestId('logout').click();
  await statusBecomes(page, 'Signed out');
  while (!(await step.since()).some(({ operation }) => operation === 'Logout')) await page.waitForTimeout(50);
}

async function recoveryCodesShown(page: Page): Promise<string[]> {
  await page.getByTestId('recovery-codes').waitFor();
  return page.getByTestId('recovery-code-list').locator('li').allTextContents();
}

/** Nothing a script could find later holds the challenge: not storage, not a readable cookie. */
async function expectNothingStored(page: Page): Promise<void> {
  expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
  expect(String(await page.evaluate('document.cookie'))).toBe('');
}

describe('two-factor in the demo page', () => {
  const username = uniqueName('twofactor');
  let tessera: TestServer;
  let context: BrowserContext;
  let page: Page;
  let log: GraphQLLog;
  let pageErrors: string[];
  let app: AuthenticatorApp;
  let recoveryCodes: string[];

  beforeAll(async () => {
    tessera = await startTestServer();
    context = await newContext(browser);
    page = await context.newPage();
    log = recordGraphQL(page, tessera.url);
    pageErrors = watchForPageErrors(page);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  test('after a reload, turning it on asks for the password, then shows the QR code and the key', async () => {
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await page.getByTestId('username').fill(username);
    await page.getByTestId('email').fill(`${username}@example.com`);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('signup').click();
    await statusBecomes(page, `Signed in as ${username}`);
    expect(await page.getByTestId('me-two-factor').textContent()).toBe('off');
    expect(await page.getByTestId('two-factor-on').isVisible()).toBe(false);
    // The token a reload gets from the refresh cookie is not fresh.
    await page.reload();
    await statusBecomes(page, `Signed in as ${username}`);

    const step = log.mark();
    await page.getByTestId('start-two-factor').click();
    await statusBecomes(page, 'Confirm your password');
    expect(await page.getByTestId('reauthenticate').isVisible()).toBe(true);
    expect(await page.getByTestId('reauth-code').isVisible()).toBe(false);
    await page.getByTestId('reauth-password').fill(PASSWORD);
    await page.getByTestId('confirm-reauth').click();
    await statusBecomes(page, 'Scan the QR code');

    expect(steps(await step.since())).toEqual([
      { operation: 'StartTotpEnrollment', reasons: ['FRESH_TOKEN_REQUIRED'] },
      { operation: 'Reauthenticate', reasons: [] },
      { operation: 'StartTotpEnrollment', reasons: [] },
    ]);
    expect(await page.getByTestId('reauthenticate').isVisible()).toBe(false);
    // Drawn: an <svg> of the page's own, with its squares, at a size a phone's camera can read.
    const qrCode = page.getByTestId('qr-code').locator('svg');
    expect(await qrCode.count()).toBe(1);
    expect(await qrCode.locator('path').count()).toBeGreaterThan(0);
    const box = await qrCode.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(100);
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    app = new AuthenticatorApp(secret);
  });

  test('a wrong first code is refused; a code from the app turns it on and shows 10 recovery codes once', async () => {
    await page.getByTestId('enrollment-code').fill(app.wrongCode());
    await page.getByTestId('confirm-two-factor').click();
    await statusBecomes(page, 'MFA_CODE_INVALID');
    expect(await page.getByTestId('enrollment').isVisible()).toBe(true);
    expect(await page.getByTestId('account').isVisible()).toBe(true);

    await page.getByTestId('enrollment-code').fill(await app.nextCode());
    await page.getByTestId('confirm-two-factor').click();
    await statusBecomes(page, 'Two-factor is on');
    recoveryCodes = await recoveryCodesShown(page);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/i);
    // The key has left the page.
    expect(await page.getByTestId('qr-code').locator('svg').count()).toBe(0);
    expect(await page.getByTestId('totp-secret').textContent()).toBe('');

    await page.getByTestId('saved-recovery-codes').click();
    await statusBecomes(page, `Signed in as ${username}`);
    expect(await page.getByTestId('recovery-codes').isVisible()).toBe(false);
    expect(await page.getByTestId('recovery-code-list').locator('li').count()).toBe(0);
    expect(await page.getByTestId('me-two-factor').textContent()).toBe('on');
    expect(await page.getByTestId('start-two-factor').isVisible()).toBe(false);
    expect(await page.getByTestId('two-factor-on').isVisible()).toBe(true);
  });

  test('a login then asks for a code, and the code from the app signs in at aal 2 with the COOKIE transport', async () => {
    await logOut(page, log);
    const step = log.mark();
    await logIn(page, username);
    await statusBecomes(page, 'Enter the code from your authenticator app');
    expect(await page.getByTestId('mfa-login').isVisible()).toBe(true);
    expect(await page.getByTestId('sign-in').isVisible()).toBe(false);
    expect(await page.getByTestId('password').inputValue()).toBe('');
    // No session yet, so no cookie; and the challenge is in the script's memory only.
    expect(await context.cookies()).toEqual([]);
    await expectNothingStored(page);

    await page.getByTestId('mfa-code').fill(await app.nextCode());
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, `Signed in as ${username}`);
    const [login, completion, account] = await step.since();
    expect(login).toMatchObject({ operation: 'Login', reasons: ['MFA_REQUIRED'] });
    expect(completion).toMatchObject({ operation: 'CompleteMfaLogin', reasons: [], authorization: undefined });
    expect(completion.data).toMatchObject({ completeMfaLogin: { transport: 'COOKIE' } });
    expect(accessTokenClaims(completion, 'completeMfaLogin')).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
    expect(account).toMatchObject({ operation: 'Account', reasons: [] });
    expect((await context.cookies()).map((cookie) => cookie.name).sort()).toEqual([
      'csrf_refresh_token',
      'refresh_token_cookie',
    ]);
    expect(await page.getByTestId('mfa-login').isVisible()).toBe(false);
  });

  test('a wrong code is refused and the prompt stays; a recovery code then signs in', async () => {
    await logOut(page, log);
    await logIn(page, username);
    await statusBecomes(page, 'Enter the code');
    await page.getByTestId('mfa-code').fill(app.wrongCode());
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, 'UNAUTHENTICATED MFA_CODE_INVALID');
    expect(await page.getByTestId('mfa-login').isVisible()).toBe(true);
    expect(await page.getByTestId('sign-in').isVisible()).toBe(false);

    const step = log.mark();
    await page.getByTestId('use-recovery-code').click();
    expect(await page.getByTestId('mfa-code').isVisible()).toBe(false);
    await page.getByTestId('mfa-recovery-code').fill(recoveryCodes[0]);
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, `Signed in as ${username}`);
    const [completion] = await step.since();
    expect(completion).toMatchObject({ operation: 'CompleteMfaLogin', reasons: [] });
    expect(accessTokenClaims(completion, 'completeMfaLogin')).toMatchObject({ aal: 2, amr: ['pwd', 'rec'] });
  });

  test('a recovery code works once: used again it is refused, and another one signs in', async () => {
    await logOut(page, log);
    await logIn(page, username);
    await statusBecomes(page, 'Enter the code');
    await page.getByTestId('use-recovery-code').click();
    await page.getByTestId('mfa-recovery-code').fill(recoveryCodes[0]);
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, 'MFA_CODE_INVALID');
    await page.getByTestId('mfa-recovery-code').fill(recoveryCodes[1]);
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, `Signed in as ${username}`);
  });

  test('new recovery codes take a code from the app and replace the old ones', async () => {
    // Signed in with a recovery code a moment ago: the token is fresh, the app's code not yet used.
    const step = log.mark();
    await page.getByTestId('two-factor-code').fill(await app.nextCode());
    await page.getByTestId('regenerate-codes').click();
    await statusBecomes(page, 'New recovery codes');
    const renewed = await recoveryCodesShown(page);
    expect(renewed).toHaveLength(10);
    expect(renewed.filter((code) => recoveryCodes.includes(code))).toEqual([]);
    expect(steps(await step.since())).toEqual([{ operation: 'RegenerateRecoveryCodes', reasons: [] }]);
    await page.getByTestId('saved-recovery-codes').click();
    await statusBecomes(page, `Signed in as ${username}`);
    recoveryCodes = renewed;
  });

  test('turning it off takes a recovery code; the next login needs only the password', async () => {
    await page.getByTestId('two-factor-code').fill(recoveryCodes[0]);
    await page.getByTestId('disable-two-factor').click();
    await statusBecomes(page, 'Two-factor is off');
    expect(await page.getByTestId('me-two-factor').textContent()).toBe('off');
    expect(await page.getByTestId('start-two-factor').isVisible()).toBe(true);
    expect(await page.getByTestId('two-factor-on').isVisible()).toBe(false);

    await logOut(page, log);
    const step = log.mark();
    await logIn(page, username);
    await statusBecomes(page, `Signed in as ${username}`);
    expect(steps(await step.since())[0]).toEqual({ operation: 'Login', reasons: [] });
    expect(await page.getByTestId('mfa-login').isVisible()).toBe(false);
  });

  test('the page ran without an uncaught error or a policy violation', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('a two-factor login that waits too long', () => {
  const username = uniqueName('slow');
  let tessera: TestServer;
  let context: BrowserContext;

  beforeAll(async () => {
    tessera = await startTestServer({ MFA_CHALLENGE_EXPIRES: `${CHALLENGE_SECONDS}s` });
    context = await newContext(browser);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  test('the expired challenge is said plainly and the page is back at the sign-in form', async () => {
    const page = await context.newPage();
    const pageErrors = watchForPageErrors(page);
    const log = recordGraphQL(page, tessera.url);
    // Enrolled over the API: this test is about the login page.
    const { accessToken } = await tessera.client.signup(username, PASSWORD);
    const started = await tessera.client.request(
      'mutation { startTotpEnrollment { secret } }',
      {},
      { token: accessToken },
    );
    const app = new AuthenticatorApp(started.data.startTotpEnrollment.secret as string);
    const confirmed = await tessera.client.request(
      'mutation Confirm($code: String!) { confirmTotpEnrollment(code: $code) }',
      { code: await app.nextCode() },
      { token: accessToken },
    );
    expect(confirmed.errors).toBeUndefined();

    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await logIn(page, username);
    await statusBecomes(page, 'Enter the code');
    // A real clock: the challenge lasts CHALLENGE_SECONDS.
    await page.waitForTimeout((CHALLENGE_SECONDS + 1) * 1000);
    const step = log.mark();
    await page.getByTestId('mfa-code').fill(await app.nextCode());
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, 'The code came too late: log in again');
    expect(steps(await step.since())).toEqual([{ operation: 'CompleteMfaLogin', reasons: ['TOKEN_EXPIRED'] }]);
    expect(await page.getByTestId('mfa-login').isVisible()).toBe(false);
    expect(await page.getByTestId('sign-in').isVisible()).toBe(true);
    expect(await context.cookies()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe('a change that needs a fresh token, with two-factor on', () => {
  const username = uniqueName('stale');
  let tessera: TestServer;
  let context: BrowserContext;

  beforeAll(async () => {
    tessera = await startTestServer();
    context = await newContext(browser);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  test('asks for the password and a code, then for the next code to make new recovery codes', async () => {
    const page = await context.newPage();
    const pageErrors = watchForPageErrors(page);
    const log = recordGraphQL(page, tessera.url);
    const { accessToken } = await tessera.client.signup(username, PASSWORD);
    const started = await tessera.client.request(
      'mutation { startTotpEnrollment { secret } }',
      {},
      { token: accessToken },
    );
    const app = new AuthenticatorApp(started.data.startTotpEnrollment.secret as string);
    const confirmed = await tessera.client.request(
      'mutation Confirm($code: String!) { confirmTotpEnrollment(code: $code) }',
      { code: await app.nextCode() },
      { token: accessToken },
    );
    const recoveryCodes = confirmed.data.confirmTotpEnrollment as string[];

    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await logIn(page, username);
    await statusBecomes(page, 'Enter the code');
    await page.getByTestId('use-recovery-code').click();
    await page.getByTestId('mfa-recovery-code').fill(recoveryCodes[0]);
    await page.getByTestId('complete-mfa').click();
    await statusBecomes(page, `Signed in as ${username}`);
    await page.reload();
    await statusBecomes(page, `Signed in as ${username}`);

    const step = log.mark();
    // Refused before the code is looked at: the same code may prove the reauthentication.
    const code = await app.nextCode();
    await page.getByTestId('two-factor-code').fill(code);
    await page.getByTestId('regenerate-codes').click();
    await statusBecomes(page, 'Confirm your password');
    expect(await page.getByTestId('reauth-code').isVisible()).toBe(true);
    await page.getByTestId('reauth-password').fill(PASSWORD);
    await page.getByTestId('reauth-code').fill(code);
    await page.getByTestId('confirm-reauth').click();
    await statusBecomes(page, "Confirmed: wait for your app's next code");
    expect(await page.getByTestId('two-factor-on').isVisible()).toBe(true);

    await page.getByTestId('two-factor-code').fill(await app.nextCode());
    await page.getByTestId('regenerate-codes').click();
    await statusBecomes(page, 'New recovery codes');
    expect(await recoveryCodesShown(page)).toHaveLength(10);
    const exchanges = await step.since();
    expect(steps(exchanges)).toEqual([
      { operation: 'RegenerateRecoveryCodes', reasons: ['FRESH_TOKEN_REQUIRED'] },
      { operation: 'Reauthenticate', reasons: [] },
      { operation: 'RegenerateRecoveryCodes', reasons: [] },
    ]);
    expect(accessTokenClaims(exchanges[1], 'reauthenticate')).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
    expect(pageErrors).toEqual([]);
  });
});

describe("the page's QR code importer", () => {
  // The module as the page loads it, imported inside the page.
  const IMPORTER = '/demo/svg-image.js';
  let tessera: TestServer;
  let context: BrowserContext;

  beforeAll(async () => {
    tessera = await startTestServer();
    context = await newContext(browser);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  // What a tampered answer could carry: script, handlers, links, HTML, outside paint.
  const HOSTILE_SVG = [
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"',
    ' onload="window.hit = 1">',
    '<script>window.hit = 2</script>',
    '<path d="M0 0h1v1H0z" fill="#000" onclick="window.hit = 3" style="fill: url(https://evil.example/x)"/>',
    '<path d="M2 2h1v1H2z" fill="url(https://evil.example/paint)" stroke="#000"/>',
    '<a href="javascript:window.hit = 4"><rect x="1" y="1" width="1" height="1"/></a>',
    '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="window.hit = 5"/></div></foreignObject>',
    '<image href="https://evil.example/i.png"/><use xlink:href="#a"/>',
    '</svg>',
  ].join('');

  test('keeps only the shapes: no script, handler, link, HTML or outside paint reaches the page', async () => {
    const page = await context.newPage();
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    const markup = await page.evaluate(
      async ({ module, text }) => {
        const { svgFromText } = (await import(module)) as { svgFromText: (text: string) => { outerHTML: string } };
        const svg = svgFromText(text);
        (globalThis as any).document.body.append(svg);
        return svg.outerHTML;
      },
      { module: IMPORTER, text: HOSTILE_SVG },
    );
    expect(markup).toBe(
      '<svg viewBox="0 0 10 10" role="img"><path d="M0 0h1v1H0z" fill="#000"></path>' +
        '<path d="M2 2h1v1H2z" stroke="#000"></path></svg>',
    );
    expect(await page.evaluate('window.hit')).toBeUndefined();
  });

  test('refuses what is not a well-formed SVG', async () => {
    const page = await context.newPage();
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    const outcomes = await page.evaluate(
      async ({ module, texts }) => {
        const { svgFromText } = (await import(module)) as { svgFromText: (text: string) => unknown };
        return texts.map((text) => {
          try {
            svgFromText(text);
            return 'accepted';
          } catch (error) {
            return (error as Error).message;
          }
        });
      },
      {
        module: IMPORTER,
        texts: [
          '<html><body>hi</body></html>',
          '<svg xmlns="http://www.w3.org/2000/svg"><path',
          'not markup',
          '<svg>no namespace</svg>',
        ],
      },
    );
    expect(outcomes).toEqual(Array(4).fill('the QR code is not an SVG image'));
  });
});
