// Enrolling an authenticator app, its recovery codes, and removing it, over real HTTP, PostgreSQL
// and SMTP. Codes come from otplib with the secret the API returned, never from Tessera's code.
import { randomBytes } from 'node:crypto';
import type { AuthPayload } from '../helpers/graphql-client.js';
import {
  AUTH_EVENTS,
  codeOf,
  createAdmin,
  loginOk,
  meReason,
  PASSWORD,
  reasonOf,
  refreshOk,
} from '../helpers/session-helpers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { totpCode, withinOneStep } from '../helpers/totp-codes.js';

const START = 'mutation { startTotpEnrollment { secret otpauthUri qrCodeSvg } }';
const CONFIRM = 'mutation Confirm($c: String!) { confirmTotpEnrollment(code: $c) }';
const REGENERATE = 'mutation Regenerate($c: String!) { regenerateRecoveryCodes(code: $c) }';
const DISABLE = 'mutation Disable($c: String, $r: String) { disableTwoFactor(code: $c, recoveryCode: $r) }';
const ME_2FA = '{ me { id twoFactorEnabled } }';

let smtp: SmtpReceiver;
let app: TestServer;
let admin: AuthPayload;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestServer({
    SMTP_URL: smtp.url,
    APP_URL: 'https://app.example.test',
    MFA_ISSUER_NAME: 'Tessera Test',
  });
  admin = await createAdmin(app, 'keeper');
});
afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
});

interface Enrolled {
  user: AuthPayload;
  /** A second session, opened before two-factor was on. */
  other: AuthPayload;
  secret: string;
  recoveryCodes: string[];
}

async function start(
  server: TestServer,
  token: string,
): Promise<{ secret: string; otpauthUri: string; qrCodeSvg: string }> {
  const result = await server.client.request(START, {}, { token });
  expect(result.errors).toBeUndefined();
  return result.data.startTotpEnrollment;
}

/** A new user with two-factor on, confirmed with the code of the current step (the next step is still free). */
async function enrolled(server: TestServer, name: string): Promise<Enrolled> {
  const user = await server.client.signup(name, PASSWORD);
  const other = await loginOk(server, name);
  const { secret } = await start(server, user.accessToken);
  const result = await server.client.request(CONFIRM, { c: totpCode(secret) }, { token: user.accessToken });
  expect(result.errors).toBeUndefined();
  return { user, other, secret, recoveryCodes: result.data.confirmTotpEnrollment };
}

async function sql<T = Record<string, unknown>>(
  server: TestServer,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return server.orm.em.fork().execute(text, params);
}

async function eventTypes(userId: string): Promise<string[]> {
  const result = await app.client.request(AUTH_EVENTS, { userId, limit: 100 }, { token: admin.accessToken });
  expect(result.errors).toBeUndefined();
  return (result.data.authEvents as { type: string }[]).map((event) => event.type);
}

