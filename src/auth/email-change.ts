// Moving an account to another address: the link goes to the new address, so only someone who
// reads it can complete the move; the old address is told afterwards, with no link that could
// undo it silently. The answer to a request never tells whether the address has an account.
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { OneTimeTokenPurpose, User } from '../db/entities/index.js';
import { MailKind } from '../mail/mail-kind.js';
import type { Outbox } from '../mail/outbox.js';
import { normalizeEmail } from './accounts.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure, mailedTokenRefused } from './auth-error.js';
import { withInvalidations } from './invalidation.js';
import { assertMailFlows } from './mail-flows.js';
import type { OneTimeTokens } from './one-time-tokens.js';
import type { PrincipalService } from './principal.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import { type Throttle, ThrottledAction } from './throttle.js';
import type { ViewerPasswordCheck } from './viewer-password.js';

/** j***@example.com: enough for the owner of the old address to recognise, not to learn it. */
function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

function addressTaken(): AuthError {
  return new AuthError(AuthFailure.ACCOUNT_EXISTS, 'Another account now uses this address', 'token');
}

export class EmailChangeService {
  constructor(
    private readonly viewerPassword: ViewerPasswordCheck,
    private readonly tokens: OneTimeTokens,
    private readonly outbox: Outbox,
    private readonly flows: Config['accountFlows'],
    private readonly principals: PrincipalService,
    private readonly throttle: Throttle,
  ) {}

  /**
   * Mails a confirmation link to `newEmail` once the viewer's password is confirmed. An address
   * that belongs to another account gets a notice instead, and the answer is the same.
   */
  async request(
    em: EntityManager,
    viewer: ViewerRef,
    newEmail: string,
    password: string,
    meta: RequestMeta,
  ): Promise<void> {
    assertMailFlows(this.outbox);
    const { email, key } = normalizeEmail(newEmail, 'newEmail');
    const user = await this.viewerPassword.confirm(em, viewer, password, meta);
    if (user.emailKey === key) {
      throw new AuthError(AuthFailure.INVALID_EMAIL, 'This is already the address of the account', 'newEmail');
    }
    // The link or the notice goes to that address either way: counted alike.
    await this.throttle.consumeAddressMail(key, meta.ip);
    const owner = await em.findOne(User, { emailKey: key }, { fields: ['email'] });
    await em.transactional(async (tx) => {
      if (owner) {
        // The previous link is retired on both paths, so that both do the same work.
        await this.tokens.retire(tx, user.id, [OneTimeTokenPurpose.EMAIL_CHANGE]);
        this.outbox.queue(tx, { kind: MailKind.SIGNUP_ATTEMPT, to: owner.email, params: { attempt: 'email-change' } });
      } else {
        const token = await this.tokens.issue(
          tx,
          user.id,
          OneTimeTokenPurpose.EMAIL_CHANGE,
          email,
          this.flows.emailChangeTtlSeconds,
        );
        this.outbox.queue(tx, {
          kind: MailKind.EMAIL_CHANGE,
          to: email,
          params: { username: user.username, link: this.outbox.link('confirmEmailChange', token) },
        });
      }
      recordAuthEvent(tx, {
        type: AuthEventKind.EMAIL_CHANGE_REQUESTED,
        userId: user.id,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
    });
  }

  /**
   * Redeems the link: the account moves to the address it was sent to, which the link proved,
   * every outstanding link of the account dies (those sent to the old address too), and the old
   * address is told. Nothing changes when another account took the address meanwhile.
   */
  async confirm(em: EntityManager, token: string, meta: RequestMeta): Promise<void> {
    assertMailFlows(this.outbox);
    // Counted like a login: each try is a guess at a token.
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    try {
      await withInvalidations(em, this.principals, async (tx) => {
        const { userId, email } = await this.tokens.redeem(tx, token, OneTimeTokenPurpose.EMAIL_CHANGE);
        const user = await tx.findOne(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        // A link mailed before the account was disabled does not move it.
        if (!user?.isActive) throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
        const emailKey = email.toLowerCase();
        const other = await tx.findOne(User, { emailKey, id: { $ne: userId } }, { fields: ['id'] });
        if (other) throw addressTaken();
        const oldEmail = user.email;
        await tx.nativeUpdate(
          User,
          { id: userId },
          { email, emailKey, emailVerifiedAt: new Date(), updatedAt: new Date() },
        );
        await this.tokens.retire(tx, userId);
        recordAuthEvent(tx, { type: AuthEventKind.EMAIL_CHANGED, userId, ip: meta.ip });
        this.outbox.queue(tx, {
          kind: MailKind.EMAIL_CHANGED,
          to: oldEmail,
          params: { username: user.username, newEmail: maskEmail(email) },
        });
        return { result: undefined, invalidations: [{ user: userId }] };
      });
    } catch (error) {
      // Taken between the check and the update, by a sign-up or another change.
      if (error instanceof UniqueConstraintViolationException) throw addressTaken();
      throw error;
    }
  }
}
