// Proving an address, over real HTTP and real SMTP: the signed-in user asks for a link, the test
// takes it from the mail that arrives and redeems its token without signing in, as a user would.
import { randomBytes } from 'node:crypto';
import { User } from '../../src/db/entities/index.js';
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import {
  databaseState,
  emailOf,
  emailVerified,
  refusal,
  REQUEST_EMAIL_VERIFICATION,
  VERIFY_EMAIL,
} from '../helpers/mail-flows.js';
import { authEvents, SET_USER_ACTIVE, sleep } from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MAIL_REQUESTS = 3;
const TOKEN_INVALID = { code: 'BAD_USER_INPUT', reason: 'TOKEN_INVALID', field: 'token' };

let smtp: SmtpReceiver;
let app: TestServer;
let adminToken: string;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({
    SMTP_URL: smtp.url,
    RATE_LIMIT_MAIL_REQUESTS: String(MAIL_REQUESTS),
  });
  adminToken = (await createAdmin(app)).accessToken;
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

async function requestLink(user: AuthPayload, server = app): Promise<void> {
  const result = await server.client.request(REQUEST_EMAIL_VERIFICATION, {}, { token: user.accessToken });
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ requestEmailVerification: true });
}

async function mailedVerificationToken(user: AuthPayload, server = app): Promise<string> {
  await requestLink(user, server);
  const mail = await smtp.waitForMail(emailOf(user.user.username));
  expect(new URL(mail.link!).pathname).toBe('/verify-email');
  return smtp.tokenOf(mail);
}

function verify(token: string, accessToken?: string, server = app) {
  return server.client.request(VERIFY_EMAIL, { token }, accessToken === undefined ? {} : { token: accessToken });
}

async function refusedWithoutChange(token: string, server = app) {
  const before = await databaseState(server);
  const result = await verify(token, undefined, server);
  expect(result.data ?? null).toBeNull();
  expect(await databaseState(server)).toEqual(before);
  return refusal(result);
}

test('ask for a link, open it signed out, and me says verified on the next request', async () => {
  const alice = await app.client.signup('alice');
  expect(await emailVerified(app, alice.accessToken)).toBe(false);
  await requestLink(alice);
  const mail = await smtp.waitForMail(emailOf('alice'));
  expect(mail.text).toContain(mail.link);
  expect(mail.link!.startsWith(`${app.config.mail.appUrl}/verify-email?token=`)).toBe(true);

  // The access token was cached as unverified; the same token reads verified right after.
  expect(await verify(smtp.tokenOf(mail))).toMatchObject({ data: { verifyEmail: true } });
  expect(await emailVerified(app, alice.accessToken)).toBe(true);

  const types = (await authEvents(app, adminToken, { userId: alice.user.id })).map((event) => event.type);
  expect(types).toEqual(expect.arrayContaining(['EMAIL_VERIFICATION_REQUESTED', 'EMAIL_VERIFIED']));
});

test('a verified address is sent nothing', async () => {
  const bob = await app.client.signup('bob');
  await verify(await mailedVerificationToken(bob));
  const before = await databaseState(app);
  await requestLink(bob);
  await smtp.noMailTo(emailOf('bob'), 2500);
  expect(await databaseState(app)).toEqual(before);
});

test('a token works once', async () => {
  const carol = await app.client.signup('carol');
  const token = await mailedVerificationToken(carol);
  expect((await verify(token)).data).toEqual({ verifyEmail: true });
  expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
});

// A server of its own: the file's other tests take longer than a link this short-lived lasts.
test('a token expires (EMAIL_VERIFICATION_TOKEN_EXPIRES=2s)', async () => {
  const shortLived = await startTestServer(
    { SMTP_URL: smtp.url, EMAIL_VERIFICATION_TOKEN_EXPIRES: '2s', RATE_LIMIT_MAIL_REQUESTS: String(MAIL_REQUESTS) },
    app.database,
  );
  try {
    const dave = await shortLived.client.signup('dave');
    const token = await mailedVerificationToken(dave, shortLived);
    await sleep(2100);
    expect(await refusedWithoutChange(token, shortLived)).toEqual({ ...TOKEN_INVALID, reason: 'TOKEN_EXPIRED' });
    expect(await emailVerified(shortLived, dave.accessToken)).toBe(false);
  } finally {
    await shortLived.stop();
  }
});

