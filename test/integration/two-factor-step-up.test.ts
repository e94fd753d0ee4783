// Raising a session to aal 2 over real HTTP: reauthenticate of a two-factor account takes the
// password and a code (or answers MFA_REQUIRED with a challenge for the session), a field with
// @Authorized(AccessRule.MFA) refuses aal 1 with a step-up challenge or MFA_ENROLLMENT_REQUIRED,
// and ADMIN_REQUIRE_MFA puts ADMIN-only fields behind aal 2.
import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { AccessRule } from '../../src/graphql/auth-checker.js';
import type { Context } from '../../src/graphql/context.js';
import { viewerOf } from '../../src/graphql/resolvers/viewer.js';
import { createAdmin, decodeJwt, revokeSessionRow } from '../helpers/fixtures.js';
import { ADMIN_PASSWORD } from '../helpers/fixtures.js';
import { claimsOf, codeOf, PASSWORD, reasonOf, refreshOk, SET_USER_ROLES } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  AuthenticatorApp,
  completedLogin,
  completeMfaLogin,
  CONFIRM_ENROLLMENT,
  REAUTHENTICATE_2FA,
  signupWithTwoFactor,
  START_ENROLLMENT,
} from '../helpers/two-factor.js';

/** A test's own field that needs a second factor, as an application would mark one. */
@Resolver()
class StrongRoomResolver {
  @Authorized(AccessRule.MFA)
  @Query(() => String)
  strongRoom(@Ctx() context: Context): string {
    return `open for ${viewerOf(context).user.username}`;
  }
}

const STRONG_ROOM = '{ strongRoom }';
/** A test may wait for the authenticator's next time step (its codes are never reused). */
const MAY_WAIT_A_STEP = 75_000;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({}, undefined, { extraResolvers: [StrongRoomResolver] });
});
afterAll(() => app?.stop());

function reauthenticate(token: string, variables: { p: string; c?: string; r?: string }) {
  return app.client.request(REAUTHENTICATE_2FA, variables, { token });
}

describe('reauthenticate of a two-factor account', () => {
  test('with the password alone answers MFA_REQUIRED with a challenge for this session', async () => {
    const user = await signupWithTwoFactor(app, 'step_reauth');
    const sid = claimsOf(user.signup.accessToken).sid as string;

    const result = await reauthenticate(user.signup.accessToken, { p: PASSWORD });

    expect(result.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MFA_REQUIRED' });
    const mfaToken = result.errors![0].extensions!.mfaToken as string;
    expect(decodeJwt(mfaToken).payload).toMatchObject({ pur: 'session', sid, sub: user.signup.user.id });

    const raised = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    expect(claimsOf(raised.accessToken)).toMatchObject({ sid, aal: 2, amr: ['pwd', 'otp'], fresh: true });
    // The same session: no device token is handed out, and the old pair is retired.
    expect(raised.deviceToken).toBeNull();
    expect(reasonOf(await app.client.request('{ me { id } }', {}, { token: user.signup.accessToken }))).toBe(
      'TOKEN_REVOKED',
    );
  });

  test('with the password and a code gives fresh aal-2 tokens at once', async () => {
    const user = await signupWithTwoFactor(app, 'step_direct');
    const sid = claimsOf(user.signup.accessToken).sid as string;

    const result = await reauthenticate(user.signup.accessToken, { p: PASSWORD, c: await user.app.nextCode() });

    expect(result.errors).toBeUndefined();
    expect(claimsOf(result.data.reauthenticate.accessToken)).toMatchObject({
      sid,
      aal: 2,
      amr: ['pwd', 'otp'],
      fresh: true,
    });
    const refreshed = await refreshOk(app, result.data.reauthenticate.refreshToken);
    expect(claimsOf(refreshed.accessToken)).toMatchObject({ sid, aal: 2, amr: ['pwd', 'otp'], fresh: false });
  });

  test('with the password and a recovery code gives amr pwd, rec', async () => {
    const user = await signupWithTwoFactor(app, 'step_recovery');
    const result = await reauthenticate(user.signup.accessToken, { p: PASSWORD, r: user.recoveryCodes[3] });
    expect(claimsOf(result.data.reauthenticate.accessToken)).toMatchObject({ aal: 2, amr: ['pwd', 'rec'] });
  });

  test('a wrong password is INVALID_CREDENTIALS whatever the code; a wrong code is MFA_CODE_INVALID', async () => {
    const user = await signupWithTwoFactor(app, 'step_wrong');
    const wrongPassword = await reauthenticate(user.signup.accessToken, {
      p: 'not the password at all',
      c: user.app.wrongCode(),
    });
    const wrongCode = await reauthenticate(user.signup.accessToken, { p: PASSWORD, c: user.app.wrongCode() });
    const both = await reauthenticate(user.signup.accessToken, {
      p: PASSWORD,
      c: user.app.wrongCode(),
      r: user.recoveryCodes[0],
    });

    expect(reasonOf(wrongPassword)).toBe('INVALID_CREDENTIALS');
    expect(reasonOf(wrongCode)).toBe('MFA_CODE_INVALID');
    expect(codeOf(both)).toBe('BAD_USER_INPUT');
  });

  test('a session challenge is refused once its session has ended', async () => {
    const user = await signupWithTwoFactor(app, 'step_ended');
    const result = await reauthenticate(user.signup.accessToken, { p: PASSWORD });
    const mfaToken = result.errors![0].extensions!.mfaToken as string;
    await revokeSessionRow(app, claimsOf(user.signup.accessToken).sid as string);

    const completed = await completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() });

    expect(reasonOf(completed)).toBe('TOKEN_REVOKED');
  });
});

