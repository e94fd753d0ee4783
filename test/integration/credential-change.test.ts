// A credential change ends the grace window, through real HTTP against real PostgreSQL: after
// changePassword or reauthenticate the refresh token from before it cannot be exchanged, even
// inside JWT_REFRESH_REUSE_INTERVAL, and the session's older access tokens are refused, while the
// pair the change issued keeps working. An ADMIN's setUserRoles/setUserActive ends the grace
// window of the user's refresh tokens too.
import type { AuthPayload } from '../helpers/graphql-client.js';
import {
  CHANGE_PASSWORD,
  claimsOf,
  createAdmin,
  meReason,
  PASSWORD,
  REAUTHENTICATE,
  refreshOk,
  refreshReason,
  SET_USER_ACTIVE,
  SET_USER_ROLES,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  // A grace window far longer than any test: what is refused here is refused inside it.
  app = await startTestServer({ JWT_REFRESH_REUSE_INTERVAL: '300' });
  admin = await createAdmin(app, 'keeper');
});
afterAll(() => app?.stop());

async function changePassword(token: string): Promise<AuthPayload> {
  const result = await app.client.request(CHANGE_PASSWORD, { c: PASSWORD, n: 'a brand new passphrase' }, { token });
  expect(result.errors).toBeUndefined();
  return result.data.changePassword as AuthPayload;
}

async function reauthenticate(token: string): Promise<AuthPayload> {
  const result = await app.client.request(REAUTHENTICATE, { p: PASSWORD }, { token });
  expect(result.errors).toBeUndefined();
  return result.data.reauthenticate as AuthPayload;
}

describe.each([
  ['changePassword', 'changer', changePassword],
  ['reauthenticate', 'reauther', reauthenticate],
])('after %s', (_operation, name, change) => {
  test('the refresh token from before it is refused inside the grace window, and the new one works', async () => {
    const signup = await app.client.signup(`${name}_refresh`);
    const changed = await change(signup.accessToken);

    expect(await refreshReason(app, signup.refreshToken)).toBe('TOKEN_REVOKED');
    // Not reuse: the session lives on, and the pair the change issued still works.
    expect(await meReason(app, changed.accessToken)).toBeUndefined();
    const next = await refreshOk(app, changed.refreshToken);
    expect(await meReason(app, next.accessToken)).toBeUndefined();
    expect(claimsOf(next.accessToken).sid).toBe(claimsOf(signup.accessToken).sid);
  });

  test('the grace window of a refresh just before it ends too', async () => {
    const signup = await app.client.signup(`${name}_rotated`);
    const rotated = await refreshOk(app, signup.refreshToken);
    const changed = await change(rotated.accessToken);

    expect(await refreshReason(app, rotated.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await refreshReason(app, signup.refreshToken)).toBe('REFRESH_TOKEN_REUSED');
    // Presenting a token older than the retired one is reuse, which ends the session.
    expect(await meReason(app, changed.accessToken)).toBe('TOKEN_REVOKED');
  });

  test("the session's access tokens from before it are refused and the new one works", async () => {
    const signup = await app.client.signup(`${name}_access`);
    const rotated = await refreshOk(app, signup.refreshToken);
    // Both in the principal cache before the change.
    expect(await meReason(app, signup.accessToken)).toBeUndefined();
    expect(await meReason(app, rotated.accessToken)).toBeUndefined();

    const changed = await change(rotated.accessToken);

    expect(await meReason(app, signup.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, rotated.accessToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, changed.accessToken)).toBeUndefined();
    expect(claimsOf(changed.accessToken).gen).toBeGreaterThan(claimsOf(rotated.accessToken).gen ?? 0);
    // A refresh carries the session's generation on.
    const next = await refreshOk(app, changed.refreshToken);
    expect(claimsOf(next.accessToken).gen).toBe(claimsOf(changed.accessToken).gen);
    expect(await meReason(app, next.accessToken)).toBeUndefined();
  });
});

describe("an ADMIN's change", () => {
  test('setUserRoles ends the grace window of the user’s refresh tokens and leaves the sessions alive', async () => {
    const user = await app.client.signup('promoted');
    const rotated = await refreshOk(app, user.refreshToken);
    const promoted = await app.client.request(
      SET_USER_ROLES,
      { id: user.user.id, roles: ['USER', 'ADMIN'] },
      { token: admin.accessToken },
    );
    expect(promoted.errors).toBeUndefined();

    expect(await refreshReason(app, user.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, rotated.accessToken)).toBeUndefined();
    const next = await refreshOk(app, rotated.refreshToken);
    expect(next.user.roles.sort()).toEqual(['ADMIN', 'USER']);
  });

  test('setUserActive(true) ends the grace window of the user’s refresh tokens', async () => {
    const user = await app.client.signup('reenabled');
    const rotated = await refreshOk(app, user.refreshToken);
    const enabled = await app.client.request(
      SET_USER_ACTIVE,
      { id: user.user.id, active: true },
      { token: admin.accessToken },
    );
    expect(enabled.errors).toBeUndefined();

    expect(await refreshReason(app, user.refreshToken)).toBe('TOKEN_REVOKED');
    expect(await meReason(app, rotated.accessToken)).toBeUndefined();
    expect(await refreshReason(app, rotated.refreshToken)).toBeUndefined();
  });
});
