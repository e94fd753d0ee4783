// A stranger's failures lock an account; the owner's client, which has logged in before, keeps
// its own count and is not locked out by them (OWASP: device cookies). Over real HTTP.
import { decodeJwt } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import { CHANGE_PASSWORD, meReason, PASSWORD, refreshReason } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const FAILURES = 3;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({
    ACCOUNT_LOCK_FAILURES: String(FAILURES),
    ACCOUNT_LOCK_WINDOW: '1m',
    ACCOUNT_LOCK_DURATION: '1m',
  });
});
afterAll(() => app.stop());

async function lockedOut(username: string): Promise<void> {
  for (let attempt = 0; attempt < FAILURES; attempt++) {
    expect(onlyError(await app.client.login(username, 'not the password')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
  }
  expect(onlyError(await app.client.login(username)).extensions?.code).toBe('RATE_LIMITED');
}

async function loggedIn(username: string, deviceToken?: string): Promise<AuthPayload> {
  const result = await app.client.login(username, undefined, deviceToken);
  expect(result.errors).toBeUndefined();
  return result.data!.login;
}

test('signup and login hand out a device token for the account and that session; refresh does not', async () => {
  const signup = await app.client.signup('owner0');
  const login = await loggedIn('owner0');
  for (const payload of [signup, login]) {
    expect(payload.deviceToken).toEqual(expect.any(String));
    const { header, payload: claims } = decodeJwt(payload.deviceToken!);
    expect(header.typ).toBe('device+jwt');
    expect(claims.sub).toBe(payload.user.id);
    expect(claims.sid).toBe(decodeJwt(payload.accessToken).payload.sid);
  }
  const refreshed = await app.client.request('mutation R($t: String) { refresh(refreshToken: $t) { deviceToken } }', {
    t: login.refreshToken,
  });
  expect(refreshed.data).toEqual({ refresh: { deviceToken: null } });
});

test("while a stranger's failures lock the account, the owner's client still logs in, and the lock stands for everyone else", async () => {
  const { deviceToken } = await loggedIn((await app.client.signup('owner1')).user.username);
  await lockedOut('owner1');

  const owner = await loggedIn('owner1', deviceToken!);
  expect(owner.deviceToken).toEqual(expect.any(String));
  // The owner's success cleared the device's count, not the account's lock.
  expect(onlyError(await app.client.login('owner1')).extensions?.code).toBe('RATE_LIMITED');
  expect(onlyError(await app.client.login('owner1', 'not the password')).extensions?.code).toBe('RATE_LIMITED');
});

test("the owner's device logging in again and again never locks the account for anyone else", async () => {
  let { deviceToken } = await app.client.signup('owner5');
  for (let login = 0; login < 2 * FAILURES; login++) deviceToken = (await loggedIn('owner5', deviceToken!)).deviceToken;
  await loggedIn('owner5');
});

test('a password change retires every device token issued under the old password', async () => {
  const owner = await app.client.signup('owner6');
  const changed = await app.client.request(
    CHANGE_PASSWORD,
    { c: PASSWORD, n: 'a brand new passphrase' },
    { token: owner.accessToken },
  );
  expect(changed.errors).toBeUndefined();
  for (let attempt = 0; attempt < FAILURES; attempt++) {
    expect(onlyError(await app.client.login('owner6', 'not the password')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
  }
  expect(
    onlyError(await app.client.login('owner6', 'a brand new passphrase', owner.deviceToken!)).extensions?.code,
  ).toBe('RATE_LIMITED');
});

test('a device token is neither an access token nor a refresh token', async () => {
  const { deviceToken } = await app.client.signup('owner4');
  expect(await meReason(app, deviceToken!)).toBe('TOKEN_INVALID');
  expect(await refreshReason(app, deviceToken!)).toBe('TOKEN_INVALID');
});

test('a device token of another account, or a token of another type, does not count as one', async () => {
  const other = await app.client.signup('other2');
  const owner = await app.client.signup('owner2');
  await lockedOut('owner2');
  for (const token of [
    other.deviceToken!,
    owner.accessToken,
    owner.refreshToken,
    `${owner.deviceToken!}x`,
    'not a token',
  ]) {
    expect(onlyError(await app.client.login('owner2', undefined, token)).extensions?.code).toBe('RATE_LIMITED');
  }
});

test("a device's own failures lock that device, not the account nor the owner's other devices", async () => {
  const first = (await app.client.signup('owner3')).deviceToken!;
  const second = (await loggedIn('owner3')).deviceToken!;
  for (let attempt = 0; attempt < FAILURES; attempt++) {
    expect(onlyError(await app.client.login('owner3', 'not the password', first)).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
  }
  expect(onlyError(await app.client.login('owner3', undefined, first)).extensions?.code).toBe('RATE_LIMITED');
  await loggedIn('owner3', second);
  await loggedIn('owner3');
});
