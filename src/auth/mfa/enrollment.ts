// Enrolment and removal of the second factor: start (a pending secret), confirm (the first code
// makes it active and yields the recovery codes), regenerate the codes, disable.
// The only writer of totp_factors, recovery_codes and users.two_factor_enabled_at: it writes them
// itself or through totp.ts and recovery-codes.ts, which nothing else in Tessera calls to write.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import QRCode from 'qrcode';
import type { MfaConfig } from '../../config.js';
import { TotpFactor, User } from '../../db/entities/index.js';
import { MailKind } from '../../mail/mail-kind.js';
import type { Outbox } from '../../mail/outbox.js';
import { AuthEventKind, recordAuthEvent, recordAuthEventNow } from '../audit.js';
import { AuthError, AuthFailure } from '../auth-error.js';
import { withInvalidations } from '../invalidation.js';
import type { PrincipalService } from '../principal.js';
import type { RequestMeta, ViewerRef } from '../request-meta.js';
import { RevocationReason, type SessionService } from '../sessions.js';
import type { Throttle } from '../throttle.js';
import type { RecoveryCodes } from './recovery-codes.js';
import { codeInvalid, mfaAccountKey, type SecondFactor, type SecondFactorProof } from './second-factor.js';
import type { SecretBox } from './secret-box.js';
import { base32Of, newTotpSecret, otpauthUri, type TotpCodes } from './totp.js';

/** What the page shows while an enrolment is pending: the secret typed or scanned into the app. */
export interface TotpEnrollmentView {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCodeSvg: string;
}

function notEnabled(): AuthError {
  return new AuthError(AuthFailure.MFA_NOT_ENABLED, 'Two-factor authentication is not on for this account');
}

export class TwoFactorEnrollment {
  constructor(
    private readonly settings: MfaConfig,
    private readonly box: SecretBox,
    private readonly totp: TotpCodes,
    private readonly recoveryCodes: RecoveryCodes,
    private readonly secondFactor: SecondFactor,
    private readonly throttle: Throttle,
    private readonly sessions: SessionService,
    private readonly principals: PrincipalService,
    private readonly outbox: Outbox,
    private readonly pool: pg.Pool,
  ) {}

