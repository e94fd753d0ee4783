// Authenticator-app codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), with one step of
// drift either way. A code is accepted only for a step later than the last one accepted, and that
// step is written by a conditional update, so a code (or two requests carrying it) passes once.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { TotpFactor } from '../../db/entities/index.js';
import { type OpenedSecret, type SecretBox, SecretBoxError } from './secret-box.js';

const SECRET_BYTES = 20;
const PERIOD_SECONDS = 30;
const DIGITS = 6;
const DRIFT_STEPS = 1;

export function newTotpSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

export function base32Of(secret: Buffer): string {
  return new Secret({ buffer: Uint8Array.from(secret).buffer }).base32;
}

/** The key URI an authenticator app scans: `otpauth://totp/<issuer>:<username>?secret=...&issuer=...`. */
export function otpauthUri(secret: Buffer, issuer: string, username: string): string {
  return totpOf(secret, issuer, username).toString();
}

/** The time step `code` belongs to within the drift window, or null. */
export function matchingStep(secret: Buffer, code: string, nowMs: number = Date.now()): number | null {
  const token = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpOf(secret).validate({ token, timestamp: nowMs, window: DRIFT_STEPS });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / PERIOD_SECONDS) + delta;
}

function totpOf(secret: Buffer, issuer = '', label = 'OTPAuth'): TOTP {
  return new TOTP({
    issuer,
    label,
    secret: new Secret({ buffer: Uint8Array.from(secret).buffer }),
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
  });
}

export type FactorState = 'pending' | 'active';

/** Checks codes against a user's stored factor. Writes only `last_used_step` (and the re-sealed secret, or the confirmation, with it). */
export class TotpCodes {
  constructor(private readonly box: SecretBox) {}

  /**
   * Accepts `code` for the user's factor in `state`, in `em`'s transaction: false when there is
   * no such factor, the code is wrong or outside the window, or its step was already used. With
   * `confirm`, the same update marks a pending factor confirmed. A secret read under a previous
   * key is re-sealed under the current one.
   */
  async accept(em: EntityManager, userId: string, code: string, state: FactorState, confirm = false): Promise<boolean> {
    const factor = await em.findOne(
      TotpFactor,
      { user: userId, confirmedAt: state === 'active' ? { $ne: null } : null },
      { fields: ['secretCiphertext', 'lastUsedStep'], disableIdentityMap: true },
    );
    if (!factor) return false;
    const opened = this.tryOpen(factor.secretCiphertext, userId);
    if (!opened) return false;
    const step = matchingStep(opened.plaintext, code);
    if (step === null) return false;
    if (factor.lastUsedStep !== null && BigInt(factor.lastUsedStep) >= BigInt(step)) return false;
    const changes: Partial<Pick<TotpFactor, 'lastUsedStep' | 'secretCiphertext' | 'confirmedAt'>> = {
      lastUsedStep: String(step),
    };
    if (!opened.underCurrentKey) changes.secretCiphertext = this.box.seal(opened.plaintext, userId);
    if (confirm) changes.confirmedAt = new Date();
    const accepted = await em.nativeUpdate(
      TotpFactor,
      {
        user: userId,
        // The row read above, unchanged since: not replaced by a new enrolment, not used meanwhile.
        secretCiphertext: factor.secretCiphertext,
        $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: String(step) } }],
      },
      changes,
    );
    return accepted > 0;
  }

  /** A secret that does not open (its key dropped, or the row not this user's) proves nothing: no code matches it. */
  private tryOpen(stored: string, userId: string): OpenedSecret | null {
    try {
      return this.box.open(stored, userId);
    } catch (error) {
      if (error instanceof SecretBoxError) return null;
      throw error;
    }
  }
}
