// REQUIRE_VERIFIED_EMAIL: an unverified account cannot log in, and learns so only with its right
// password, when a fresh link is mailed to it (it cannot sign in to ask for one); signup makes the
// account and its link, but no session. The accounts of the other tests were made before the
// setting was on, by a server without it on the same database.
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, SIGNUP } from '../helpers/graphql-client.js';
import { databaseState, refusal, VERIFY_EMAIL } from '../helpers/mail-flows.js';
import { authEvents, PASSWORD } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MAIL_REQUESTS = 2;

let smtp: SmtpReceiver;
let app: TestServer;
/** The same database without the setting: accounts made before it was turned on. */
let earlier: TestServer;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({
    SMTP_URL: smtp.url,
    REQUIRE_VERIFIED_EMAIL: 'true',
    RATE_LIMIT_MAIL_REQUESTS: String(MAIL_REQUESTS),
    ACCOUNT_LOCK_FAILURES: '3',
  });
  earlier = await startTestServer({ SMTP_URL: smtp.url }, app.database);
});
afterAll(async () => {
  await earlier?.stop();
  await app?.stop();
  await smtp?.stop();
});

test('wrong password, then the right one (refused, link mailed), then verify, then in', async () => {
  const admin = await createAdmin(app); // operator accounts are verified: the admin logs in
  const alice = await earlier.client.signup('alice');

  const wrong = await app.client.login('alice', 'not the password');
  expect(refusal(wrong)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  await smtp.noMailTo('alice@example.com', 1500);

  const refused = await app.client.login('alice', PASSWORD);
  expect(refused.data ?? null).toBeNull();
  expect(refusal(refused)).toEqual({ code: 'UNAUTHENTICATED', reason: 'EMAIL_NOT_VERIFIED' });
  const mail = await smtp.waitForMail('alice@example.com');
  expect(new URL(mail.link!).pathname).toBe('/verify-email');

  expect((await app.client.request(VERIFY_EMAIL, { token: smtp.tokenOf(mail) })).data).toEqual({ verifyEmail: true });
  const login = await app.client.login('alice', PASSWORD);
  expect(login.errors).toBeUndefined();
  expect(login.data?.login.user.id).toBe(alice.user.id);

  const types = (await authEvents(app, admin.accessToken, { userId: alice.user.id })).map((event) => event.type);
  expect(types).toEqual(
    expect.arrayContaining(['LOGIN_FAILED', 'EMAIL_VERIFICATION_REQUESTED', 'EMAIL_VERIFIED', 'LOGIN_SUCCEEDED']),
  );
});

test('an unknown account is refused as ever, and nothing is written but the failure', async () => {
  const refused = await app.client.login('nobody', PASSWORD);
  expect(refusal(refused)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
});

test('the refusal mails a link at most as often as the mail limit allows, never locks the account, and opens no session', async () => {
  const bob = await earlier.client.signup('bob');
  // More refusals than ACCOUNT_LOCK_FAILURES: the right password clears the count each time.
  for (let attempt = 0; attempt < MAIL_REQUESTS + 2; attempt++) {
    expect(onlyError(await app.client.login('bob', PASSWORD)).extensions?.reason).toBe('EMAIL_NOT_VERIFIED');
  }
  const links = [];
  for (let mail = 0; mail < MAIL_REQUESTS; mail++) links.push(await smtp.waitForMail('bob@example.com'));
  await smtp.noMailTo('bob@example.com', 1500);
  // Past the limit a refusal writes nothing at all.
  const before = await databaseState(app);
  expect(onlyError(await app.client.login('bob', PASSWORD)).extensions?.reason).toBe('EMAIL_NOT_VERIFIED');
  expect(await databaseState(app)).toEqual(before);
  const sessions = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ count: string }[]>('select count(*) from sessions where user_id = ?', [bob.user.id]);
  expect(Number(sessions[0].count)).toBe(1); // the signup's

  // Only the newest link verifies (mails need not arrive in the order they were queued); then the
  // login opens a session.
  const answers = [];
  for (const link of links) {
    const answer = await app.client.request(VERIFY_EMAIL, { token: smtp.tokenOf(link) });
    answers.push(answer.data?.verifyEmail ?? answer.errors?.[0]?.extensions?.reason);
  }
  expect(answers.sort()).toEqual([...Array<string>(MAIL_REQUESTS - 1).fill('TOKEN_INVALID'), true].sort());
  expect((await app.client.login('bob', PASSWORD)).errors).toBeUndefined();
});

test('signup makes the account and mails its link, but opens no session until the address is verified', async () => {
  const signup = await app.client.request(SIGNUP, {
    input: { username: 'carol', email: 'carol@example.com', password: PASSWORD },
  });
  expect(refusal(signup)).toEqual({ code: 'UNAUTHENTICATED', reason: 'EMAIL_NOT_VERIFIED' });
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ verified: boolean; sessions: number }[]>(
      `select email_verified_at is not null as verified,
              (select count(*)::int from sessions where user_id = users.id) as sessions
         from users where username_key = 'carol'`,
    );
  expect(rows).toEqual([{ verified: false, sessions: 0 }]);
  const mail = await smtp.waitForMail('carol@example.com');
  expect((await app.client.request(VERIFY_EMAIL, { token: smtp.tokenOf(mail) })).data).toEqual({ verifyEmail: true });
  expect((await app.client.login('carol', PASSWORD)).errors).toBeUndefined();
});
