// register over real HTTP, PostgreSQL and SMTP: the sign-up whose answer never tells whether an
// email has an account. A new email waits as a pending registration, taking no username, until
// the mailed link makes the account; a taken one gets nothing but a notice to its owner; only a
// username taken by an account is refused (usernames are public). SIGNUP_MODE=verified closes
// signup; MAIL_FLOWS=off closes register.
import { accountState } from '../helpers/account-state.js';
import type { AuthPayload } from '../helpers/graphql-client.js';
import { SIGNUP } from '../helpers/graphql-client.js';
import { VERIFY_EMAIL } from '../helpers/mail-flows.js';
import { authEvents, codeOf, createAdmin, PASSWORD, reasonOf, sleep } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
/** What someone probing for an account would register with: not the victim's password. */
const PROBE_PASSWORD = 'violet staircase umbrella';
const REGISTER = 'mutation Register($input: SignupInput!) { register(input: $input) }';

let smtp: SmtpReceiver;
let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({ SMTP_URL: smtp.url, APP_URL: 'https://app.example.test' });
  admin = await createAdmin(app, 'keeper');
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

function register(server: TestServer, username: string, email: string, password = PASSWORD) {
  return server.client.request(REGISTER, { input: { username, email, password } });
}

async function userRows(server: TestServer, emailKey: string) {
  return server.orm.em
    .fork()
    .execute<{ id: string; username: string; email_verified_at: Date | null }[]>(
      'select id, username, email_verified_at from users where email_key = ?',
      [emailKey],
    );
}

async function pendingRows(server: TestServer, emailKey: string) {
  return server.orm.em
    .fork()
    .execute<{ username: string }[]>('select username from registrations where email_key = ?', [emailKey]);
}

async function sessionCount(server: TestServer, userId: string): Promise<number> {
  const [row] = await server.orm.em
    .fork()
    .execute<{ count: string }[]>('select count(*) from sessions where user_id = ?', [userId]);
  return Number(row?.count);
}

function verify(server: TestServer, token: string) {
  return server.client.request(VERIFY_EMAIL, { token });
}

/** The token of the next verification link mailed to `email`. */
async function mailedToken(email: string): Promise<string> {
  const mail = await smtp.waitForMail(email);
  expect(mail.link).toMatch(/^https:\/\/app\.example\.test\/verify-email\?token=/);
  return smtp.tokenOf(mail);
}

async function loginReason(server: TestServer, username: string, password = PASSWORD) {
  return reasonOf(await server.client.login(username, password));
}

/** A refusal of verifyEmail: BAD_USER_INPUT with this reason and field, and the database untouched. */
async function verifyRefused(server: TestServer, token: string, reason: string, field = 'token') {
  const before = await accountState(server);
  const result = await verify(server, token);
  expect(result.data ?? null).toBeNull();
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason, field });
  expect(await accountState(server)).toEqual(before);
}

test('a new email gets no account yet, only a pending registration and a verification link', async () => {
  const result = await register(app, 'newcomer', 'newcomer@example.com');
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ register: true });

  expect(await userRows(app, 'newcomer@example.com')).toEqual([]);
  expect(await pendingRows(app, 'newcomer@example.com')).toEqual([{ username: 'newcomer' }]);
  const token = await mailedToken('newcomer@example.com');
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await loginReason(app, 'newcomer')).toBe('INVALID_CREDENTIALS');
});

test('the link makes the account, verified, with no session; then it logs in, and the link is spent', async () => {
  await register(app, 'arrival', 'Arrival@example.com');
  const token = await mailedToken('Arrival@example.com');

  expect((await verify(app, token)).data).toEqual({ verifyEmail: true });
  const [row, ...others] = await userRows(app, 'arrival@example.com');
  expect(others).toEqual([]);
  expect(row.username).toBe('arrival');
  expect(row.email_verified_at).not.toBeNull();
  expect(await sessionCount(app, row.id)).toBe(0);
  expect(await pendingRows(app, 'arrival@example.com')).toEqual([]);
  const events = await authEvents(app, admin.accessToken, { userId: row.id });
  expect(events.map((event) => event.type)).toEqual(['REGISTERED']);

  const login = await app.client.login('arrival');
  expect(login.errors).toBeUndefined();
  expect(login.data?.login.user).toMatchObject({ id: row.id, username: 'arrival', email: 'Arrival@example.com' });

  await verifyRefused(app, token, 'TOKEN_INVALID');
});

