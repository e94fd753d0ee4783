// Forgot password, over real HTTP and real SMTP: the tests ask for a link, take it from the mail
// that arrives, and reset with its token, as a user would.
import { randomBytes } from 'node:crypto';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import { createAdmin, deactivateUser, sessionIdOf } from '../helpers/fixtures.js';
import {
  databaseState,
  emailOf,
  emailVerified,
  refusal,
  REQUEST_PASSWORD_RESET,
  RESET_PASSWORD,
  VERIFY_EMAIL,
} from '../helpers/mail-flows.js';
import { authEvents, CHANGE_PASSWORD, meReason, PASSWORD, refreshReason, sleep } from '../helpers/session-helpers.js';
import { post, SPA_ORIGIN } from '../helpers/cookie-requests.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const NEW_PASSWORD = 'a fresh passphrase 42';
const MAIL_REQUESTS = 3;

let smtp: SmtpReceiver;
let app: TestServer;
let adminToken: string;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Tessera <auth@example.com>',
    RATE_LIMIT_MAIL_REQUESTS: String(MAIL_REQUESTS),
    ACCOUNT_LOCK_FAILURES: '3',
  });
  adminToken = (await createAdmin(app)).accessToken;
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

async function requestReset(email: string, server = app): Promise<void> {
  const result = await server.client.request(REQUEST_PASSWORD_RESET, { email });
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ requestPasswordReset: true });
}

/** Asks for a reset link for the user and returns the token of the mail that arrives. */
async function mailedResetToken(username: string, server = app): Promise<string> {
  await requestReset(emailOf(username), server);
  const mail = await smtp.waitForMail(emailOf(username));
  expect(new URL(mail.link!).pathname).toBe('/reset-password');
  return smtp.tokenOf(mail);
}

function reset(token: string, password = NEW_PASSWORD, server = app) {
  return server.client.request<{ resetPassword: AuthPayload & { user: { emailVerified: boolean } } }>(RESET_PASSWORD, {
    token,
    password,
  });
}

async function resetOk(token: string, password = NEW_PASSWORD): Promise<AuthPayload> {
  const result = await reset(token, password);
  if (!result.data?.resetPassword) throw new Error(`resetPassword failed: ${JSON.stringify(result.errors)}`);
  return result.data.resetPassword;
}

/** The refusal, and that it changed nothing. */
async function refusedWithoutChange(token: string, password = NEW_PASSWORD, server = app) {
  const before = await databaseState(server);
  const result = await reset(token, password, server);
  expect(result.data ?? null).toBeNull();
  expect(await databaseState(server)).toEqual(before);
  return refusal(result);
}

const TOKEN_INVALID = { code: 'BAD_USER_INPUT', reason: 'TOKEN_INVALID', field: 'token' };

test('the whole story: ask, follow the link, reset; the old credentials are dead and the owner is told', async () => {
  const signedUp = await app.client.signup('alice');
  const oldLogin = (await app.client.login('alice')).data!.login;
  expect(await emailVerified(app, signedUp.accessToken)).toBe(false);

  await requestReset('ALICE@example.com');
  const mail = await smtp.waitForMail(emailOf('alice'));
  expect(mail.subject).not.toBe('');
  expect(mail.text).toContain(mail.link);
  const link = new URL(mail.link!);
  expect(`${link.origin}${link.pathname}`).toBe(`${app.config.mail.appUrl}/reset-password`);

  const payload = await resetOk(smtp.tokenOf(mail));
  expect(payload.user).toMatchObject({ id: signedUp.user.id, username: 'alice', emailVerified: true });
  expect(payload.refreshToken).toEqual(expect.any(String));

  // The new session works; every earlier one has ended, access and refresh tokens alike.
  expect(await meReason(app, payload.accessToken)).toBeUndefined();
  expect(await emailVerified(app, payload.accessToken)).toBe(true);
  for (const old of [signedUp, oldLogin]) {
    expect(await meReason(app, old.accessToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, old.refreshToken)).toBe('TOKEN_REVOKED');
  }
  expect(await refreshReason(app, payload.refreshToken)).toBeUndefined();

  // The old password is refused, the new one accepted.
  expect(onlyError(await app.client.login('alice', PASSWORD)).extensions?.reason).toBe('INVALID_CREDENTIALS');
  expect((await app.client.login('alice', NEW_PASSWORD)).data?.login.user.id).toBe(signedUp.user.id);

  // The notice: to the account's address, without a link or any secret.
  const notice = await smtp.waitForMail(emailOf('alice'));
  expect(notice.link).toBeUndefined();
  expect(notice.text).toContain('alice');
  expect(notice.text).not.toContain(smtp.tokenOf(mail));

  const events = await authEvents(app, adminToken, { userId: signedUp.user.id });
  const types = events.map((event) => event.type);
  expect(types).toEqual(expect.arrayContaining(['PASSWORD_RESET_REQUESTED', 'PASSWORD_RESET']));
  const resetEvent = events.find((event) => event.type === 'PASSWORD_RESET')!;
  expect(resetEvent.sessionId).toBe(sessionIdOf(payload.accessToken));
  const ended = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ revoked_reason: string | null }[]>('select revoked_reason from sessions where id in (?, ?)', [
      sessionIdOf(signedUp.accessToken),
      sessionIdOf(oldLogin.accessToken),
    ]);
  expect(ended.map((row) => row.revoked_reason)).toEqual(['PASSWORD_RESET', 'PASSWORD_RESET']);
});

