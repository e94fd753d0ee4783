// Enrolling an authenticator app, its recovery codes, and removing it, over real HTTP, PostgreSQL
// and SMTP. Codes come from otplib with the secret the API returned, never from Tessera's code.
import { PASSWORD, reasonOf, codeOf } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { totpCode, withinOneStep } from '../helpers/totp-codes.js';

const START = 'mutation { startTotpEnrollment { secret otpauthUri qrCodeSvg } }';
const CONFIRM = 'mutation Confirm($c: String!) { confirmTotpEnrollment(code: $c) }';
const ME_2FA = '{ me { id twoFactorEnabled } }';

let smtp: SmtpReceiver;
let app: TestServer;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({
    SMTP_URL: smtp.url,
    APP_URL: 'https://app.example.test',
    MFA_ISSUER_NAME: 'Tessera Test',
  });
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

test('enrolment: the app secret, then a code from it turns two-factor on and yields 10 recovery codes', async () => {
  const user = await app.client.signup('enroller', PASSWORD);
  await withinOneStep();
  const started = await app.client.request(START, {}, { token: user.accessToken });
  expect(started.errors).toBeUndefined();
  const { secret, otpauthUri, qrCodeSvg } = started.data.startTotpEnrollment;
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  expect(otpauthUri).toContain('Tessera%20Test');
  expect(qrCodeSvg).toMatch(/<svg/);

  const confirmed = await app.client.request(CONFIRM, { c: totpCode(secret) }, { token: user.accessToken });
  expect(confirmed.errors).toBeUndefined();
  expect(confirmed.data.confirmTotpEnrollment).toHaveLength(10);
  const me = await app.client.request(ME_2FA, {}, { token: user.accessToken });
  expect(me.data.me.twoFactorEnabled).toBe(true);
  expect(codeOf(await app.client.request(START, {}, { token: user.accessToken }))).toBe('FORBIDDEN');
  expect(reasonOf(await app.client.request(START, {}, { token: user.accessToken }))).toBe('MFA_ALREADY_ENABLED');
});
