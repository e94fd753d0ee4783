// argon2id hashing. Passwords are NFKC-normalized on both set and verify, so the same text typed
// on two keyboards (composed or decomposed accents, full-width digits) is the same password.
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { type AuthObserver, NO_AUTH_OBSERVER } from '../observability/metrics.js';
import { AuthError, AuthFailure } from './auth-error.js';
import { isCommonPassword } from './common-passwords.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;
/** Bounds the normalization work on hostile input before the length rule is applied. */
const PASSWORD_MAX_RAW_LENGTH = 4 * PASSWORD_MAX_LENGTH;

// A stored hash asking for more than this is refused rather than run: an edited row asking for
// 1 GiB would hold a hashing thread for seconds.
const MAX_STORED_MEMORY_KIB = 256 * 1024;
const MAX_STORED_TIME_COST = 20;
const MAX_STORED_PARALLELISM = 16;

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * Returns the normalized password to hash, or refuses it. Length is counted in code points after
 * normalization; nothing is trimmed. `personal` holds what the account is known by (username,
 * email): a password equal to one of them is the first thing an attacker tries.
 */
export function checkPasswordPolicy(password: string, personal: readonly string[] = [], field = 'password'): string {
  const lengthRule = `Password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`;
  if (password.length > PASSWORD_MAX_RAW_LENGTH) throw weakPassword(lengthRule, field);
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) throw weakPassword(lengthRule, field);
  if (isCommonPassword(normalized))
    throw weakPassword('This password is too common: choose one that is harder to guess', field);
  const lowered = normalized.toLowerCase();
  if (personal.some((value) => normalizePassword(value).toLowerCase() === lowered)) {
    throw weakPassword('The password must not be the username or the email address', field);
  }
  return normalized;
}

function weakPassword(message: string, field: string): AuthError {
  return new AuthError(AuthFailure.WEAK_PASSWORD, message, field);
}

export interface VerifyResult {
  valid: boolean;
  /** The hash was made with other parameters than the configured ones: store a new one. */
  needsRehash: boolean;
}

export class PasswordHasher {
  private readonly options: argon2.HashOptions & { raw: false };
  private dummyHash: Promise<string> | undefined;

  constructor(
    params: Config['argon2'],
    private readonly observer: AuthObserver = NO_AUTH_OBSERVER,
  ) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: params.memoryKib,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      raw: false,
    };
  }

  /** `password` must already have passed checkPasswordPolicy. */
  hash(password: string): Promise<string> {
    return this.timed('hash', argon2.hash(password, this.options));
  }

  async verify(hash: string, password: string): Promise<VerifyResult> {
    const stored = password.length > PASSWORD_MAX_RAW_LENGTH ? undefined : saneParameters(hash);
    if (stored) {
      try {
        const valid = await this.timed('verify', argon2.verify(hash, normalizePassword(password)));
        // From the parameters read above rather than argon2.needsRehash, which parses the string again.
        const current =
          stored.m === this.options.memoryCost &&
          stored.t === this.options.timeCost &&
          stored.p === this.options.parallelism;
        return { valid, needsRehash: valid && !current };
      } catch {
        // A hash argon2 could not read: refused below, like the others.
      }
    }
    // Refused before argon2 did its work (an over-long password, a stored hash out of bounds or
    // unreadable), the answer would come back sooner than for a wrong password, and sooner for an
    // account that exists than for one that does not (whose login spends verifyDummy).
    await this.verifyDummy(password);
    return { valid: false, needsRehash: false };
  }

  /**
   * Spends the same time as a real verify, for logins naming no account, so that response
   * time does not tell which usernames exist.
   */
  async verifyDummy(password: string): Promise<void> {
    const dummyHash = await this.makeDummyHash();
    await this.timed('verify', argon2.verify(dummyHash, normalizePassword(password.slice(0, PASSWORD_MAX_RAW_LENGTH))));
  }

  /** Makes the dummy hash now rather than on the first unknown login; it starts the thread pool. */
  async warmUp(): Promise<void> {
    await this.makeDummyHash();
  }

  /** The computation's time, from the call to its result (the thread pool's queue included). */
  private async timed<T>(operation: 'hash' | 'verify', work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.observer.passwordHashed(operation, (performance.now() - started) / 1000);
    }
  }

  private makeDummyHash(): Promise<string> {
    return (this.dummyHash ??= argon2.hash(randomBytes(32).toString('base64url'), this.options));
  }
}

interface StoredParameters {
  m: number;
  t: number;
  p: number;
}

/** The parameters of an argon2id v19 PHC string, or undefined when they are missing or out of bounds. */
function saneParameters(hash: string): StoredParameters | undefined {
  // PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash (the parameter order varies).
  const [, algorithm, version, parameters] = hash.split('$');
  if (algorithm !== 'argon2id' || version !== 'v=19' || parameters === undefined) return undefined;
  const values = new Map(parameters.split(',').map((pair) => pair.split('=') as [string, string]));
  const stored = { m: Number(values.get('m')), t: Number(values.get('t')), p: Number(values.get('p')) };
  const sane =
    stored.m > 0 &&
    stored.m <= MAX_STORED_MEMORY_KIB &&
    stored.t > 0 &&
    stored.t <= MAX_STORED_TIME_COST &&
    stored.p > 0 &&
    stored.p <= MAX_STORED_PARALLELISM;
  return sane ? stored : undefined;
}
