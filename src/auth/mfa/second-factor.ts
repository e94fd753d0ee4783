// The second-factor check every caller shares (enrolment changes, the login challenge,
// reauthentication): counted per account like passwords, each failure recorded at once.
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { User } from '../../db/entities/index.js';
import { MailKind } from '../../mail/mail-kind.js';
import type { Outbox } from '../../mail/outbox.js';
import { AuthEventKind, recordAuthEvent, recordAuthEventNow } from '../audit.js';
import { AuthError, AuthFailure } from '../auth-error.js';
import type { RequestMeta } from '../request-meta.js';
import type { Throttle } from '../throttle.js';
import type { RecoveryCodes } from './recovery-codes.js';
import type { TotpCodes } from './totp.js';

export type SecondFactorProof = { code: string } | { recoveryCode: string };
export type SecondFactorMethod = 'otp' | 'rec';

export function codeInvalid(): AuthError {
  return new AuthError(AuthFailure.MFA_CODE_INVALID, 'The code is not valid');
}

/** The account's failure counter for codes, apart from its password counter. */
export function mfaAccountKey(userId: string): string {
  return `mfa:${userId}`;
}

export class SecondFactor {
  constructor(
    private readonly totp: TotpCodes,
    private readonly recoveryCodes: RecoveryCodes,
    private readonly throttle: Throttle,
    private readonly outbox: Outbox,
    private readonly pool: pg.Pool,
  ) {}

  /**
   * The method proven ('otp' | 'rec'), or throws AuthError MFA_CODE_INVALID / ThrottledError.
   * Counts a failure on the account (and records MFA_CODE_FAILED), refuses a replayed TOTP step,
   * consumes a recovery code (records MFA_RECOVERY_CODE_USED and queues the notice mail).
   * Its writes join `em`'s transaction when it has one.
   */
  async verify(
    em: EntityManager,
    userId: string,
    proof: SecondFactorProof,
    meta: RequestMeta,
  ): Promise<SecondFactorMethod> {
    const accountKey = mfaAccountKey(userId);
    await this.throttle.beginAccountAttempt(accountKey);
    const method =
      'code' in proof
        ? await this.acceptCode(em, userId, proof.code)
        : await this.acceptRecoveryCode(em, userId, proof.recoveryCode, meta);
    if (!method) {
      await recordAuthEventNow(this.pool, { type: AuthEventKind.MFA_CODE_FAILED, userId, ip: meta.ip });
      throw codeInvalid();
    }
    await this.throttle.clearAccountAttempts(accountKey);
    return method;
  }

  private async acceptCode(em: EntityManager, userId: string, code: string): Promise<SecondFactorMethod | null> {
    return (await this.totp.accept(em, userId, code, 'active')) ? 'otp' : null;
  }

  private async acceptRecoveryCode(
    em: EntityManager,
    userId: string,
    recoveryCode: string,
    meta: RequestMeta,
  ): Promise<SecondFactorMethod | null> {
    return em.transactional(async (tx) => {
      const user = await tx.findOne(
        User,
        { id: userId, twoFactorEnabledAt: { $ne: null } },
        { fields: ['username', 'email'] },
      );
      if (!user) return null;
      if (!(await this.recoveryCodes.consume(tx, userId, recoveryCode))) return null;
      recordAuthEvent(tx, { type: AuthEventKind.MFA_RECOVERY_CODE_USED, userId, ip: meta.ip });
      const remaining = await this.recoveryCodes.remaining(tx, userId);
      this.outbox.queue(tx, {
        kind: MailKind.RECOVERY_CODE_USED,
        to: user.email,
        params: { username: user.username, remaining },
      });
      return 'rec';
    });
  }
}
