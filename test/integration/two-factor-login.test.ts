// Signing in with a second factor, over real HTTP against real PostgreSQL: login answers
// MFA_REQUIRED with an `mfa+jwt` challenge and opens nothing; completeMfaLogin with an
// authenticator code (from otplib) or a recovery code opens the session at aal 2. The challenge is
// good once, for a few codes, for its own account, under the password it was issued for, and for
// nothing but completeMfaLogin.
import { createHmac } from 'node:crypto';
import { AuthEvent, Session, User } from '../../src/db/entities/index.js';
import { cookieValue, post, SPA_ORIGIN } from '../helpers/cookie-requests.js';
import { decodeJwt, deactivateUser } from '../helpers/fixtures.js';
import { encodeSegment } from '../helpers/hostile-token-craft.js';
import {
  CHANGE_PASSWORD,
  claimsOf,
  codeOf,
  meReason,
  PASSWORD,
  reasonOf,
  refreshOk,
  sleep,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  COMPLETE_MFA_LOGIN,
  completedLogin,
  completeMfaLogin,
  loginChallenge,
  signupWithTwoFactor,
} from '../helpers/two-factor.js';

const ATTEMPTS = 3;
/** A test may wait for the authenticator's next time step (its codes are never reused). */
const MAY_WAIT_A_STEP = 75_000;
let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ MFA_CHALLENGE_ATTEMPTS: String(ATTEMPTS) });
});
afterAll(() => app?.stop());

async function sessionsOf(userId: string): Promise<Session[]> {
  return app.orm.em.fork().find(Session, { user: userId });
}