test('an unknown address answers true, nothing is mailed, and the request is recorded on no account', async () => {
  const before = (await databaseState(app)) as { events: { type: string; user_id: string | null }[] };
  await requestReset('nobody@example.com');
  await smtp.noMailTo('nobody@example.com', 2500);
  const after = (await databaseState(app)) as typeof before;
  // Recorded either way, as for a known address: the same work on both paths.
  expect(after.events.slice(before.events.length)).toEqual([
    expect.objectContaining({ type: 'PASSWORD_RESET_REQUESTED', user_id: null }),
  ]);
  expect({ ...after, events: before.events }).toEqual(before);
});

test('a token works once', async () => {
  await app.client.signup('bob');
  const token = await mailedResetToken('bob');
  await resetOk(token);
  await smtp.waitForMail(emailOf('bob')); // the notice
  expect(await refusedWithoutChange(token, 'yet another passphrase')).toEqual(TOKEN_INVALID);
  expect((await app.client.login('bob', NEW_PASSWORD)).errors).toBeUndefined();
});

// A server of its own: the file's other tests take longer than a link this short-lived lasts.
test('a token expires (PASSWORD_RESET_TOKEN_EXPIRES=2s)', async () => {
  const shortLived = await startTestServer({ SMTP_URL: smtp.url, PASSWORD_RESET_TOKEN_EXPIRES: '2s' }, app.database);
  try {
    await shortLived.client.signup('carol');
    const token = await mailedResetToken('carol', shortLived);
    await sleep(2100);
    expect(await refusedWithoutChange(token, NEW_PASSWORD, shortLived)).toEqual({
      ...TOKEN_INVALID,
      reason: 'TOKEN_EXPIRED',
    });
    expect((await shortLived.client.login('carol', PASSWORD)).errors).toBeUndefined();
  } finally {
    await shortLived.stop();
  }
});

test('a password change retires the reset link and sends its own notice', async () => {
  const dave = await app.client.signup('dave');
  const token = await mailedResetToken('dave');
  const changed = await app.client.request(
    CHANGE_PASSWORD,
    { c: PASSWORD, n: 'changed by its owner 1' },
    { token: dave.accessToken },
  );
  expect(changed.errors).toBeUndefined();
  const notice = await smtp.waitForMail(emailOf('dave'));
  expect(notice.link).toBeUndefined();
  expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
  expect((await app.client.login('dave', 'changed by its owner 1')).errors).toBeUndefined();
});

test('a newer request supersedes the older link', async () => {
  await app.client.signup('erin');
  const first = await mailedResetToken('erin');
  const second = await mailedResetToken('erin');
  expect(second).not.toBe(first);
  expect(await refusedWithoutChange(first)).toEqual(TOKEN_INVALID);
  await resetOk(second);
});

test('a refused password leaves the link usable', async () => {
  await app.client.signup('frank');
  const token = await mailedResetToken('frank');
  for (const weak of ['short', 'password', 'frank', emailOf('frank')]) {
    expect(await refusedWithoutChange(token, weak)).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'WEAK_PASSWORD',
      field: 'newPassword',
    });
  }
  await resetOk(token);
});

test('a verification token is no reset token, and a reset token verifies nothing', async () => {
  const grace = await app.client.signup('grace');
  const verify = await app.client.request('mutation { requestEmailVerification }', {}, { token: grace.accessToken });
  expect(verify.data).toEqual({ requestEmailVerification: true });
  const verificationToken = smtp.tokenOf(await smtp.waitForMail(emailOf('grace')));
  expect(await refusedWithoutChange(verificationToken)).toEqual(TOKEN_INVALID);

  const resetToken = await mailedResetToken('grace');
  const before = await databaseState(app);
  expect(refusal(await app.client.request(VERIFY_EMAIL, { token: resetToken }))).toEqual(TOKEN_INVALID);
  expect(await databaseState(app)).toEqual(before);

  // Both still work for what they are.
  expect((await app.client.request(VERIFY_EMAIL, { token: verificationToken })).data).toEqual({ verifyEmail: true });
  await resetOk(resetToken);
});

test('hostile tokens are refused alike and change nothing', async () => {
  await app.client.signup('heidi');
  const genuine = await mailedResetToken('heidi');
  const hostile = [
    '',
    'x'.repeat(10_000),
    `${genuine}\u0000`,
    '\u0000',
    genuine.slice(0, -1),
    `${genuine}x`,
    genuine.toUpperCase(),
    randomBytes(32).toString('base64url'),
    "' or 1=1 --",
  ];
  for (const token of hostile) expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
  await resetOk(genuine);
});