test('a newer link supersedes the older', async () => {
  const erin = await app.client.signup('erin');
  const first = await mailedVerificationToken(erin);
  const second = await mailedVerificationToken(erin);
  expect(await refusedWithoutChange(first)).toEqual(TOKEN_INVALID);
  expect((await verify(second)).data).toEqual({ verifyEmail: true });
});

test('a link proves only the address it was sent to: after the address changed it is refused', async () => {
  const frank = await app.client.signup('frank');
  const token = await mailedVerificationToken(frank);
  await app.orm.em
    .fork()
    .nativeUpdate(User, { id: frank.user.id }, { email: 'frank.new@example.com', emailKey: 'frank.new@example.com' });
  app.server.services.principals.invalidateUser(frank.user.id);
  expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
  expect(await emailVerified(app, frank.accessToken)).toBe(false);
});

test("another user's token verifies that user, not the one signed in", async () => {
  const grace = await app.client.signup('grace');
  const heidi = await app.client.signup('heidi');
  const heidisToken = await mailedVerificationToken(heidi);
  expect((await verify(heidisToken, grace.accessToken)).data).toEqual({ verifyEmail: true });
  expect(await emailVerified(app, grace.accessToken)).toBe(false);
  expect(await emailVerified(app, heidi.accessToken)).toBe(true);
});

test('hostile tokens are refused alike and change nothing', async () => {
  const ivan = await app.client.signup('ivan');
  const genuine = await mailedVerificationToken(ivan);
  for (const token of [
    '',
    'x'.repeat(10_000),
    `${genuine}\u0000`,
    '\u0000',
    genuine.slice(1),
    genuine.toLowerCase(),
    randomBytes(32).toString('base64url'),
    "'; delete from users; --",
  ]) {
    expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
  }
  expect((await verify(genuine)).data).toEqual({ verifyEmail: true });
});

test("a disabled account's link is refused, and verifies nothing", async () => {
  const mallory = await app.client.signup('mallory');
  const token = await mailedVerificationToken(mallory);
  const disabled = await app.client.request(
    SET_USER_ACTIVE,
    { id: mallory.user.id, active: false },
    { token: adminToken },
  );
  expect(disabled.errors).toBeUndefined();
  expect(await refusedWithoutChange(token)).toEqual(TOKEN_INVALID);
});

test('redeeming counts on the client IP like logins: past the limit even a good link is RATE_LIMITED', async () => {
  const limited = await startTestServer({ SMTP_URL: smtp.url, RATE_LIMIT_IP_ATTEMPTS: '2' });
  try {
    const nina = await limited.client.signup('nina');
    await limited.client.request(REQUEST_EMAIL_VERIFICATION, {}, { token: nina.accessToken });
    const token = smtp.tokenOf(await smtp.waitForMail(emailOf('nina')));
    expect(refusal(await limited.client.request(VERIFY_EMAIL, { token: 'guess' }))).toEqual(TOKEN_INVALID);
    const third = await limited.client.request(VERIFY_EMAIL, { token });
    expect(onlyError(third).extensions?.code).toBe('RATE_LIMITED');
  } finally {
    await limited.stop();
  }
});

test('asking is for the signed-in only, and throttled per account', async () => {
  expect(refusal(await app.client.request(REQUEST_EMAIL_VERIFICATION))).toMatchObject({
    code: 'UNAUTHENTICATED',
    reason: 'TOKEN_MISSING',
  });
  const judy = await app.client.signup('judy');
  for (let request = 0; request < MAIL_REQUESTS; request++) await requestLink(judy);
  const limited = await app.client.request(REQUEST_EMAIL_VERIFICATION, {}, { token: judy.accessToken });
  expect(onlyError(limited).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
  for (let mail = 0; mail < MAIL_REQUESTS; mail++) await smtp.waitForMail(emailOf('judy'));
  await smtp.noMailTo(emailOf('judy'), 1500);
});

test('emailVerified is for the user and ADMINs only, like email', async () => {
  const kim = await app.client.signup('kim');
  const leo = await app.client.signup('leo');
  const query = 'query User($id: ID!) { user(id: $id) { id email emailVerified } }';
  const asLeo = await app.client.request(query, { id: kim.user.id }, { token: leo.accessToken });
  expect(asLeo.data?.user).toMatchObject({ email: null, emailVerified: null });
  expect(asLeo.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  const asAdmin = await app.client.request(query, { id: kim.user.id }, { token: adminToken });
  expect(asAdmin.data?.user).toMatchObject({ email: emailOf('kim'), emailVerified: false });
});
