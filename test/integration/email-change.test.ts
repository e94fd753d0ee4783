// Email change over real HTTP, PostgreSQL and SMTP: the link goes to the new address and is
// followed from the mail that arrived there; the old address is told, with no link; a taken
// address answers like a free one; used, expired, superseded and overtaken links change nothing.
import { randomBytes } from 'node:crypto';
import { OneTimeTokenPurpose } from '../../src/db/entities/index.js';
import { OneTimeTokens } from '../../src/auth/one-time-tokens.js';
import { accountState } from '../helpers/account-state.js';
import { deactivateUser } from '../helpers/fixtures.js';
import type { AuthPayload } from '../helpers/graphql-client.js';
import { REQUEST_PASSWORD_RESET, RESET_PASSWORD } from '../helpers/mail-flows.js';
import {
  authEvents,
  CHANGE_PASSWORD,
  codeOf,
  createAdmin,
  loginOk,
  PASSWORD,
  reasonOf,
  sleep,
} from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const REQUEST = 'mutation Request($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }';
const CONFIRM = 'mutation Confirm($t: String!) { confirmEmailChange(token: $t) }';
const ME = '{ me { id email emailVerified } }';

const SIGNING_KEY = randomBytes(32).toString('base64url');

let smtp: SmtpReceiver;
let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({ SMTP_URL: smtp.url, APP_URL: 'https://app.example.test', JWT_SECRET_KEY: SIGNING_KEY });
  admin = await createAdmin(app, 'keeper');
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

async function requestChange(
  server: TestServer,
  accessToken: string,
  newEmail: string,
  password = PASSWORD,
): Promise<ReturnType<TestServer['client']['request']>> {
  return server.client.request(REQUEST, { e: newEmail, p: password }, { token: accessToken });
}

/** Requests a change that must be accepted, and returns the token from the mail at the new address. */
async function tokenMailedTo(server: TestServer, accessToken: string, newEmail: string): Promise<string> {
  const result = await requestChange(server, accessToken, newEmail);
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ requestEmailChange: true });
  return smtp.tokenOf(await smtp.waitForMail(newEmail));
}

async function confirm(server: TestServer, token: string) {
  return server.client.request(CONFIRM, { t: token });
}

test('the link goes to the new address; following it moves the account, and the old address is told', async () => {
  const user = await app.client.signup('mover', PASSWORD, 'mover@example.com');
  const state = await accountState(app);

  const result = await requestChange(app, user.accessToken, 'mover.new@example.org');
  expect(result.data).toEqual({ requestEmailChange: true });
  const mail = await smtp.waitForMail('mover.new@example.org');
  expect(mail.link).toMatch(/^https:\/\/app\.example\.test\/confirm-email-change\?token=/);
  // Nothing moves until the link is followed.
  expect((await accountState(app)).users).toEqual(state.users);
  const before = await app.client.request(ME, {}, { token: user.accessToken });
  expect(before.data.me).toEqual({ id: user.user.id, email: 'mover@example.com', emailVerified: false });

  expect((await confirm(app, smtp.tokenOf(mail))).data).toEqual({ confirmEmailChange: true });

  // The same access token sees the new address at once: the cached user was dropped.
  const after = await app.client.request(ME, {}, { token: user.accessToken });
  expect(after.data.me).toEqual({ id: user.user.id, email: 'mover.new@example.org', emailVerified: true });
  await loginOk(app, 'mover.new@example.org');
  expect(reasonOf(await app.client.login('mover@example.com'))).toBe('INVALID_CREDENTIALS');

  const notice = await smtp.waitForMail('mover@example.com');
  expect(notice.link).toBeUndefined();
  expect(notice.text).toContain('m***@example.org');
  expect(notice.text).not.toContain('mover.new');
  expect(notice.html).not.toContain('mover.new');

  const events = await authEvents(app, admin.accessToken, { userId: user.user.id });
  expect(events.map((event) => event.type)).toEqual(
    expect.arrayContaining(['EMAIL_CHANGE_REQUESTED', 'EMAIL_CHANGED']),
  );
});

test('the cached user is dropped on every instance', async () => {
  // The same signing key, so that both instances accept the same access token.
  // A cache far longer than the test, so that only the invalidation can refresh it.
  const other = await startTestServer(
    { SMTP_URL: smtp.url, JWT_SECRET_KEY: SIGNING_KEY, AUTH_CACHE_TTL: '300' },
    app.database,
  );
  try {
    const user = await app.client.signup('traveller', PASSWORD, 'traveller@example.com');
    // Read once on the other instance, so that its cache holds the old address.
    const first = await other.client.request(ME, {}, { token: user.accessToken });
    expect(first.data.me.email).toBe('traveller@example.com');

    await confirm(app, await tokenMailedTo(app, user.accessToken, 'traveller.new@example.com'));

    let seen: string | undefined;
    for (let attempt = 0; attempt < 20 && seen !== 'traveller.new@example.com'; attempt++) {
      seen = (await other.client.request(ME, {}, { token: user.accessToken })).data.me.email;
      if (seen !== 'traveller.new@example.com') await sleep(100);
    }
    expect(seen).toBe('traveller.new@example.com');
  } finally {
    await other.stop();
  }
});