test('requests are throttled per address, known or not, and answer RATE_LIMITED', async () => {
  await app.client.signup('ivan');
  for (const email of [emailOf('ivan'), 'nobody-at-all@example.com']) {
    for (let request = 0; request < MAIL_REQUESTS; request++) await requestReset(email);
    const limited = await app.client.request(REQUEST_PASSWORD_RESET, { email: email.toUpperCase() });
    expect(onlyError(limited).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
  }
  for (let mail = 0; mail < MAIL_REQUESTS; mail++) await smtp.waitForMail(emailOf('ivan'));
  await smtp.noMailTo(emailOf('ivan'), 1500);
  // Another address is not affected.
  await app.client.signup('judy');
  await mailedResetToken('judy');
});

test("a stranger's requests from another network leave the owner's own; all networks together are capped", async () => {
  const proxied = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_MAIL_REQUESTS: '2', TRUST_PROXY: 'loopback' });
  try {
    await proxied.client.signup('targeted', PASSWORD, 'targeted@example.com');
    const from = (ip: string) =>
      proxied.client.request(
        REQUEST_PASSWORD_RESET,
        { email: 'targeted@example.com' },
        { headers: { 'x-forwarded-for': ip } },
      );
    const codes = async (ips: string[]) => {
      const answers = [];
      for (const ip of ips) answers.push((await from(ip)).errors?.[0]?.extensions?.code ?? 'ok');
      return answers;
    };
    // The stranger uses up what one network may ask for...
    expect(await codes(['203.0.113.7', '203.0.113.7', '203.0.113.7'])).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    // ...and the owner, elsewhere, still gets a link.
    expect(await codes(['198.51.100.9'])).toEqual(['ok']);
    // Four times one network's limit from all of them together (2 x 4 = 8), however many there are.
    expect(await codes(['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.2', '192.0.2.3', '192.0.2.3'])).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'RATE_LIMITED',
    ]);
  } finally {
    await proxied.stop();
  }
});

test('an invalid address is the input at fault', async () => {
  const result = await app.client.request(REQUEST_PASSWORD_RESET, { email: 'not an address' });
  expect(refusal(result)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
});

test('a disabled account is sent no link, and its earlier link is refused without a write', async () => {
  const mallory = await app.client.signup('mallory');
  const token = await mailedResetToken('mallory');
  await deactivateUser(app, mallory.user.id);
  expect(await refusedWithoutChange(token)).toEqual({ code: 'UNAUTHENTICATED', reason: 'ACCOUNT_DISABLED' });
  await requestReset(emailOf('mallory'));
  await smtp.noMailTo(emailOf('mallory'), 2500);
});

test('a device token issued before the reset no longer counts as a known device', async () => {
  const olivia = await app.client.signup('olivia');
  for (let attempt = 0; attempt < 3; attempt++) {
    expect(onlyError(await app.client.login('olivia', 'not the password')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
  }
  // The account is locked, but the owner's device is judged by its own count.
  expect(onlyError(await app.client.login('olivia', PASSWORD)).extensions?.code).toBe('RATE_LIMITED');
  expect((await app.client.login('olivia', PASSWORD, olivia.deviceToken!)).errors).toBeUndefined();

  await resetOk(await mailedResetToken('olivia'));
  // The lock still runs; the device token, tied to the old password's hash, is retired.
  expect(onlyError(await app.client.login('olivia', NEW_PASSWORD, olivia.deviceToken!)).extensions?.code).toBe(
    'RATE_LIMITED',
  );
});

test('with transport COOKIE the new refresh token comes as a cookie, as from login', async () => {
  await app.client.signup('peggy');
  const token = await mailedResetToken('peggy');
  const query =
    'mutation Reset($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password, transport: COOKIE) { accessToken refreshToken transport } }';
  const denied = await post(app.url, query, { token, password: NEW_PASSWORD }, { origin: 'https://evil.example' });
  expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ORIGIN_NOT_ALLOWED' });
  expect(denied.setCookies.size).toBe(0);

  const response = await post(app.url, query, { token, password: NEW_PASSWORD }, { origin: SPA_ORIGIN });
  expect(response.errors).toBeUndefined();
  expect(response.data.resetPassword).toMatchObject({ refreshToken: null, transport: 'COOKIE' });
  expect(response.setCookies.get('refresh_token_cookie')?.attributes.has('httponly')).toBe(true);
});

describe('per client IP', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_IP_ATTEMPTS: '2' });
  });
  afterAll(() => limited?.stop());

  test('requests and resets count on the IP like logins', async () => {
    for (const email of ['one@example.com', 'two@example.com']) {
      expect((await limited.client.request(REQUEST_PASSWORD_RESET, { email })).data).toEqual({
        requestPasswordReset: true,
      });
    }
    const third = await limited.client.request(REQUEST_PASSWORD_RESET, { email: 'three@example.com' });
    expect(onlyError(third).extensions?.code).toBe('RATE_LIMITED');
    const reset = await limited.client.request(RESET_PASSWORD, { token: 'x', password: NEW_PASSWORD });
    expect(onlyError(reset).extensions?.code).toBe('RATE_LIMITED');
  });
});