test('a taken email answers true, creates nothing, and mails its owner a notice without a link', async () => {
  const owner = await app.client.signup('incumbent', PASSWORD, 'incumbent@example.com');
  const state = await accountState(app);

  const result = await register(app, 'pretender', 'Incumbent@Example.com');
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ register: true });

  const notice = await smtp.waitForMail('incumbent@example.com');
  expect(notice.link).toBeUndefined();
  const after = await accountState(app);
  expect(after.users).toEqual(state.users);
  expect(after.tokens).toEqual(state.tokens);
  expect(after.registrations).toEqual(state.registrations);
  const events = await authEvents(app, admin.accessToken, { userId: owner.user.id });
  expect(events.map((event) => event.type)).toContain('REGISTER_EXISTING_EMAIL');
});

test.each([
  ['a free email', 'probe_free', 'nobody.here@example.com'],
  ['a taken email', 'probe_taken', 'victim@example.com'],
])(
  'after a register with %s, the username stays free and the password opens nothing',
  async (_case, username, email) => {
    if (email === 'victim@example.com') await app.client.signup('victim', PASSWORD, email);
    expect((await register(app, username, email, PROBE_PASSWORD)).data).toEqual({ register: true });

    // Neither a login with what was registered nor a second register of the username tells the paths apart.
    expect(await loginReason(app, username, PROBE_PASSWORD)).toBe('INVALID_CREDENTIALS');
    expect(await loginReason(app, email, PROBE_PASSWORD)).toBe('INVALID_CREDENTIALS');
    const second = await register(app, username, `${username}.other@example.com`);
    expect(second.errors).toBeUndefined();
    expect(second.data).toEqual({ register: true });
  },
);

test('a taken username is ACCOUNT_EXISTS on username, and nothing changes', async () => {
  await app.client.signup('famous', PASSWORD, 'famous@example.com');
  const state = await accountState(app);

  const result = await register(app, 'FAMOUS', 'someone.else@example.com');
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason: 'ACCOUNT_EXISTS', field: 'username' });
  expect(await accountState(app)).toEqual(state);
  await smtp.noMailTo('someone.else@example.com', 1500);
});

test('a newer register of the same email replaces the older: only the newer link works', async () => {
  await register(app, 'first_thought', 'second-thoughts@example.com');
  const older = await mailedToken('second-thoughts@example.com');
  await register(app, 'second_thought', 'second-thoughts@example.com');
  const newer = await mailedToken('second-thoughts@example.com');
  expect(await pendingRows(app, 'second-thoughts@example.com')).toEqual([{ username: 'second_thought' }]);

  await verifyRefused(app, older, 'TOKEN_INVALID');
  expect((await verify(app, newer)).data).toEqual({ verifyEmail: true });
  expect(await userRows(app, 'second-thoughts@example.com')).toMatchObject([{ username: 'second_thought' }]);
});

test('a username an account takes before the link is followed: ACCOUNT_EXISTS on username, and the registration is gone', async () => {
  await register(app, 'contested', 'slow.reader@example.com');
  const token = await mailedToken('slow.reader@example.com');
  await app.client.signup('Contested', PASSWORD, 'quick.signer@example.com');
  const state = await accountState(app);

  const result = await verify(app, token);
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason: 'ACCOUNT_EXISTS', field: 'username' });
  const after = await accountState(app);
  expect(after.users).toEqual(state.users);
  expect(after.registrations).toHaveLength(state.registrations.length - 1);
  expect(await pendingRows(app, 'slow.reader@example.com')).toEqual([]);
  await verifyRefused(app, token, 'TOKEN_INVALID');
});

test('an address an account takes before the link is followed: ACCOUNT_EXISTS on email', async () => {
  await register(app, 'late_reader', 'doubly@example.com');
  const token = await mailedToken('doubly@example.com');
  await app.client.signup('early_signer', PASSWORD, 'Doubly@example.com');

  const result = await verify(app, token);
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason: 'ACCOUNT_EXISTS', field: 'email' });
  expect(await userRows(app, 'doubly@example.com')).toMatchObject([{ username: 'early_signer' }]);
  expect(await pendingRows(app, 'doubly@example.com')).toEqual([]);
});

