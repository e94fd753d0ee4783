// MAIL_FLOWS=off: the flows that need a mail are refused (FORBIDDEN, MAIL_DISABLED), and nothing
// is written.
import {
  databaseState,
  refusal,
  REQUEST_EMAIL_VERIFICATION,
  REQUEST_PASSWORD_RESET,
  RESET_PASSWORD,
  VERIFY_EMAIL,
} from '../helpers/mail-flows.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ MAIL_FLOWS: 'off' });
});
afterAll(() => app?.stop());

const MAIL_DISABLED = { code: 'FORBIDDEN', reason: 'MAIL_DISABLED' };

test('every mail flow answers FORBIDDEN, MAIL_DISABLED, and writes nothing', async () => {
  const alice = await app.client.signup('alice');
  const before = await databaseState(app);
  const token = 'a'.repeat(43);
  expect(refusal(await app.client.request(REQUEST_EMAIL_VERIFICATION, {}, { token: alice.accessToken }))).toEqual(
    MAIL_DISABLED,
  );
  expect(refusal(await app.client.request(VERIFY_EMAIL, { token }))).toEqual(MAIL_DISABLED);
  expect(refusal(await app.client.request(REQUEST_PASSWORD_RESET, { email: 'alice@example.com' }))).toEqual(
    MAIL_DISABLED,
  );
  expect(refusal(await app.client.request(RESET_PASSWORD, { token, password: 'a fine new passphrase' }))).toEqual(
    MAIL_DISABLED,
  );
  expect(await databaseState(app)).toEqual(before);
});

test('a password change still works, and queues no notice', async () => {
  const bob = await app.client.signup('bob');
  const changed = await app.client.request(
    'mutation { changePassword(currentPassword: "correct horse battery", newPassword: "another passphrase 9") { accessToken } }',
    {},
    { token: bob.accessToken },
  );
  expect(changed.errors).toBeUndefined();
  const mails = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ count: string }[]>('select count(*) from mail_outbox');
  expect(Number(mails[0].count)).toBe(0);
});