describe('enrolment', () => {
  test('a secret for the app, then its code turns two-factor on, yields 10 recovery codes and sends a notice', async () => {
    await withinOneStep();
    const user = await app.client.signup('enroller', PASSWORD);
    const { secret, otpauthUri, qrCodeSvg } = await start(app, user.accessToken);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Tessera Test:enroller');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Tessera Test');
    expect(qrCodeSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    const pending = await app.client.request(ME_2FA, {}, { token: user.accessToken });
    expect(pending.data.me.twoFactorEnabled).toBe(false);

    const confirmed = await app.client.request(CONFIRM, { c: totpCode(secret) }, { token: user.accessToken });
    expect(confirmed.errors).toBeUndefined();
    const codes: string[] = confirmed.data.confirmTotpEnrollment;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);

    // The cached user was dropped: the same token sees the change at once.
    const me = await app.client.request(ME_2FA, {}, { token: user.accessToken });
    expect(me.data.me.twoFactorEnabled).toBe(true);
    const mail = await smtp.waitForMail('enroller@example.com');
    expect(mail.subject).toBe('Two-factor authentication is on');
    expect(mail.link).toBeUndefined();
    expect(mail.text).not.toContain(secret);
    expect(await eventTypes(user.user.id)).toEqual(expect.arrayContaining(['MFA_ENROLLMENT_STARTED', 'MFA_ENABLED']));
  });

  test('a second start replaces a pending enrolment: only the newest secret confirms', async () => {
    await withinOneStep();
    const user = await app.client.signup('restarter', PASSWORD);
    const first = await start(app, user.accessToken);
    const second = await start(app, user.accessToken);
    expect(second.secret).not.toBe(first.secret);
    const [{ count }] = await sql<{ count: string }>(app, 'select count(*) from totp_factors where user_id = ?', [
      user.user.id,
    ]);
    expect(Number(count)).toBe(1);

    const stale = await app.client.request(CONFIRM, { c: totpCode(first.secret) }, { token: user.accessToken });
    expect(codeOf(stale)).toBe('UNAUTHENTICATED');
    expect(reasonOf(stale)).toBe('MFA_CODE_INVALID');
    const fresh = await app.client.request(CONFIRM, { c: totpCode(second.secret) }, { token: user.accessToken });
    expect(fresh.data.confirmTotpEnrollment).toHaveLength(10);
  });

  test('start is refused while two-factor is on, and the active secret stays', async () => {
    const { user, secret } = await enrolled(app, 'steady');
    const [before] = await sql(app, 'select secret_ciphertext from totp_factors where user_id = ?', [user.user.id]);
    const result = await app.client.request(START, {}, { token: user.accessToken });
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(reasonOf(result)).toBe('MFA_ALREADY_ENABLED');
    const [after] = await sql(app, 'select secret_ciphertext from totp_factors where user_id = ?', [user.user.id]);
    expect(after).toEqual(before);
    // The secret still proves: its next step removes two-factor.
    const disabled = await app.client.request(DISABLE, { c: totpCode(secret, 1) }, { token: user.accessToken });
    expect(disabled.data).toEqual({ disableTwoFactor: true });
  });

  test('start needs a fresh token; confirm with nothing pending is MFA_NOT_ENABLED; no token is UNAUTHENTICATED', async () => {
    const user = await app.client.signup('unready', PASSWORD);
    const rotated = await refreshOk(app, user.refreshToken);
    const stale = await app.client.request(START, {}, { token: rotated.accessToken });
    expect(reasonOf(stale)).toBe('FRESH_TOKEN_REQUIRED');
    const nothing = await app.client.request(CONFIRM, { c: '123456' }, { token: rotated.accessToken });
    expect(codeOf(nothing)).toBe('FORBIDDEN');
    expect(reasonOf(nothing)).toBe('MFA_NOT_ENABLED');
    for (const query of [START, CONFIRM, REGENERATE, DISABLE]) {
      const anonymous = await app.client.request(query, { c: '123456' });
      expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    }
  });
});

describe('codes', () => {
  test('the previous and next steps are accepted (drift), two steps away and wrong codes are refused', async () => {
    await withinOneStep();
    const early = await app.client.signup('drift_early', PASSWORD);
    const late = await app.client.signup('drift_late', PASSWORD);
    const a = await start(app, early.accessToken);
    const b = await start(app, late.accessToken);
    for (const code of [
      totpCode(a.secret, -2),
      totpCode(a.secret, 2),
      '000000',
      'abcdef',
      '12345',
      '1234567',
      '',
      'x'.repeat(5000),
    ]) {
      const refused = await app.client.request(CONFIRM, { c: code }, { token: early.accessToken });
      expect(codeOf(refused)).toBe('UNAUTHENTICATED');
      expect(reasonOf(refused)).toBe('MFA_CODE_INVALID');
    }
    // Another user's code proves nothing here.
    const crossed = await app.client.request(CONFIRM, { c: totpCode(b.secret) }, { token: early.accessToken });
    expect(reasonOf(crossed)).toBe('MFA_CODE_INVALID');

    const previous = await app.client.request(CONFIRM, { c: totpCode(a.secret, -1) }, { token: early.accessToken });
    expect(previous.data.confirmTotpEnrollment).toHaveLength(10);
    const next = await app.client.request(CONFIRM, { c: totpCode(b.secret, 1) }, { token: late.accessToken });
    expect(next.data.confirmTotpEnrollment).toHaveLength(10);
    expect(await eventTypes(early.user.id)).toContain('MFA_CODE_FAILED');
  });

  test('a code accepted once is refused again (replay), and an earlier step after a later one too', async () => {
    await withinOneStep();
    const user = await app.client.signup('replayer', PASSWORD);
    const { secret } = await start(app, user.accessToken);
    const next = totpCode(secret, 1);
    const confirmed = await app.client.request(CONFIRM, { c: next }, { token: user.accessToken });
    expect(confirmed.errors).toBeUndefined();
    for (const code of [next, totpCode(secret)]) {
      const replay = await app.client.request(REGENERATE, { c: code }, { token: user.accessToken });
      expect(reasonOf(replay)).toBe('MFA_CODE_INVALID');
    }
  });

  test('two requests carrying one code at once: exactly one passes', async () => {
    const { user, secret } = await enrolled(app, 'racer');
    const code = totpCode(secret, 1);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => app.client.request(REGENERATE, { c: code }, { token: user.accessToken })),
    );
    expect(results.filter((result) => result.errors === undefined)).toHaveLength(1);
    for (const refused of results.filter((result) => result.errors !== undefined)) {
      expect(reasonOf(refused)).toBe('MFA_CODE_INVALID');
    }
  });

  test('the secret is stored sealed, not in plaintext', async () => {
    const { user, secret } = await enrolled(app, 'sealer');
    const [row] = await sql<{ secret_ciphertext: string }>(
      app,
      'select secret_ciphertext from totp_factors where user_id = ?',
      [user.user.id],
    );
    const raw = Buffer.from(base32Decode(secret));
    for (const form of [
      secret,
      secret.toLowerCase(),
      raw.toString('hex'),
      raw.toString('base64'),
      raw.toString('base64url'),
    ]) {
      expect(row.secret_ciphertext).not.toContain(form);
    }
    expect(row.secret_ciphertext).toMatch(/^v1\./);
  });

  test("a sealed secret moved to another user's row does not prove that user's codes", async () => {
    const victim = await enrolled(app, 'aad_victim');
    const thief = await enrolled(app, 'aad_thief');
    await sql(
      app,
      'update totp_factors set secret_ciphertext = (select secret_ciphertext from totp_factors where user_id = ?), last_used_step = null where user_id = ?',
      [victim.user.user.id, thief.user.user.id],
    );
    for (const code of [totpCode(victim.secret, 1), totpCode(thief.secret, 1)]) {
      const result = await app.client.request(REGENERATE, { c: code }, { token: thief.user.accessToken });
      expect(codeOf(result)).toBe('UNAUTHENTICATED');
      expect(reasonOf(result)).toBe('MFA_CODE_INVALID');
    }
  });
});