test('two pending registrations of one username: the first link followed wins', async () => {
  expect((await register(app, 'wanted', 'wanted.one@example.com')).data).toEqual({ register: true });
  expect((await register(app, 'Wanted', 'wanted.two@example.com')).data).toEqual({ register: true });
  const one = await mailedToken('wanted.one@example.com');
  const two = await mailedToken('wanted.two@example.com');

  expect((await verify(app, two)).data).toEqual({ verifyEmail: true });
  const result = await verify(app, one);
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason: 'ACCOUNT_EXISTS', field: 'username' });
  expect(await userRows(app, 'wanted.two@example.com')).toMatchObject([{ username: 'Wanted' }]);
  expect(await userRows(app, 'wanted.one@example.com')).toEqual([]);
  expect(await pendingRows(app, 'wanted.one@example.com')).toEqual([]);
});

test('two links of one username followed at once: one account, the other ACCOUNT_EXISTS and gone', async () => {
  await register(app, 'photo_finish', 'finish.one@example.com');
  await register(app, 'Photo_Finish', 'finish.two@example.com');
  const tokens = [await mailedToken('finish.one@example.com'), await mailedToken('finish.two@example.com')];

  const results = await Promise.all(tokens.map((token) => verify(app, token)));
  expect(results.map((result) => result.data?.verifyEmail ?? result.errors?.[0]?.extensions?.field).sort()).toEqual([
    true,
    'username',
  ]);
  const [row] = await app.orm.em
    .fork()
    .execute<{ count: string }[]>("select count(*) from users where username_key = 'photo_finish'");
  expect(Number(row?.count)).toBe(1);
  expect([
    ...(await pendingRows(app, 'finish.one@example.com')),
    ...(await pendingRows(app, 'finish.two@example.com')),
  ]).toEqual([]);
});

test('the link expires (EMAIL_VERIFICATION_TOKEN_EXPIRES=2s): TOKEN_EXPIRED, and no account', async () => {
  const brief = await startTestServer({
    SMTP_URL: smtp.url,
    APP_URL: 'https://app.example.test',
    EMAIL_VERIFICATION_TOKEN_EXPIRES: '2s',
  });
  try {
    await register(brief, 'dawdler', 'dawdler@example.com');
    const token = await mailedToken('dawdler@example.com');
    await sleep(2100);
    await verifyRefused(brief, token, 'TOKEN_EXPIRED');
    expect(await userRows(brief, 'dawdler@example.com')).toEqual([]);
    expect(await loginReason(brief, 'dawdler')).toBe('INVALID_CREDENTIALS');
  } finally {
    await brief.stop();
  }
});

test('the purge deletes registrations expired for more than a day, and keeps the others', async () => {
  await register(app, 'purged', 'purged@example.com');
  await register(app, 'kept', 'kept@example.com');
  await app.orm.em
    .fork()
    .execute(
      "update registrations set expires_at = now() - interval '25 hours' where email_key = 'purged@example.com'",
    );
  expect(await app.server.services.registration.purgeExpired(app.orm.em.fork())).toBe(1);
  expect(await pendingRows(app, 'purged@example.com')).toEqual([]);
  expect(await pendingRows(app, 'kept@example.com')).toEqual([{ username: 'kept' }]);
});

test.each([
  ['a weak password', 'weakling', 'weakling@example.com', 'password', 'WEAK_PASSWORD', 'password'],
  ['an invalid email', 'nomail', 'not an address', PASSWORD, 'INVALID_EMAIL', 'email'],
  ['an invalid username', 'x', 'tiny@example.com', PASSWORD, 'INVALID_USERNAME', 'username'],
])('%s is refused as input, and nothing changes', async (_case, username, email, password, reason, field) => {
  const state = await accountState(app);
  const result = await register(app, username, email, password);
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors?.[0]?.extensions).toMatchObject({ reason, field });
  expect(await accountState(app)).toEqual(state);
});