describe('reauthenticate of an account without two-factor', () => {
  test('works with the password alone, at aal 1, and refuses a code', async () => {
    const signup = await app.client.signup('step_plain');
    const plain = await reauthenticate(signup.accessToken, { p: PASSWORD });
    expect(claimsOf(plain.data.reauthenticate.accessToken)).toMatchObject({ aal: 1, amr: ['pwd'], fresh: true });

    const withCode = await reauthenticate(plain.data.reauthenticate.accessToken, { p: PASSWORD, c: '123456' });
    expect(withCode.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MFA_NOT_ENABLED' });
  });
});

describe('a field with AccessRule.MFA', () => {
  test('refuses aal 1 with MFA_REQUIRED and a step-up challenge, and answers once it is completed', async () => {
    const user = await signupWithTwoFactor(app, 'step_field');
    const sid = claimsOf(user.signup.accessToken).sid as string;

    const refused = await app.client.request(STRONG_ROOM, {}, { token: user.signup.accessToken });

    expect(refused.data).toBeNull();
    expect(refused.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MFA_REQUIRED' });
    const mfaToken = refused.errors![0].extensions!.mfaToken as string;
    expect(decodeJwt(mfaToken).payload).toMatchObject({ pur: 'session', sid });

    const raised = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    const allowed = await app.client.request(STRONG_ROOM, {}, { token: raised.accessToken });
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data.strongRoom).toBe('open for step_field');
  });

  test(
    'a step-up from a refreshed token raises it to aal 2 but never makes it fresh',
    async () => {
      const user = await signupWithTwoFactor(app, 'step_stale');
      const stale = await refreshOk(app, user.signup.refreshToken);
      expect(claimsOf(stale.accessToken)).toMatchObject({ fresh: false, aal: 1 });

      const refused = await app.client.request(STRONG_ROOM, {}, { token: stale.accessToken });
      const mfaToken = refused.errors![0].extensions!.mfaToken as string;
      expect(decodeJwt(mfaToken).payload).toMatchObject({ pur: 'step-up' });

      const raised = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
      expect(claimsOf(raised.accessToken)).toMatchObject({ fresh: false, aal: 2, amr: ['pwd', 'otp'] });
      const fresh = await app.client.request('mutation { deleteMyAccount }', {}, { token: raised.accessToken });
      expect(reasonOf(fresh)).toBe('FRESH_TOKEN_REQUIRED');
    },
    MAY_WAIT_A_STEP,
  );

  test(
    'turning two-factor off takes the session back to aal 1 from its next tokens',
    async () => {
      const user = await signupWithTwoFactor(app, 'step_off');
      const raised = await reauthenticate(user.signup.accessToken, { p: PASSWORD, c: await user.app.nextCode() });
      const tokens = raised.data.reauthenticate as { accessToken: string; refreshToken: string };
      expect(claimsOf(tokens.accessToken)).toMatchObject({ aal: 2 });
      const off = await app.client.request(
        'mutation Off($c: String) { disableTwoFactor(code: $c) }',
        { c: await user.app.nextCode() },
        { token: tokens.accessToken },
      );
      expect(off.errors).toBeUndefined();

      const next = await refreshOk(app, tokens.refreshToken);
      expect(claimsOf(next.accessToken)).toMatchObject({ aal: 1, amr: ['pwd'] });
      expect(reasonOf(await app.client.request(STRONG_ROOM, {}, { token: next.accessToken }))).toBe(
        'MFA_ENROLLMENT_REQUIRED',
      );
    },
    MAY_WAIT_A_STEP,
  );

  test('refuses a user without two-factor with MFA_ENROLLMENT_REQUIRED, and no challenge', async () => {
    const signup = await app.client.signup('step_unenrolled');
    const refused = await app.client.request(STRONG_ROOM, {}, { token: signup.accessToken });
    expect(refused.errors![0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'MFA_ENROLLMENT_REQUIRED',
    });
    expect(refused.errors![0].extensions!.mfaToken).toBeUndefined();
  });

  test('refuses a visitor without a token as any guarded field does', async () => {
    const refused = await app.client.request(STRONG_ROOM);
    expect(reasonOf(refused)).toBe('TOKEN_MISSING');
  });
});

describe('ADMIN_REQUIRE_MFA', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ ADMIN_REQUIRE_MFA: 'true' });
  });
  afterAll(() => strict?.stop());

  test(
    "an aal-1 admin's setUserRoles is refused; the admin enrols, steps up and is allowed",
    async () => {
      const admin = await createAdmin(strict, 'strict_admin');
      const target = await strict.client.signup('strict_target');
      const setRoles = (token: string) =>
        strict.client.request(SET_USER_ROLES, { id: target.user.id, roles: ['USER', 'ADMIN'] }, { token });

      expect(reasonOf(await setRoles(admin.accessToken))).toBe('MFA_ENROLLMENT_REQUIRED');
      // Enrolling is not an ADMIN mutation: an admin without two-factor can still do it.
      const started = await strict.client.request(START_ENROLLMENT, {}, { token: admin.accessToken });
      expect(started.errors).toBeUndefined();
      const authenticator = new AuthenticatorApp(started.data.startTotpEnrollment.secret as string);
      const confirmed = await strict.client.request(
        CONFIRM_ENROLLMENT,
        { c: await authenticator.nextCode() },
        { token: admin.accessToken },
      );
      expect(confirmed.errors).toBeUndefined();

      const refused = await setRoles(admin.accessToken);
      expect(reasonOf(refused)).toBe('MFA_REQUIRED');
      const raised = await completedLogin(strict, refused.errors![0].extensions!.mfaToken as string, {
        code: await authenticator.nextCode(),
      });
      const allowed = await setRoles(raised.accessToken);
      expect(allowed.errors).toBeUndefined();

      // A fresh login of the admin: the password alone is not enough any more.
      const login = await strict.client.login('strict_admin', ADMIN_PASSWORD);
      expect(reasonOf(login)).toBe('MFA_REQUIRED');
    },
    MAY_WAIT_A_STEP,
  );

  test("ADMIN-only queries need aal 2 too: they read other users' data", async () => {
    const admin = await createAdmin(strict, 'strict_reader');
    for (const query of ['{ authEvents(limit: 1) { id } }', '{ users(limit: 1) { id } }']) {
      const refused = await strict.client.request(query, {}, { token: admin.accessToken });
      expect(refused.data).toBeNull();
      expect(reasonOf(refused)).toBe('MFA_ENROLLMENT_REQUIRED');
    }
    // Fields any signed-in user may read are not affected.
    const me = await strict.client.request('{ me { id } }', {}, { token: admin.accessToken });
    expect(me.errors).toBeUndefined();
  });
});