test('a wrong password is refused and changes nothing', async () => {
  const user = await app.client.signup('guesser', PASSWORD, 'guesser@example.com');
  const state = await accountState(app);

  const result = await requestChange(app, user.accessToken, 'guesser.new@example.com', 'not the password');
  expect(codeOf(result)).toBe('UNAUTHENTICATED');
  expect(reasonOf(result)).toBe('INVALID_CREDENTIALS');
  expect(await accountState(app)).toEqual(state);
  await smtp.noMailTo('guesser.new@example.com', 1500);
});

test('an invalid address and the current address are refused as input, and change nothing', async () => {
  const user = await app.client.signup('stayer', PASSWORD, 'stayer@example.com');
  const state = await accountState(app);

  const invalid = await requestChange(app, user.accessToken, 'not an address');
  expect(codeOf(invalid)).toBe('BAD_USER_INPUT');
  expect(invalid.errors?.[0]?.extensions).toMatchObject({ reason: 'INVALID_EMAIL', field: 'newEmail' });

  const same = await requestChange(app, user.accessToken, ' STAYER@example.com ');
  expect(codeOf(same)).toBe('BAD_USER_INPUT');
  expect(same.errors?.[0]?.extensions).toMatchObject({ reason: 'INVALID_EMAIL', field: 'newEmail' });

  expect(await accountState(app)).toEqual(state);
});

test("another account's address answers true, mails its owner a notice, and changes nothing", async () => {
  await app.client.signup('owner', PASSWORD, 'owner@example.com');
  const user = await app.client.signup('squatter', PASSWORD, 'squatter@example.com');
  const state = await accountState(app);

  const result = await requestChange(app, user.accessToken, 'Owner@Example.com');
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ requestEmailChange: true });

  const notice = await smtp.waitForMail('owner@example.com');
  expect(notice.link).toBeUndefined();
  const after = await accountState(app);
  expect(after.users).toEqual(state.users);
  expect(after.tokens).toEqual(state.tokens);
  const me = await app.client.request(ME, {}, { token: user.accessToken });
  expect(me.data.me.email).toBe('squatter@example.com');
  // The requester's own trail reads the same as for a free address.
  const events = await authEvents(app, admin.accessToken, { userId: user.user.id });
  expect(events.map((event) => event.type)).toContain('EMAIL_CHANGE_REQUESTED');
});

test('a link works once', async () => {
  const user = await app.client.signup('twice', PASSWORD, 'twice@example.com');
  const token = await tokenMailedTo(app, user.accessToken, 'twice.new@example.com');
  expect((await confirm(app, token)).data).toEqual({ confirmEmailChange: true });
  const state = await accountState(app);

  const again = await confirm(app, token);
  expect(codeOf(again)).toBe('BAD_USER_INPUT');
  expect(again.errors?.[0]?.extensions).toMatchObject({ reason: 'TOKEN_INVALID', field: 'token' });
  expect(await accountState(app)).toEqual(state);
});

test('a newer request retires the earlier link', async () => {
  const user = await app.client.signup('fickle', PASSWORD, 'fickle@example.com');
  const first = await tokenMailedTo(app, user.accessToken, 'fickle.first@example.com');
  const second = await tokenMailedTo(app, user.accessToken, 'fickle.second@example.com');
  const state = await accountState(app);

  expect(reasonOf(await confirm(app, first))).toBe('TOKEN_INVALID');
  expect(await accountState(app)).toEqual(state);
  expect((await confirm(app, second)).data).toEqual({ confirmEmailChange: true });
  const me = await app.client.request(ME, {}, { token: user.accessToken });
  expect(me.data.me.email).toBe('fickle.second@example.com');
});

test('an address taken between the request and the link is refused, and nothing changes', async () => {
  const user = await app.client.signup('slow', PASSWORD, 'slow@example.com');
  const token = await tokenMailedTo(app, user.accessToken, 'contested@example.com');
  await app.client.signup('quick', PASSWORD, 'Contested@example.com');
  const state = await accountState(app);

  const result = await confirm(app, token);
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(reasonOf(result)).toBe('ACCOUNT_EXISTS');
  expect(await accountState(app)).toEqual(state);
  const me = await app.client.request(ME, {}, { token: user.accessToken });
  expect(me.data.me.email).toBe('slow@example.com');
});

test('a link mailed before the account was disabled does not move it', async () => {
  const user = await app.client.signup('suspended', PASSWORD, 'suspended@example.com');
  const token = await tokenMailedTo(app, user.accessToken, 'suspended.new@example.com');
  await deactivateUser(app, user.user.id);
  const state = await accountState(app);

  const result = await confirm(app, token);
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(reasonOf(result)).toBe('TOKEN_INVALID');
  expect(await accountState(app)).toEqual(state);
});