describe('recovery codes', () => {
  test('stored only as keyed hashes', async () => {
    const { user, recoveryCodes } = await enrolled(app, 'hasher');
    const rows = await sql<{ code_hash: string; used_at: Date | null }>(
      app,
      'select code_hash, used_at from recovery_codes where user_id = ?',
      [user.user.id],
    );
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const code of recoveryCodes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace('-', ''));
    }
    for (const row of rows) {
      expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.used_at).toBeNull();
    }
  });

  test('a recovery code works once, whatever its case and dashes; its use is recorded and mailed', async () => {
    const { user, recoveryCodes } = await enrolled(app, 'recoverer');
    await smtp.waitForMail('recoverer@example.com'); // the enabled notice
    const [code] = recoveryCodes;
    const typed = code.toUpperCase().replace('-', ' ');
    const disabled = await app.client.request(DISABLE, { r: typed }, { token: user.accessToken });
    expect(disabled.data).toEqual({ disableTwoFactor: true });
    const notice = await smtp.waitForMail('recoverer@example.com');
    const subjects = [notice.subject, (await smtp.waitForMail('recoverer@example.com')).subject];
    expect(subjects.sort()).toEqual(['A recovery code was used', 'Two-factor authentication was turned off']);
    for (const mail of smtp.mails.filter((m) => m.to === 'recoverer@example.com')) {
      for (const c of recoveryCodes) expect(mail.raw).not.toContain(c);
    }
    expect(await eventTypes(user.user.id)).toEqual(expect.arrayContaining(['MFA_RECOVERY_CODE_USED', 'MFA_DISABLED']));
  });

  test('a spent recovery code is refused the second time', async () => {
    const { user, recoveryCodes } = await enrolled(app, 'spender');
    const [code] = recoveryCodes;
    // Spent through the shared check, as a login completion spends one.
    const em = app.orm.em.fork();
    const meta = { ip: '127.0.0.1', userAgent: null };
    await expect(app.server.services.secondFactor.verify(em, user.user.id, { recoveryCode: code }, meta)).resolves.toBe(
      'rec',
    );
    const again = await app.client.request(DISABLE, { r: code }, { token: user.accessToken });
    expect(codeOf(again)).toBe('UNAUTHENTICATED');
    expect(reasonOf(again)).toBe('MFA_CODE_INVALID');
    const [{ count }] = await sql<{ count: string }>(
      app,
      'select count(*) from recovery_codes where user_id = ? and used_at is not null',
      [user.user.id],
    );
    expect(Number(count)).toBe(1);
    // The others still work.
    const other = await app.client.request(DISABLE, { r: recoveryCodes[1] }, { token: user.accessToken });
    expect(other.data).toEqual({ disableTwoFactor: true });
  });

  test('regenerate replaces every code: the old ones stop working, the new ones work', async () => {
    const { user, secret, recoveryCodes } = await enrolled(app, 'regenerator');
    const result = await app.client.request(REGENERATE, { c: totpCode(secret, 1) }, { token: user.accessToken });
    expect(result.errors).toBeUndefined();
    const fresh: string[] = result.data.regenerateRecoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => recoveryCodes.includes(code))).toEqual([]);
    const old = await app.client.request(DISABLE, { r: recoveryCodes[0] }, { token: user.accessToken });
    expect(reasonOf(old)).toBe('MFA_CODE_INVALID');
    const wrong = await app.client.request(REGENERATE, { c: '000000' }, { token: user.accessToken });
    expect(reasonOf(wrong)).toBe('MFA_CODE_INVALID');
    const ok = await app.client.request(DISABLE, { r: fresh[0] }, { token: user.accessToken });
    expect(ok.data).toEqual({ disableTwoFactor: true });
    expect(await eventTypes(user.user.id)).toContain('MFA_RECOVERY_CODES_REGENERATED');
  });
});

