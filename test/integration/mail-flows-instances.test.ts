// Two instances on one database: a verification or a reset redeemed through one is honoured by
// the other on its next request, though it had the user and the sessions in cache.
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { emailVerified, REQUEST_PASSWORD_RESET, RESET_PASSWORD, VERIFY_EMAIL } from '../helpers/mail-flows.js';
import { meReason } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PROPAGATION_DEADLINE_MS = 1000;

let smtp: SmtpReceiver;
let database: TestDatabase;
let first: TestServer;
let second: TestServer;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  database = await createTestDatabase();
  const env = { SMTP_URL: smtp.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url'), AUTH_CACHE_TTL: '60s' };
  first = await startTestServer(env, database);
  second = await startTestServer(env, database);
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await database?.drop();
  await smtp?.stop();
});

const propagated = (probe: () => Promise<boolean>) => eventually(probe, PROPAGATION_DEADLINE_MS, 20);

test('verified through one instance, verified on the other', async () => {
  const alice = await first.client.signup('alice');
  expect(await emailVerified(second, alice.accessToken)).toBe(false);
  expect(await emailVerified(second, alice.accessToken)).toBe(false);
  await first.client.request('mutation { requestEmailVerification }', {}, { token: alice.accessToken });
  const token = smtp.tokenOf(await smtp.waitForMail('alice@example.com'));
  expect((await first.client.request(VERIFY_EMAIL, { token })).data).toEqual({ verifyEmail: true });
  expect(await propagated(() => emailVerified(second, alice.accessToken))).toBe(true);
});

test('reset through one instance: the old session is refused by the other', async () => {
  const bob = await first.client.signup('bob');
  expect(await meReason(second, bob.accessToken)).toBeUndefined();
  expect(await meReason(second, bob.accessToken)).toBeUndefined();
  await first.client.request(REQUEST_PASSWORD_RESET, { email: 'bob@example.com' });
  const token = smtp.tokenOf(await smtp.waitForMail('bob@example.com'));
  const reset = await first.client.request(RESET_PASSWORD, { token, password: 'a brand new passphrase' });
  expect(reset.errors).toBeUndefined();
  expect(await propagated(async () => (await meReason(second, bob.accessToken)) === 'TOKEN_REVOKED')).toBe(true);
  expect(await meReason(second, reset.data.resetPassword.accessToken)).toBeUndefined();
});