async function eventsOf(userId: string): Promise<string[]> {
  const events = await app.orm.em.fork().find(AuthEvent, { userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return events.map((event) => event.type);
}

describe('login of a two-factor account', () => {
  test('answers MFA_REQUIRED with a challenge and opens no session', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_begin');
    const before = await sessionsOf(user.signup.user.id);

    const result = await app.client.login('mfa_begin');

    expect(result.data?.login ?? null).toBeNull();
    const error = result.errors![0];
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MFA_REQUIRED' });
    expect(error.extensions!.mfaExpiresIn).toBeGreaterThan(app.config.mfa.challengeTtlSeconds - 5);
    expect(error.extensions!.mfaExpiresIn).toBeLessThanOrEqual(app.config.mfa.challengeTtlSeconds);
    const challenge = decodeJwt(error.extensions!.mfaToken as string);
    expect(challenge.header.typ).toBe('mfa+jwt');
    expect(challenge.payload).toMatchObject({ sub: user.signup.user.id, pur: 'login', trn: 'BODY' });
    expect(challenge.payload.cred).toMatch(/^[0-9a-f]{32}$/);
    expect(await sessionsOf(user.signup.user.id)).toHaveLength(before.length);
    expect(await app.orm.em.fork().count(Session, { id: challenge.payload.sid as string })).toBe(0);
    expect(await eventsOf(user.signup.user.id)).toContain('MFA_CHALLENGE_ISSUED');
  });

  test('a wrong password is still INVALID_CREDENTIALS, with no challenge', async () => {
    await signupWithTwoFactor(app, 'mfa_wrongpw');
    const result = await app.client.login('mfa_wrongpw', 'not the password at all');
    expect(reasonOf(result)).toBe('INVALID_CREDENTIALS');
    expect(result.errors![0].extensions!.mfaToken).toBeUndefined();
  });

  test('upgrades a hash made with other argon2 parameters, and the challenge completes under the new one', async () => {
    // An older deployment (m=2048) on this file's database, with the same two-factor key.
    const older = await startTestServer(
      { ARGON2_MEMORY_KIB: '2048', MFA_ENCRYPTION_KEY: app.config.mfa.encryptionKey.toString('base64url') },
      app.database,
    );
    let user;
    try {
      user = await signupWithTwoFactor(older, 'mfa_rehash');
    } finally {
      await older.stop();
    }
    const storedMemory = async () =>
      /m=(\d+)/.exec((await app.orm.em.fork().findOneOrFail(User, { usernameKey: 'mfa_rehash' })).passwordHash)?.[1];
    expect(await storedMemory()).toBe('2048');

    const mfaToken = await loginChallenge(app, 'mfa_rehash');

    expect(await storedMemory()).toBe('1024');
    const payload = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    expect(claimsOf(payload.accessToken).aal).toBe(2);
  });

  test('an account without two-factor still logs in with the password alone, at aal 1', async () => {
    await app.client.signup('mfa_none');
    const result = await app.client.login('mfa_none');
    expect(result.errors).toBeUndefined();
    expect(claimsOf(result.data!.login.accessToken)).toMatchObject({ aal: 1, amr: ['pwd'], fresh: true });
  });
});

describe('completeMfaLogin', () => {
  test('with an authenticator code opens the named session at aal 2, fresh, with a device token', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_code');
    const mfaToken = await loginChallenge(app, 'mfa_code');

    const payload = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });

    const claims = claimsOf(payload.accessToken);
    expect(claims).toMatchObject({ sub: user.signup.user.id, aal: 2, amr: ['pwd', 'otp'], fresh: true });
    expect(claims.sid).toBe(decodeJwt(mfaToken).payload.sid);
    expect(payload.transport).toBe('BODY');
    expect(payload.refreshToken).toEqual(expect.any(String));
    expect(payload.deviceToken).toEqual(expect.any(String));
    expect(payload.user).toMatchObject({ username: 'mfa_code', twoFactorEnabled: true });
    expect(await meReason(app, payload.accessToken)).toBeUndefined();
    const row = await app.orm.em.fork().findOneOrFail(Session, { id: claims.sid as string });
    expect(row).toMatchObject({ aal: 2, amr: ['pwd', 'otp'], transport: 'BODY' });
    const events = await eventsOf(user.signup.user.id);
    expect(events).toEqual(expect.arrayContaining(['LOGIN_SUCCEEDED', 'MFA_CHALLENGE_COMPLETED']));
  });

  test('with a recovery code opens it with amr pwd, rec', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_rec');
    const mfaToken = await loginChallenge(app, 'mfa_rec');

    const payload = await completedLogin(app, mfaToken, { recoveryCode: user.recoveryCodes[0] });

    expect(claimsOf(payload.accessToken)).toMatchObject({ aal: 2, amr: ['pwd', 'rec'], fresh: true });
  });

  test('a refresh keeps the session at aal 2', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_refresh');
    const payload = await completedLogin(app, await loginChallenge(app, 'mfa_refresh'), {
      code: await user.app.nextCode(),
    });

    const refreshed = await refreshOk(app, payload.refreshToken);
    const again = await refreshOk(app, refreshed.refreshToken);

    for (const tokens of [refreshed, again]) {
      expect(claimsOf(tokens.accessToken)).toMatchObject({ aal: 2, amr: ['pwd', 'otp'], fresh: false });
      expect(claimsOf(tokens.accessToken).sid).toBe(claimsOf(payload.accessToken).sid);
    }
  });

  test('a wrong code is MFA_CODE_INVALID, and the right one still works within the attempts', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_wrong');
    const mfaToken = await loginChallenge(app, 'mfa_wrong');

    const wrong = await completeMfaLogin(app, mfaToken, { code: user.app.wrongCode() });
    expect(wrong.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MFA_CODE_INVALID' });
    expect(wrong.data).toBeNull();
    const wrongRecovery = await completeMfaLogin(app, mfaToken, { recoveryCode: 'aaaaa-bbbbb' });
    expect(reasonOf(wrongRecovery)).toBe('MFA_CODE_INVALID');
    expect(await sessionsOf(user.signup.user.id)).toHaveLength(1);

    const payload = await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    expect(claimsOf(payload.accessToken).aal).toBe(2);
  });

  test(
    `after ${ATTEMPTS} wrong codes the challenge is spent: even the right code is refused`,
    async () => {
      const user = await signupWithTwoFactor(app, 'mfa_spent');
      const mfaToken = await loginChallenge(app, 'mfa_spent');
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        expect(reasonOf(await completeMfaLogin(app, mfaToken, { code: user.app.wrongCode() }))).toBe(
          'MFA_CODE_INVALID',
        );
      }

      const right = await completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() });

      expect(right.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
      expect(await sessionsOf(user.signup.user.id)).toHaveLength(1);
      // A new login brings a new challenge, with attempts of its own.
      const payload = await completedLogin(app, await loginChallenge(app, 'mfa_spent'), {
        code: await user.app.nextCode(),
      });
      expect(claimsOf(payload.accessToken).aal).toBe(2);
    },
    MAY_WAIT_A_STEP,
  );

  test(
    'a completed challenge is refused when presented again',
    async () => {
      const user = await signupWithTwoFactor(app, 'mfa_reuse');
      const mfaToken = await loginChallenge(app, 'mfa_reuse');
      await completedLogin(app, mfaToken, { code: await user.app.nextCode() });

      const again = await completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() });
      const withRecovery = await completeMfaLogin(app, mfaToken, { recoveryCode: user.recoveryCodes[1] });

      expect(reasonOf(again)).toBe('TOKEN_INVALID');
      expect(reasonOf(withRecovery)).toBe('TOKEN_INVALID');
      expect(await sessionsOf(user.signup.user.id)).toHaveLength(2);
    },
    MAY_WAIT_A_STEP,
  );

  test("user A's challenge with user B's code is MFA_CODE_INVALID", async () => {
    await signupWithTwoFactor(app, 'mfa_alice');
    const bob = await signupWithTwoFactor(app, 'mfa_bob');
    const alicesChallenge = await loginChallenge(app, 'mfa_alice');

    const withBobsCode = await completeMfaLogin(app, alicesChallenge, { code: await bob.app.nextCode() });
    const withBobsRecovery = await completeMfaLogin(app, alicesChallenge, { recoveryCode: bob.recoveryCodes[0] });

    expect(reasonOf(withBobsCode)).toBe('MFA_CODE_INVALID');
    expect(reasonOf(withBobsRecovery)).toBe('MFA_CODE_INVALID');
  });

  test('a password changed while the challenge waits voids it', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_pwchange');
    const mfaToken = await loginChallenge(app, 'mfa_pwchange');
    const changed = await app.client.request(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: 'another long passphrase' },
      { token: user.signup.accessToken },
    );
    expect(changed.errors).toBeUndefined();

    const result = await completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() });

    expect(reasonOf(result)).toBe('TOKEN_INVALID');
    expect(await sessionsOf(user.signup.user.id)).toHaveLength(1);
  });

  test('two completions racing with two valid proofs open one session', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_race');
    const mfaToken = await loginChallenge(app, 'mfa_race');

    const results = await Promise.all([
      completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() }),
      completeMfaLogin(app, mfaToken, { recoveryCode: user.recoveryCodes[2] }),
    ]);

    expect(results.filter((result) => result.errors === undefined)).toHaveLength(1);
    expect(results.map(reasonOf).filter(Boolean)).toEqual(['TOKEN_INVALID']);
    expect(await sessionsOf(user.signup.user.id)).toHaveLength(2);
  });

  test('two-factor turned off while the challenge waits voids it', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_turnedoff');
    const mfaToken = await loginChallenge(app, 'mfa_turnedoff');
    const disabled = await app.client.request(
      'mutation Off($r: String) { disableTwoFactor(recoveryCode: $r) }',
      { r: user.recoveryCodes[0] },
      { token: user.signup.accessToken },
    );
    expect(disabled.errors).toBeUndefined();

    const result = await completeMfaLogin(app, mfaToken, { recoveryCode: user.recoveryCodes[1] });

    expect(reasonOf(result)).toBe('TOKEN_INVALID');
  });

  test('an account disabled while the challenge waits is refused', async () => {
    const user = await signupWithTwoFactor(app, 'mfa_disabled');
    const mfaToken = await loginChallenge(app, 'mfa_disabled');
    await deactivateUser(app, user.signup.user.id);

    const result = await completeMfaLogin(app, mfaToken, { code: await user.app.nextCode() });

    expect(reasonOf(result)).toBe('ACCOUNT_DISABLED');
  });

  test(
    'takes exactly one of code and recoveryCode',
    async () => {
      const user = await signupWithTwoFactor(app, 'mfa_input');
      const mfaToken = await loginChallenge(app, 'mfa_input');

      const neither = await completeMfaLogin(app, mfaToken, {});
      const both = await completeMfaLogin(app, mfaToken, {
        code: await user.app.nextCode(),
        recoveryCode: user.recoveryCodes[0],
      });

      expect(codeOf(neither)).toBe('BAD_USER_INPUT');
      expect(codeOf(both)).toBe('BAD_USER_INPUT');
      // Refused before anything was checked: the challenge is whole.
      await completedLogin(app, mfaToken, { code: await user.app.nextCode() });
    },
    MAY_WAIT_A_STEP,
  );

  test('may not share an operation with another credential mutation', async () => {
    const result = await app.client.request(
      `mutation { a: completeMfaLogin(mfaToken: "x", code: "123456") { accessToken }
        b: completeMfaLogin(mfaToken: "y", code: "123456") { accessToken } }`,
    );
    expect(result.errors![0].extensions?.reason).toBe('TOO_MANY_CREDENTIAL_MUTATIONS');
  });
});

