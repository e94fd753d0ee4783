// A mailed reset link for an account with two-factor sets the new password but opens no session:
// whoever reads the mailbox still needs the authenticator. Over real HTTP and real SMTP, codes from otplib.
import { decodeJwt } from '../helpers/fixtures.js';
import { emailOf, REQUEST_PASSWORD_RESET, RESET_PASSWORD } from '../helpers/mail-flows.js';
import { claimsOf, reasonOf } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { completedLogin, signupWithTwoFactor } from '../helpers/two-factor.js';

const NEW_PASSWORD = 'a fresh passphrase 42';
const MAY_WAIT_A_STEP = 75_000;

let smtp: SmtpReceiver;
let app: TestServer;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({ SMTP_URL: smtp.url });
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

/** The token of the next reset mail to the user, past the notices that arrived before it. */
async function mailedResetToken(username: string): Promise<string> {
  const requested = await app.client.request(REQUEST_PASSWORD_RESET, { email: emailOf(username) });
  expect(requested.errors).toBeUndefined();
  for (;;) {
    const mail = await smtp.waitForMail(emailOf(username));
    if (mail.link && new URL(mail.link).pathname === '/reset-password') return smtp.tokenOf(mail);
  }
}

async function liveSessions(userId: string): Promise<number> {
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute('select count(*)::int as n from sessions where user_id = ? and revoked_at is null', [userId]);
  return (rows[0] as { n: number }).n;
}

test(
  'the link sets the password and answers MFA_REQUIRED; only a code opens the session',
  async () => {
    const user = await signupWithTwoFactor(app, 'reset_2fa');
    const userId = user.signup.user.id;
    const token = await mailedResetToken('reset_2fa');

    const reset = await app.client.request(RESET_PASSWORD, { token, password: NEW_PASSWORD });

    expect(reset.data).toBeNull();
    expect(reset.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MFA_REQUIRED' });
    const mfaToken = reset.errors![0].extensions!.mfaToken as string;
    expect(decodeJwt(mfaToken).payload).toMatchObject({ pur: 'login', sub: userId });
    // Every session ended with the reset, and none opened: the mailbox alone signs nobody in.
    expect(await liveSessions(userId)).toBe(0);
    // The new password stands, and the link is spent.
    expect(reasonOf(await app.client.login('reset_2fa', NEW_PASSWORD))).toBe('MFA_REQUIRED');
    const again = await app.client.request(RESET_PASSWORD, { token, password: 'another passphrase 43' });
    expect(reasonOf(again)).toBe('TOKEN_INVALID');

    const signedIn = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    expect(claimsOf(signedIn.accessToken)).toMatchObject({ sub: userId, aal: 2, amr: ['pwd', 'otp'] });
    expect(await liveSessions(userId)).toBe(1);
  },
  MAY_WAIT_A_STEP,
);

test('an account without two-factor is still signed in by the link', async () => {
  const signup = await app.client.signup('reset_plain');
  const token = await mailedResetToken('reset_plain');
  const reset = await app.client.request(RESET_PASSWORD, { token, password: NEW_PASSWORD });
  expect(reset.errors).toBeUndefined();
  expect(claimsOf(reset.data.resetPassword.accessToken)).toMatchObject({ sub: signup.user.id, aal: 1 });
});
