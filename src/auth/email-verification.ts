// Proving an address: a signed-in user asks for a link to their current address, and whoever opens
// it (signed in or not) redeems its token. The link proves the address it was sent to, so it counts
// only while that is still the account's address. The link `register` mails lands here too.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { OneTimeTokenPurpose, User } from '../db/entities/index.js';
import type { Outbox } from '../mail/outbox.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure, mailedTokenRefused } from './auth-error.js';
import { withInvalidations } from './invalidation.js';
import { assertMailFlows } from './mail-flows.js';
import type { OneTimeTokens } from './one-time-tokens.js';
import type { PrincipalService } from './principal.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import type { RegistrationService } from './registration.js';
import { type Throttle, ThrottledAction } from './throttle.js';
import { queueVerificationLink } from './verification-link.js';

export class EmailVerification {
  constructor(
    private readonly tokens: OneTimeTokens,
    private readonly registrations: RegistrationService,
    private readonly outbox: Outbox,
    private readonly flows: Config['accountFlows'],
    private readonly principals: PrincipalService,
    private readonly throttle: Throttle,
  ) {}

  /** Mails the viewer a link to verify their current address; nothing when it is verified already. */
  async request(em: EntityManager, viewer: ViewerRef, meta: RequestMeta): Promise<boolean> {
    assertMailFlows(this.outbox);
    const user = await em.findOne(User, { id: viewer.userId }, { refresh: true });
    if (!user) throw new AuthError(AuthFailure.TOKEN_REVOKED, 'This session has ended');
    if (user.emailVerifiedAt !== null) return true;
    await this.throttle.consumeMailRequest(`user:${user.id}`);
    await em.transactional(async (tx) => {
      await queueVerificationLink(tx, user, this.tokens, this.outbox, this.flows);
      recordAuthEvent(tx, {
        type: AuthEventKind.EMAIL_VERIFICATION_REQUESTED,
        userId: user.id,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
    });
    return true;
  }

  /**
   * Redeems a verification link: an account's, which marks its address verified, or a pending
   * registration's, which makes the account. Counted per IP like the other credentials.
   */
  async verify(em: EntityManager, token: string, meta: RequestMeta): Promise<boolean> {
    assertMailFlows(this.outbox);
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    if (await this.tokens.holds(em, token, OneTimeTokenPurpose.EMAIL_VERIFICATION)) {
      await this.verifyAddress(em, token, meta);
    } else {
      await this.registrations.redeemPending(em, token, meta);
    }
    return true;
  }

  /** The cached user is invalidated on every instance, so `emailVerified` reads true on the very next request. */
  private async verifyAddress(em: EntityManager, token: string, meta: RequestMeta): Promise<void> {
    await withInvalidations(em, this.principals, async (tx) => {
      const redeemed = await this.tokens.redeem(tx, token, OneTimeTokenPurpose.EMAIL_VERIFICATION);
      const user = await tx.findOne(
        User,
        { id: redeemed.userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      // Thrown inside the transaction: the token's redemption rolls back with it. A disabled
      // account's link, or one sent to an address the account has left, proves nothing.
      if (!user?.isActive || user.emailKey !== redeemed.email.toLowerCase()) {
        throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
      }
      user.emailVerifiedAt ??= new Date();
      recordAuthEvent(tx, { type: AuthEventKind.EMAIL_VERIFIED, userId: user.id, ip: meta.ip });
      return { result: undefined, invalidations: [{ user: user.id }] };
    });
  }
}