describe('the challenge is good for completeMfaLogin only', () => {
  let challenge: string;
  let tokens: { access: string; refresh: string; device: string };
  let codeFor: () => Promise<string>;
  beforeAll(async () => {
    const user = await signupWithTwoFactor(app, 'mfa_types');
    challenge = await loginChallenge(app, 'mfa_types');
    codeFor = () => user.app.nextCode();
    const login = await app.client.login('mfa_types');
    const completed = await completedLogin(app, login.errors![0].extensions!.mfaToken as string, {
      code: await codeFor(),
    });
    tokens = { access: completed.accessToken, refresh: completed.refreshToken, device: completed.deviceToken! };
  });

  test('sent as an access token it is TOKEN_INVALID', async () => {
    expect(await meReason(app, challenge)).toBe('TOKEN_INVALID');
  });

  test.each([
    ['an access token', () => tokens.access],
    ['a refresh token', () => tokens.refresh],
    ['a device token', () => tokens.device],
    ['garbage', () => 'not.a.token'],
    ['an empty string', () => ''],
    [
      'a challenge with its claims changed',
      () => {
        const [header, , signature] = challenge.split('.');
        const claims = { ...decodeJwt(challenge).payload, pur: 'session', trn: undefined };
        return `${header}.${encodeSegment(claims, 'base64url')}.${signature}`;
      },
    ],
    [
      'an mfa+jwt signed with a key of the attacker',
      () => {
        const input = challenge.slice(0, challenge.lastIndexOf('.'));
        const forged = createHmac('sha256', 'an attacker key of thirty-two bytes!').update(input).digest('base64url');
        return `${input}.${forged}`;
      },
    ],
  ])('%s sent as mfaToken is TOKEN_INVALID', async (_name, token) => {
    // Refused before any code is looked at: a code of no step spends nothing.
    const result = await completeMfaLogin(app, token(), { code: '000000' });
    expect(result.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
    expect(JSON.stringify(result.errors)).not.toMatch(/stack|select|insert/i);
  });

  test(
    'the untouched challenge still completes after all that',
    async () => {
      const payload = await completedLogin(app, challenge, { code: await codeFor() });
      expect(claimsOf(payload.accessToken).aal).toBe(2);
    },
    MAY_WAIT_A_STEP,
  );
});

describe('COOKIE transport', () => {
  test(
    'is kept through the challenge: completion sets the refresh cookie',
    async () => {
      const user = await signupWithTwoFactor(app, 'mfa_cookie');
      const login = await post(
        app.url,
        'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }',
        { input: { usernameOrEmail: 'mfa_cookie', password: PASSWORD, transport: 'COOKIE' } },
        { origin: SPA_ORIGIN },
      );
      expect(login.errors![0].extensions?.reason).toBe('MFA_REQUIRED');
      expect(login.setCookies.size).toBe(0);
      const mfaToken = login.errors![0].extensions!.mfaToken as string;
      expect(decodeJwt(mfaToken).payload.trn).toBe('COOKIE');

      const elsewhere = await post(
        app.url,
        COMPLETE_MFA_LOGIN,
        { t: mfaToken, c: await user.app.nextCode() },
        {
          origin: 'https://evil.example',
        },
      );
      expect(elsewhere.errors![0].extensions?.reason).toBe('ORIGIN_NOT_ALLOWED');

      const completed = await post(
        app.url,
        COMPLETE_MFA_LOGIN,
        { t: mfaToken, c: await user.app.nextCode() },
        {
          origin: SPA_ORIGIN,
        },
      );
      expect(completed.errors).toBeUndefined();
      expect(completed.data.completeMfaLogin).toMatchObject({ transport: 'COOKIE', refreshToken: null });
      expect(cookieValue(completed, 'refresh_token_cookie')).not.toBe('');
      expect(claimsOf(completed.data.completeMfaLogin.accessToken)).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
    },
    MAY_WAIT_A_STEP,
  );
});

describe('an expired challenge', () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ MFA_CHALLENGE_EXPIRES: '10s' });
  });
  afterAll(() => short?.stop());

  test('is TOKEN_EXPIRED', async () => {
    const user = await signupWithTwoFactor(short, 'mfa_expired');
    const mfaToken = await loginChallenge(short, 'mfa_expired');
    expect(decodeJwt(mfaToken).payload.exp).toBe((decodeJwt(mfaToken).payload.iat as number) + 10);
    await sleep(11_000);

    const result = await completeMfaLogin(short, mfaToken, { code: await user.app.nextCode() });

    expect(result.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
  }, 30_000);
});