describe('disabling', () => {
  test('with a code: the factor and codes are gone, other sessions end, this one stays, and twoFactorEnabled is false at once', async () => {
    const { user: current, other, secret } = await enrolled(app, 'disabler');
    expect(await meReason(app, other.accessToken)).toBeUndefined();

    const result = await app.client.request(DISABLE, { c: totpCode(secret, 1) }, { token: current.accessToken });
    expect(result.data).toEqual({ disableTwoFactor: true });

    expect(await meReason(app, other.accessToken)).toBe('TOKEN_REVOKED');
    const me = await app.client.request(ME_2FA, {}, { token: current.accessToken });
    expect(me.data.me.twoFactorEnabled).toBe(false);
    const rows = await sql<{ factors: string; codes: string; flag: Date | null }>(
      app,
      `select (select count(*) from totp_factors where user_id = u.id) as factors,
              (select count(*) from recovery_codes where user_id = u.id) as codes,
              u.two_factor_enabled_at as flag
       from users u where u.id = ?`,
      [current.user.id],
    );
    expect(rows).toEqual([{ factors: '0', codes: '0', flag: null }]);
    // It can be enrolled anew.
    expect((await start(app, current.accessToken)).secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  test('needs a fresh token, a valid proof, exactly one of code and recoveryCode, and two-factor on', async () => {
    const { user: fresh, other, secret, recoveryCodes } = await enrolled(app, 'guarded');
    const rotated = await refreshOk(app, other.refreshToken);
    const stale = await app.client.request(DISABLE, { c: totpCode(secret, 1) }, { token: rotated.accessToken });
    expect(reasonOf(stale)).toBe('FRESH_TOKEN_REQUIRED');
    for (const variables of [{}, { c: totpCode(secret, 1), r: recoveryCodes[0] }]) {
      const result = await app.client.request(DISABLE, variables, { token: fresh.accessToken });
      expect(codeOf(result)).toBe('BAD_USER_INPUT');
    }
    for (const variables of [{ c: '000000' }, { r: 'aaaaa-aaaaa' }, { r: 'not a code at all' }, { c: 42 }]) {
      const result = await app.client.request(DISABLE, variables, { token: fresh.accessToken });
      expect(['UNAUTHENTICATED', 'BAD_USER_INPUT']).toContain(codeOf(result));
      expect(JSON.stringify(result.errors)).not.toMatch(/stack|select |at .*\.ts/i);
    }
    const me = await app.client.request(ME_2FA, {}, { token: fresh.accessToken });
    expect(me.data.me.twoFactorEnabled).toBe(true);

    const plain = await app.client.signup('plain', PASSWORD);
    for (const query of [DISABLE, REGENERATE]) {
      const result = await app.client.request(query, { c: '123456' }, { token: plain.accessToken });
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(reasonOf(result)).toBe('MFA_NOT_ENABLED');
    }
  });
});

describe('with its own server', () => {
  test('repeated wrong codes lock the account (RATE_LIMITED), the right code included, each failure recorded', async () => {
    const locking = await startTestServer({ ACCOUNT_LOCK_FAILURES: '3' });
    try {
      const { user, secret } = await enrolled(locking, 'lockee');
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const wrong = await locking.client.request(REGENERATE, { c: '000000' }, { token: user.accessToken });
        expect(reasonOf(wrong)).toBe('MFA_CODE_INVALID');
      }
      for (const code of ['000000', totpCode(secret, 1)]) {
        const locked = await locking.client.request(REGENERATE, { c: code }, { token: user.accessToken });
        expect(codeOf(locked)).toBe('RATE_LIMITED');
        expect(locked.errors?.[0]?.extensions?.retryAfter).toEqual(expect.any(Number));
      }
      const failures = await sql<{ count: string }>(
        locking,
        "select count(*) from auth_events where user_id = ? and type = 'MFA_CODE_FAILED'",
        [user.user.id],
      );
      expect(Number(failures[0].count)).toBe(3);
    } finally {
      await locking.stop();
    }
  });

  test('TWO_FACTOR=off refuses enrolment', async () => {
    const off = await startTestServer({ TWO_FACTOR: 'off' });
    try {
      const user = await off.client.signup('offline', PASSWORD);
      const result = await off.client.request(START, {}, { token: user.accessToken });
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(reasonOf(result)).toBe('MFA_DISABLED');
      const [{ count }] = await sql<{ count: string }>(off, 'select count(*) from totp_factors');
      expect(Number(count)).toBe(0);
    } finally {
      await off.stop();
    }
  });

  test('after a key rotation, secrets and recovery codes under the previous key still work; the secret is re-sealed', async () => {
    const oldKey = randomBytes(32).toString('base64url');
    const signing = { JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
    const before = await startTestServer({ ...signing, MFA_ENCRYPTION_KEY: oldKey });
    const database = before.database;
    let enrolledUser: Enrolled;
    try {
      enrolledUser = await enrolled(before, 'rotator');
    } finally {
      await before.server.stop();
      await before.orm.close(true);
    }
    const newKey = randomBytes(32).toString('base64url');
    const rotated = await startTestServer(
      { ...signing, MFA_ENCRYPTION_KEY: newKey, MFA_PREVIOUS_ENCRYPTION_KEYS: oldKey },
      database,
    );
    const forgotten = await startTestServer(
      { ...signing, MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64url') },
      database,
    );
    try {
      const { user, secret, recoveryCodes } = enrolledUser;
      const token = user.accessToken;
      const sealed = async () =>
        (
          await sql<{ secret_ciphertext: string }>(
            rotated,
            'select secret_ciphertext from totp_factors where user_id = ?',
            [user.user.id],
          )
        )[0].secret_ciphertext;
      const sealedBefore = await sealed();

      // A server that knows neither key cannot use the secret or the recovery codes.
      const unknown = await forgotten.client.request(REGENERATE, { c: totpCode(secret, 1) }, { token });
      expect(reasonOf(unknown)).toBe('MFA_CODE_INVALID');
      const unknownCode = await forgotten.client.request(DISABLE, { r: recoveryCodes[0] }, { token });
      expect(reasonOf(unknownCode)).toBe('MFA_CODE_INVALID');
      expect(await sealed()).toBe(sealedBefore);

      // A recovery code hashed under the previous key is still good.
      const meta = { ip: '127.0.0.1', userAgent: null };
      await expect(
        rotated.server.services.secondFactor.verify(
          rotated.orm.em.fork(),
          user.user.id,
          { recoveryCode: recoveryCodes[1] },
          meta,
        ),
      ).resolves.toBe('rec');

      const result = await rotated.client.request(REGENERATE, { c: totpCode(secret, 1) }, { token });
      expect(result.errors).toBeUndefined();
      const sealedAfter = await sealed();
      // Re-sealed under the new key: another key id, and it still verifies with only the new key.
      expect(sealedAfter.split('.')[1]).not.toBe(sealedBefore.split('.')[1]);
      const fresh: string[] = result.data.regenerateRecoveryCodes;
      expect((await rotated.client.request(DISABLE, { r: fresh[0] }, { token })).data).toEqual({
        disableTwoFactor: true,
      });
    } finally {
      await forgotten.server.stop();
      await forgotten.orm.close(true);
      await rotated.stop();
    }
  });
});

/** RFC 4648 base32, for checking that no form of the secret reached the table. */
function base32Decode(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of text) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const bytes = bits.match(/.{8}/g) ?? [];
  return Uint8Array.from(bytes.map((byte) => parseInt(byte, 2)));
}