  /** A new pending secret, replacing a pending one; refused while one is active. */
  async start(em: EntityManager, viewer: ViewerRef, meta: RequestMeta): Promise<TotpEnrollmentView> {
    this.assertOffered();
    const secret = newTotpSecret();
    const username = await em.transactional(async (tx) => {
      const user = await this.lockUser(tx, viewer.userId);
      if (user.twoFactorEnabledAt !== null) {
        throw new AuthError(
          AuthFailure.MFA_ALREADY_ENABLED,
          'Two-factor authentication is already on: disable it first',
        );
      }
      await tx.nativeDelete(TotpFactor, { user: user.id });
      tx.persist(tx.create(TotpFactor, { user: user.id, secretCiphertext: this.box.seal(secret, user.id) }));
      recordAuthEvent(tx, {
        type: AuthEventKind.MFA_ENROLLMENT_STARTED,
        userId: user.id,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
      return user.username;
    });
    const uri = otpauthUri(secret, this.settings.issuerName, username);
    return {
      secret: base32Of(secret),
      otpauthUri: uri,
      qrCodeSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
    };
  }

  /** The pending secret's code turns two-factor on; returns the 10 recovery codes, shown this once. */
  async confirm(em: EntityManager, viewer: ViewerRef, code: string, meta: RequestMeta): Promise<string[]> {
    this.assertOffered();
    const userId = viewer.userId;
    const accountKey = mfaAccountKey(userId);
    await this.throttle.beginAccountAttempt(accountKey);
    const codes = await withInvalidations(em, this.principals, async (tx) => {
      const user = await this.lockUser(tx, userId);
      const pending = await tx.count(TotpFactor, { user: userId, confirmedAt: null });
      if (user.twoFactorEnabledAt !== null || pending === 0) throw notEnabled();
      if (!(await this.totp.accept(tx, userId, code, 'pending', true))) return { result: null, invalidations: [] };
      await tx.nativeUpdate(User, { id: userId }, { twoFactorEnabledAt: new Date(), updatedAt: new Date() });
      const recoveryCodes = await this.recoveryCodes.replaceAll(tx, userId);
      recordAuthEvent(tx, { type: AuthEventKind.MFA_ENABLED, userId, sessionId: viewer.sessionId, ip: meta.ip });
      this.outbox.queue(tx, { kind: MailKind.TWO_FACTOR_ENABLED, to: user.email, params: { username: user.username } });
      return { result: recoveryCodes, invalidations: [{ user: userId }] };
    });
    if (codes === null) {
      await recordAuthEventNow(this.pool, { type: AuthEventKind.MFA_CODE_FAILED, userId, ip: meta.ip });
      throw codeInvalid();
    }
    await this.throttle.clearAccountAttempts(accountKey);
    return codes;
  }

  /** A current authenticator code replaces every recovery code with 10 new ones. */
  async regenerateRecoveryCodes(
    em: EntityManager,
    viewer: ViewerRef,
    code: string,
    meta: RequestMeta,
  ): Promise<string[]> {
    const userId = viewer.userId;
    await this.assertEnabled(em, userId);
    await this.secondFactor.verify(em, userId, { code }, meta);
    return withInvalidations(em, this.principals, async (tx) => {
      await this.lockUser(tx, userId);
      const codes = await this.recoveryCodes.replaceAll(tx, userId);
      recordAuthEvent(tx, {
        type: AuthEventKind.MFA_RECOVERY_CODES_REGENERATED,
        userId,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
      return { result: codes, invalidations: [{ user: userId }] };
    });
  }

  /** A code or a recovery code removes the factor and its codes and ends the user's other sessions. */
  async disable(em: EntityManager, viewer: ViewerRef, proof: SecondFactorProof, meta: RequestMeta): Promise<void> {
    const userId = viewer.userId;
    await this.assertEnabled(em, userId);
    await this.secondFactor.verify(em, userId, proof, meta);
    await withInvalidations(em, this.principals, async (tx) => {
      const user = await this.lockUser(tx, userId);
      await tx.nativeDelete(TotpFactor, { user: userId });
      await this.recoveryCodes.removeAll(tx, userId);
      await tx.nativeUpdate(User, { id: userId }, { twoFactorEnabledAt: null, updatedAt: new Date() });
      const ended = await this.sessions.revokeAllOfUser(tx, userId, RevocationReason.REVOKED, viewer.sessionId);
      // A second factor the account no longer has is no longer this session's level.
      await this.sessions.lowerToPasswordOnly(tx, viewer.sessionId);
      recordAuthEvent(tx, { type: AuthEventKind.MFA_DISABLED, userId, sessionId: viewer.sessionId, ip: meta.ip });
      this.outbox.queue(tx, {
        kind: MailKind.TWO_FACTOR_DISABLED,
        to: user.email,
        params: { username: user.username },
      });
      return { result: undefined, invalidations: [...ended, { user: userId }] };
    });
  }

  /** TWO_FACTOR=off: no new enrolment (removal and the codes of enrolled accounts still work). */
  private assertOffered(): void {
    if (!this.settings.enabled) {
      throw new AuthError(AuthFailure.MFA_DISABLED, 'Two-factor enrolment is not offered here');
    }
  }

  private async assertEnabled(em: EntityManager, userId: string): Promise<void> {
    const user = await em.findOne(User, { id: userId }, { fields: ['twoFactorEnabledAt'], disableIdentityMap: true });
    if (!user || user.twoFactorEnabledAt === null) throw notEnabled();
  }

  /** Serialises the enrolment changes of one user. */
  private async lockUser(tx: EntityManager, userId: string): Promise<User> {
    const user = await tx.findOne(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (!user) throw new AuthError(AuthFailure.TOKEN_REVOKED, 'This session has ended');
    return user;
  }
}
