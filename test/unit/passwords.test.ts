// Password policy and argon2id hashing, with cheap parameters so the suite stays fast.
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { AuthError, AuthFailure } from '../../src/auth/auth-error.js';
import { checkPasswordPolicy, normalizePassword, PasswordHasher } from '../../src/auth/passwords.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const CHEAP = { memoryKib: 1024, timeCost: 1, parallelism: 1 };
const hasher = new PasswordHasher(CHEAP);

/** `length` characters of random base64url: never a common password. */
function randomPassword(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

function expectWeak(password: string, field = 'password'): void {
  let thrown: unknown;
  try {
    checkPasswordPolicy(password, [], field);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AuthError);
  expect(thrown).toMatchObject({ reason: AuthFailure.WEAK_PASSWORD, field });
}

/** The PHC string's parameter segment ("m=...,t=...,p=..."; argon2 writes them in its own order). */
function parameters(hash: string): Record<string, string> {
  return Object.fromEntries(
    hash
      .split('$')[3]
      .split(',')
      .map((pair) => pair.split('=')),
  );
}

function withParameters(hash: string, replacement: string): string {
  const parts = hash.split('$');
  parts[3] = replacement;
  return parts.join('$');
}

const CAFE_NFC = 'caf\u00e9-Passw\u00f6rt';
const CAFE_NFD = 'cafe\u0301-Passwo\u0308rt';

// ---------------------------------------------------------------------------------------------
// checkPasswordPolicy
// ---------------------------------------------------------------------------------------------

describe('checkPasswordPolicy', () => {
  test.each([0, 7, 257])('refuses a password of %i characters as WEAK_PASSWORD on the password field', (length) => {
    expectWeak(randomPassword(length));
  });

  test.each([8, 64, 256])('accepts a password of %i characters unchanged', (length) => {
    const password = randomPassword(length);
    expect(checkPasswordPolicy(password)).toBe(password);
  });

  test('names the field it was given', () => {
    expectWeak('short', 'newPassword');
  });

  test('refuses a 1 MB password, even one that NFKC would expand 18-fold, as WEAK_PASSWORD', () => {
    expectWeak('\ufdfa'.repeat(512 * 1024));
  });

  test('counts characters as code points: 8 emoji are enough, 7 are not, 256 are allowed', () => {
    expect(checkPasswordPolicy('🔐🔑🐙🦀🌵🎲🧩🛰')).toBe('🔐🔑🐙🦀🌵🎲🧩🛰');
    expectWeak('🔐🔑🐙🦀🌵🎲🧩');
    const emoji = [...'🔐🔑🐙🦀🌵🎲🧩🛰'];
    const long = Array.from({ length: 256 }, (_, index) => emoji[index % emoji.length]).join('');
    expect(checkPasswordPolicy(long)).toBe(long);
  });

  test('counts length after normalization: seven letters typed with a combining accent are too short', () => {
    expect('cafe\u0301xyz').toHaveLength(8);
    expectWeak('cafe\u0301xyz');
  });

  test.each([
    ['NUL bytes', 'pass\u0000word\u0000x9'],
    ['emoji', 'my 🐙 has 8 arms'],
    ['leading and trailing spaces', '   spaced out secret   '],
    ['only spaces', ' '.repeat(12)],
  ])('accepts a password with %s and does not trim or alter it', (_, password) => {
    expect(checkPasswordPolicy(password)).toBe(password);
  });

  test('refuses a common password, also when typed in full-width letters or another case', () => {
    expectWeak('password');
    expectWeak('PassWord');
    expectWeak('ｐａｓｓｗｏｒｄ');
  });

  test('refuses a password equal to the username or email, ignoring case', () => {
    expect(() => checkPasswordPolicy('Alice.Liddell', ['alice.liddell', 'alice@example.com'])).toThrow(AuthError);
    expect(() => checkPasswordPolicy('ALICE@example.com', ['alice.liddell', 'alice@example.com'])).toThrow(AuthError);
  });

  test('returns the NFC form for both NFC and NFD input', () => {
    expect(CAFE_NFC).not.toBe(CAFE_NFD);
    expect(checkPasswordPolicy(CAFE_NFC)).toBe(CAFE_NFC);
    expect(checkPasswordPolicy(CAFE_NFD)).toBe(CAFE_NFC);
    expect(normalizePassword(CAFE_NFD)).toBe(CAFE_NFC);
  });
});

// ---------------------------------------------------------------------------------------------
// PasswordHasher
// ---------------------------------------------------------------------------------------------

describe('PasswordHasher', () => {
  const password = 'correct horse battery staple';
  let hash: string;
  beforeAll(async () => {
    hash = await hasher.hash(password);
  });

  test('hashes with argon2id and the configured parameters, with a fresh salt each time', async () => {
    expect(hash).toMatch(/^\$argon2id\$v=19\$[a-z0-9=,]+\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{32,}$/);
    expect(parameters(hash)).toEqual({ m: '1024', t: '1', p: '1' });
    expect(await hasher.hash(password)).not.toBe(hash);
  });

  test('verifies the right password and refuses a wrong one', async () => {
    await expect(hasher.verify(hash, password)).resolves.toEqual({ valid: true, needsRehash: false });
    await expect(hasher.verify(hash, 'correct horse battery stapler')).resolves.toEqual({
      valid: false,
      needsRehash: false,
    });
    await expect(hasher.verify(hash, ` ${password}`)).resolves.toEqual({ valid: false, needsRehash: false });
  });

  test.each([
    ['NFC', CAFE_NFC, CAFE_NFD],
    ['NFD', CAFE_NFD, CAFE_NFC],
  ])('verifies a password set in %s form when it is typed in the other form', async (_, setAs, typedAs) => {
    const stored = await hasher.hash(checkPasswordPolicy(setAs));
    await expect(hasher.verify(stored, typedAs)).resolves.toMatchObject({ valid: true });
    await expect(hasher.verify(stored, setAs)).resolves.toMatchObject({ valid: true });
  });

  test.each([
    ['memory', { ...CHEAP, memoryKib: 2048 }],
    ['time cost', { ...CHEAP, timeCost: 2 }],
    ['parallelism', { ...CHEAP, parallelism: 2 }],
  ])('asks for a rehash when the configured %s differs from the stored hash', async (_, params) => {
    const upgraded = new PasswordHasher(params);
    await expect(upgraded.verify(hash, password)).resolves.toEqual({ valid: true, needsRehash: true });
    await expect(upgraded.verify(hash, 'wrong password')).resolves.toEqual({ valid: false, needsRehash: false });
  });

  test.each([
    ['m=4194304 (4 GiB)', 'm=4194304,t=1,p=1'],
    ['t=5000', 'm=1024,t=5000,p=1'],
  ])('refuses a stored hash edited to %s', async (_, edit) => {
    await expect(hasher.verify(withParameters(hash, edit), password)).resolves.toEqual({
      valid: false,
      needsRehash: false,
    });
  });

  test.each([
    ['time cost 21', { memoryCost: 1024, timeCost: 21, parallelism: 1 }],
    ['parallelism 17', { memoryCost: 1024, timeCost: 1, parallelism: 17 }],
  ])('refuses a genuine hash of the right password whose %s is past the cap, so it is never run', async (_, params) => {
    // Deterministic proof that the cap, not the hash, decides: the password is right.
    const genuine = await argon2.hash(password, { type: argon2.argon2id, ...params });
    expect(await argon2.verify(genuine, password)).toBe(true);
    await expect(hasher.verify(genuine, password)).resolves.toEqual({ valid: false, needsRehash: false });
  });

  test.each([
    ['an empty string', ''],
    ['plain text', 'not a hash at all'],
    ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
    ['an argon2id hash without salt and digest', '$argon2id$v=19$m=1024,t=1,p=1'],
    ['an argon2id hash with a corrupt digest', '$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$!!!!'],
    [
      'an argon2id hash with non-numeric parameters',
      '$argon2id$v=19$m=lots,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    ],
  ])('answers valid:false, without throwing, for %s', async (_, stored) => {
    await expect(hasher.verify(stored, password)).resolves.toEqual({ valid: false, needsRehash: false });
  });

  test('refuses a 1 MB password at verify', async () => {
    await expect(hasher.verify(hash, `${password}${'x'.repeat(1024 * 1024)}`)).resolves.toEqual({
      valid: false,
      needsRehash: false,
    });
  });

  test('a refusal that argon2 never ran (an over-long password, a stored hash out of bounds) still costs a verify, so it does not tell that the account exists', async () => {
    // CPU time, not wall time: argon2 runs on libuv's pool, which process.cpuUsage counts, and
    // the two sides are compared in one run. Without the dummy verify they differ a hundredfold;
    // the bound is a tenth, as the process's other threads (GC, a loaded machine) move either side
    // by up to half.
    const costly = new PasswordHasher({ memoryKib: 8192, timeCost: 2, parallelism: 1 });
    const genuine = await costly.hash(password);
    await costly.warmUp();
    const cpuMicros = async (verify: () => Promise<unknown>) => {
      const before = process.cpuUsage();
      for (let i = 0; i < 5; i++) await verify();
      const { user, system } = process.cpuUsage(before);
      return user + system;
    };
    const wrongPassword = await cpuMicros(() => costly.verify(genuine, 'not the password'));
    const overLong = await cpuMicros(() => costly.verify(genuine, 'x'.repeat(1025)));
    const outOfBounds = await cpuMicros(() => costly.verify(withParameters(genuine, 'm=4194304,t=1,p=1'), password));
    const unreadable = await cpuMicros(() =>
      costly.verify('$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$!!!!', password),
    );
    expect(overLong).toBeGreaterThan(wrongPassword / 10);
    expect(outOfBounds).toBeGreaterThan(wrongPassword / 10);
    expect(unreadable).toBeGreaterThan(wrongPassword / 10);
  });

  test('verifyDummy resolves, for any password, including a 1 MB one', async () => {
    await expect(hasher.verifyDummy(password)).resolves.toBeUndefined();
    await expect(hasher.verifyDummy('x'.repeat(1024 * 1024))).resolves.toBeUndefined();
  });
});