test('links sent to the old address die with the change', async () => {
  const user = await app.client.signup('careful', PASSWORD, 'careful@example.com');
  // Issued the way the verification and reset flows issue them, to the old address.
  const tokens = new OneTimeTokens();
  const em = app.orm.em.fork();
  const [reset, verification] = await em.transactional(async (tx) => [
    await tokens.issue(tx, user.user.id, OneTimeTokenPurpose.PASSWORD_RESET, 'careful@example.com', 3600),
    await tokens.issue(tx, user.user.id, OneTimeTokenPurpose.EMAIL_VERIFICATION, 'careful@example.com', 3600),
  ]);
  await expect(tokens.inspect(app.orm.em.fork(), reset, OneTimeTokenPurpose.PASSWORD_RESET)).resolves.toBeDefined();

  await confirm(app, await tokenMailedTo(app, user.accessToken, 'careful.new@example.com'));

  for (const [token, purpose] of [
    [reset, OneTimeTokenPurpose.PASSWORD_RESET],
    [verification, OneTimeTokenPurpose.EMAIL_VERIFICATION],
  ] as const) {
    await expect(tokens.inspect(app.orm.em.fork(), token, purpose)).rejects.toMatchObject({ reason: 'TOKEN_INVALID' });
  }
});

test('a confirmation is refused once the link has expired, and changes nothing', async () => {
  const short = await startTestServer({ SMTP_URL: smtp.url, EMAIL_CHANGE_TOKEN_EXPIRES: '2s' });
  try {
    const user = await short.client.signup('late', PASSWORD, 'late@example.com');
    const requestedAt = Date.now();
    const token = await tokenMailedTo(short, user.accessToken, 'late.new@example.com');
    await sleep(Math.max(0, requestedAt + 2500 - Date.now()));
    const state = await accountState(short);

    const result = await confirm(short, token);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.extensions).toMatchObject({ reason: 'TOKEN_EXPIRED', field: 'token' });
    expect(await accountState(short)).toEqual(state);
  } finally {
    await short.stop();
  }
});

test('the address asked for counts toward its mail limit, taken or not', async () => {
  const limited = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_MAIL_REQUESTS: '1' });
  try {
    await limited.client.signup('resident', PASSWORD, 'resident@example.com');
    const user = await limited.client.signup('pusher', PASSWORD, 'pusher@example.com');
    for (const address of ['resident@example.com', 'vacant@example.com']) {
      expect((await requestChange(limited, user.accessToken, address)).data).toEqual({ requestEmailChange: true });
      await smtp.waitForMail(address);
      const state = await accountState(limited);
      expect(codeOf(await requestChange(limited, user.accessToken, address))).toBe('RATE_LIMITED');
      expect(await accountState(limited)).toEqual(state);
      await smtp.noMailTo(address, 1500);
    }
  } finally {
    await limited.stop();
  }
});

test('MAIL_FLOWS=off refuses both mutations', async () => {
  const off = await startTestServer({ MAIL_FLOWS: 'off' });
  try {
    const user = await off.client.signup('mailless', PASSWORD, 'mailless@example.com');
    const state = await accountState(off);
    for (const result of [
      await requestChange(off, user.accessToken, 'mailless.new@example.com'),
      await confirm(off, 'x'.repeat(43)),
    ]) {
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(reasonOf(result)).toBe('MAIL_DISABLED');
    }
    expect(await accountState(off)).toEqual(state);
  } finally {
    await off.stop();
  }
});

test('requestEmailChange needs a signed-in caller', async () => {
  const result = await app.client.request(REQUEST, { e: 'anyone@example.com', p: PASSWORD });
  expect(codeOf(result)).toBe('UNAUTHENTICATED');
});

describe('a pending change dies with the password that asked for it', () => {
  test('a password change retires the link', async () => {
    const user = await app.client.signup('robbed', PASSWORD, 'robbed@example.com');
    const token = await tokenMailedTo(app, user.accessToken, 'robber@example.org');
    const changed = await app.client.request(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'the owner took it back 1' },
      { token: user.accessToken },
    );
    expect(changed.errors).toBeUndefined();
    expect(reasonOf(await confirm(app, token))).toBe('TOKEN_INVALID');
    await loginOk(app, 'robbed@example.com', 'the owner took it back 1');
  });

  test('a password reset retires the link', async () => {
    const user = await app.client.signup('recovered', PASSWORD, 'recovered@example.com');
    const token = await tokenMailedTo(app, user.accessToken, 'thief@example.org');
    expect(
      (await app.client.request(REQUEST_PASSWORD_RESET, { email: 'recovered@example.com' })).errors,
    ).toBeUndefined();
    const reset = await app.client.request(RESET_PASSWORD, {
      token: smtp.tokenOf(await smtp.waitForMail('recovered@example.com')),
      password: 'the owner took it back 2',
    });
    expect(reset.errors).toBeUndefined();
    expect(reasonOf(await confirm(app, token))).toBe('TOKEN_INVALID');
    await loginOk(app, 'recovered@example.com', 'the owner took it back 2');
  });
});