test('two registrations racing for one email: both answer true, and one registration is left', async () => {
  const results = await Promise.all([
    register(app, 'racer_one', 'photo-finish@example.com'),
    register(app, 'racer_two', 'photo-finish@example.com'),
  ]);
  expect(results.map((result) => result.data)).toEqual([{ register: true }, { register: true }]);
  expect(await userRows(app, 'photo-finish@example.com')).toEqual([]);
  const [pending, ...others] = await pendingRows(app, 'photo-finish@example.com');
  expect(others).toEqual([]);
  // Both links were mailed; the one of the registration left makes its account, the other is dead.
  const tokens = [await mailedToken('photo-finish@example.com'), await mailedToken('photo-finish@example.com')];
  const answers = [];
  for (const token of tokens) answers.push((await verify(app, token)).data?.verifyEmail ?? null);
  expect(answers.sort()).toEqual([null, true]);
  expect(await userRows(app, 'photo-finish@example.com')).toMatchObject([{ username: pending.username }]);
});

test('MAIL_FLOWS=off refuses register, and signup still works', async () => {
  const off = await startTestServer({ MAIL_FLOWS: 'off' });
  try {
    const state = await accountState(off);
    const result = await register(off, 'mailless', 'mailless@example.com');
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(reasonOf(result)).toBe('MAIL_DISABLED');
    expect(await accountState(off)).toEqual(state);
    await off.client.signup('mailless', PASSWORD, 'mailless@example.com');
  } finally {
    await off.stop();
  }
});

describe('SIGNUP_MODE=verified', () => {
  let closed: TestServer;
  beforeAll(async () => {
    closed = await startTestServer({ SMTP_URL: smtp.url, SIGNUP_MODE: 'verified' }, app.database);
  });
  afterAll(() => closed?.stop());

  test('signup is refused with SIGNUP_DISABLED, and creates nothing', async () => {
    const state = await accountState(closed);
    const result = await closed.client.request(SIGNUP, {
      input: { username: 'gatecrasher', email: 'gatecrasher@example.com', password: PASSWORD },
    });
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(reasonOf(result)).toBe('SIGNUP_DISABLED');
    expect(await accountState(closed)).toEqual(state);
  });

  test('register is the way in: follow the mailed link, then log in', async () => {
    expect((await register(closed, 'invited', 'invited@example.com')).data).toEqual({ register: true });
    expect(await pendingRows(closed, 'invited@example.com')).toHaveLength(1);
    const token = smtp.tokenOf(await smtp.waitForMail('invited@example.com'));
    expect(await loginReason(closed, 'invited@example.com')).toBe('INVALID_CREDENTIALS');

    const verified = await closed.client.request('mutation Verify($t: String!) { verifyEmail(token: $t) }', {
      t: token,
    });
    expect(verified.data).toEqual({ verifyEmail: true });
    const login = await closed.client.login('invited@example.com');
    expect(login.errors).toBeUndefined();
    expect(login.data?.login.user.username).toBe('invited');
  });
});

test('register is throttled per IP like signup', async () => {
  const tight = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_IP_ATTEMPTS: '2' });
  try {
    expect((await register(tight, 'first_in', 'first_in@example.com')).data).toEqual({ register: true });
    expect((await register(tight, 'second_in', 'second_in@example.com')).data).toEqual({ register: true });
    const state = await accountState(tight);
    const third = await register(tight, 'third_in', 'third_in@example.com');
    expect(codeOf(third)).toBe('RATE_LIMITED');
    expect(await accountState(tight)).toEqual(state);
  } finally {
    await tight.stop();
  }
});

test('a mailbox is not flooded: past RATE_LIMIT_MAIL_REQUESTS an address is refused, taken or not', async () => {
  const limited = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_MAIL_REQUESTS: '2' });
  try {
    await limited.client.signup('besieged', PASSWORD, 'besieged@example.com');
    for (const [address, tag] of [
      ['besieged@example.com', 'b'],
      ['unclaimed@example.com', 'u'],
    ] as const) {
      expect((await register(limited, `${tag}_first`, address)).data).toEqual({ register: true });
      expect((await register(limited, `${tag}_second`, address)).data).toEqual({ register: true });
      const state = await accountState(limited);
      const third = await register(limited, `${tag}_third`, address);
      expect(codeOf(third)).toBe('RATE_LIMITED');
      expect(await accountState(limited)).toEqual(state);
      await smtp.waitForMail(address);
      await smtp.waitForMail(address);
      await smtp.noMailTo(address, 1500);
    }
  } finally {
    await limited.stop();
  }
});
