// The mailed links in a real Chromium: the demo page asks for a link, a real SMTP server receives
// the mail, and the browser opens the link from it, as its reader would. Forgotten password,
// address verification, email change, and a sign-up where SIGNUP_MODE=verified.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REFRESH } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { freePort, startTestServer, type TestServer } from '../helpers/test-server.js';
import { launchChromium } from './helpers/chromium.js';
import { recordGraphQL } from './helpers/graphql-log.js';
import { newContext, statusBecomes, uniqueName, watchForPageErrors } from './helpers/page-steps.js';

const PASSWORD = 'a browser test password';
const NEW_PASSWORD = 'another browser password';

let browser: Browser;
let smtp: SmtpReceiver;
beforeAll(async () => {
  browser = await launchChromium();
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  await browser?.close();
  await smtp?.stop();
});

/** A Tessera whose mailed links open its own demo page. */
async function startTessera(env: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({ SMTP_URL: smtp.url, APP_URL: `http://127.0.0.1:${port}`, ...env }, undefined, { port });
}

/** Opens the link of the next mail to `to`; the page takes the token out of its address. */
async function openMailedLink(page: Page, to: string, subject: string): Promise<void> {
  const mail = await smtp.waitForMail(to);
  expect(mail.subject).toBe(subject);
  expect(mail.link).toBeDefined();
  await page.goto(mail.link!);
  expect(new URL(page.url()).searchParams.has('token')).toBe(false);
}

async function signIn(page: Page, usernameOrEmail: string, password: string): Promise<void> {
  await page.getByTestId('username').fill(usernameOrEmail);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('login').click();
}

describe('with open sign-up', () => {
  let tessera: TestServer;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  const username = uniqueName('mailer');
  const email = `${username}@example.com`;

  beforeAll(async () => {
    tessera = await startTessera();
    context = await newContext(browser);
    page = await context.newPage();
    pageErrors = watchForPageErrors(page);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  test('a forgotten password: the link from the mail sets a new one and signs in; the old session ends', async () => {
    const elsewhere = await tessera.client.signup(username, PASSWORD, email);
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await page.getByTestId('forgot-email').fill(email);
    await page.getByTestId('send-reset').click();
    await statusBecomes(page, `If ${email} has an account, a reset link is on its way`);

    await openMailedLink(page, email, 'Reset your password');
    expect(await page.getByTestId('reset-password').isVisible()).toBe(true);
    expect(await page.getByTestId('sign-in').isVisible()).toBe(false);
    await page.getByTestId('new-password').fill(NEW_PASSWORD);
    await page.getByTestId('set-password').click();
    await statusBecomes(page, 'Your password is set');
    expect(await page.getByTestId('me-username').textContent()).toBe(username);
    // The reset proved the address.
    expect(await page.getByTestId('me-email-verified').textContent()).toBe('yes');

    const replay = await tessera.client.request(REFRESH, { t: elsewhere.refreshToken });
    expect(replay.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
    const oldPassword = await tessera.client.login(username, PASSWORD);
    expect(oldPassword.errors?.[0]?.extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(await smtp.waitForMail(email)).toMatchObject({ subject: 'Your password was reset', link: undefined });
  });

  test('an email change: the link goes to the new address, the old one gets a notice without a link', async () => {
    const newEmail = `${username}.new@example.com`;
    await page.getByTestId('new-email').fill(newEmail);
    await page.getByTestId('change-email-password').fill(NEW_PASSWORD);
    await page.getByTestId('request-change').click();
    await statusBecomes(page, `A link to confirm is on its way to ${newEmail}`);

    await openMailedLink(page, newEmail, 'Confirm your new email address');
    await page.getByTestId('confirm-change').click();
    await statusBecomes(page, 'Your account now uses this address');
    expect(await page.getByTestId('me-email').textContent()).toBe(newEmail);
    expect(await smtp.waitForMail(email)).toMatchObject({ subject: 'Your email address was changed', link: undefined });
  });

  test('the page ran without an uncaught error or a policy violation', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('with SIGNUP_MODE=verified', () => {
  let tessera: TestServer;
  let context: BrowserContext;

  beforeAll(async () => {
    tessera = await startTessera({ SIGNUP_MODE: 'verified' });
    context = await newContext(browser);
  });
  afterAll(async () => {
    await context?.close();
    await tessera?.stop();
  });

  test('sign-up registers, the mailed link makes the account, and only then can the user sign in', async () => {
    const page = await context.newPage();
    const pageErrors = watchForPageErrors(page);
    const log = recordGraphQL(page, tessera.url);
    const username = uniqueName('verified');
    const email = `${username}@example.com`;
    await page.goto(new URL('/', tessera.url).toString());
    await statusBecomes(page, 'Signed out');
    await page.getByTestId('username').fill(username);
    await page.getByTestId('email').fill(email);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('signup').click();
    await statusBecomes(page, `Check the inbox of ${email}`);
    expect((await log.all()).map(({ operation, reasons }) => ({ operation, reasons }))).toEqual([
      { operation: 'Signup', reasons: ['SIGNUP_DISABLED'] },
      { operation: 'Register', reasons: [] },
    ]);

    // Until the link is followed there is no account: the login is refused as any unknown one.
    await signIn(page, username, PASSWORD);
    await statusBecomes(page, 'INVALID_CREDENTIALS');
    await openMailedLink(page, email, 'Confirm your email address');
    await page.getByTestId('confirm-verification').click();
    await statusBecomes(page, 'Your email address is verified');
    await signIn(page, username, PASSWORD);
    await statusBecomes(page, `Signed in as ${username}`);
    expect(await page.getByTestId('me-email-verified').textContent()).toBe('yes');
    expect(pageErrors).toEqual([]);
  });
});
