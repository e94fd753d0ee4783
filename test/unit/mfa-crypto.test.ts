// The two-factor crypto on its own: sealed secrets (AES-256-GCM bound to the user, named keys),
// the TOTP window against RFC 6238's vector and otplib, and how recovery codes are typed back.
import { randomBytes } from 'node:crypto';
import { generateSync } from 'otplib';
import { normalizeRecoveryCode } from '../../src/auth/mfa/recovery-codes.js';
import { keyIdOf, SecretBox, SecretBoxError } from '../../src/auth/mfa/secret-box.js';
import { base32Of, matchingStep, newTotpSecret, otpauthUri } from '../../src/auth/mfa/totp.js';

const USER = '8f14e45f-ceea-467a-a866-051b2c1d3f11';
const OTHER_USER = '1679091c-5a88-4faf-afb5-e6087eb1b2dc';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const secret = newTotpSecret();

  test('opens what it sealed, with a new nonce each time and no plaintext in the text', () => {
    const first = box.seal(secret, USER);
    const second = box.seal(secret, USER);
    expect(first).not.toBe(second);
    expect(first.split('.')[1]).toBe(keyIdOf(key));
    expect(first).not.toContain(secret.toString('base64url'));
    expect(box.open(first, USER)).toEqual({ plaintext: secret, underCurrentKey: true });
  });

  test("refuses another user's id, an altered text, an unknown key and garbage", () => {
    const sealed = box.seal(secret, USER);
    expect(() => box.open(sealed, OTHER_USER)).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;
    const altered = [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.');
    expect(() => box.open(altered, USER)).toThrow(SecretBoxError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, USER)).toThrow(SecretBoxError);
    for (const garbage of ['', 'v1', 'v2.a.b.c.d', `${sealed}.x`, 'v1.x.y.z.w']) {
      expect(() => box.open(garbage, USER)).toThrow(SecretBoxError);
    }
  });

  test('a previous key still opens, and says so; the current key seals', () => {
    const sealedBefore = box.seal(secret, USER);
    const rotated = new SecretBox(randomBytes(32), [key]);
    expect(rotated.open(sealedBefore, USER)).toEqual({ plaintext: secret, underCurrentKey: false });
    const resealed = rotated.seal(secret, USER);
    expect(rotated.open(resealed, USER).underCurrentKey).toBe(true);
    expect(() => box.open(resealed, USER)).toThrow(SecretBoxError);
  });
});

describe('TOTP', () => {
  // RFC 6238 appendix B, SHA-1: at T = 59 s the 8-digit code is 94287082, so the 6-digit one is 287082.
  const rfcSecret = Buffer.from('12345678901234567890', 'ascii');

  test('matches the RFC 6238 vector and names its step', () => {
    expect(matchingStep(rfcSecret, '287082', 59_000)).toBe(1);
    expect(matchingStep(rfcSecret, '287 082', 59_000)).toBe(1);
  });

  test('accepts one step of drift either way, not two, against codes from otplib', () => {
    const secret = newTotpSecret();
    const base32 = base32Of(secret);
    expect(base32).toMatch(/^[A-Z2-7]{32}$/);
    const now = 1_800_000_015_000; // 15 s into a step
    const step = Math.floor(now / 30_000);
    const codeAt = (offset: number) => generateSync({ secret: base32, epoch: now / 1000 + offset * 30 });
    expect(matchingStep(secret, codeAt(0), now)).toBe(step);
    expect(matchingStep(secret, codeAt(-1), now)).toBe(step - 1);
    expect(matchingStep(secret, codeAt(1), now)).toBe(step + 1);
    // A code two steps away could equal the current one by chance (one in a million): only a different one is meaningful.
    for (const offset of [-2, 2]) {
      if (![-1, 0, 1].some((near) => codeAt(near) === codeAt(offset))) {
        expect(matchingStep(secret, codeAt(offset), now)).toBeNull();
      }
    }
  });

  test('refuses what is not six digits', () => {
    const secret = newTotpSecret();
    for (const code of ['', '12345', '1234567', 'abcdef', '12345a', '١٢٣٤٥٦']) {
      expect(matchingStep(secret, code)).toBeNull();
    }
  });

  test('the key URI names the issuer and the username', () => {
    const secret = newTotpSecret();
    const uri = new URL(otpauthUri(secret, 'Acme Auth', 'ada'));
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Auth:ada');
    expect(uri.searchParams.get('secret')).toBe(base32Of(secret));
    expect(uri.searchParams.get('issuer')).toBe('Acme Auth');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});

test('a recovery code is typed back in any case, with or without dashes and spaces', () => {
  expect(normalizeRecoveryCode('ABCDE-FGH23')).toBe('abcdefgh23');
  expect(normalizeRecoveryCode(' abcde fgh23 ')).toBe('abcdefgh23');
});
