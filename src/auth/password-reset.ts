// The way back in for a user who forgot their password: a link mailed to the account's address,
// whose token sets a new password, ends every session and opens a fresh one. Asking for a link
// tells nobody whether the address has an account.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Config } from '../config.js';
import { OneTimeTokenPurpose, TokenTransport, User } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import { MailKind } from '../mail/mail-kind.js';
import type { Outbox } from '../mail/outbox.js';
import { normalizeEmail } from './accounts.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure, mailedTokenRefused } from './auth-error.js';
import { withInvalidations } from './invalidation.js';
import { assertMailFlows } from './mail-flows.js';
import { newOneTimeToken, type OneTimeTokens, type RedeemedToken } from './one-time-tokens.js';
import { queueResetLink } from './reset-link-statement.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import type { PrincipalService } from './principal.js';
import type { RequestMeta } from './request-meta.js';
import { type IssuedTokens, RevocationReason, type SessionService } from './sessions.js';
import { type Throttle, ThrottledAction } from './throttle.js';
import type { MfaChallenges } from './mfa/challenges.js';

/** Past this many link requests still queueing, the next one waits for one of them: a flood cannot pile up work. */
const MAX_DEFERRED_LINKS = 1024;

export class PasswordReset {
  /** The link requests still being looked up and queued after their answer went out. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Requests waiting for room among them, first come first served. */
  private readonly waiting: (() => void)[] = [];
  /** Rooms taken: in flight, or handed by one that ended to the request it woke. */
  private taken = 0;

  constructor(
    private readonly tokens: OneTimeTokens,
    private readonly outbox: Outbox,
    private readonly flows: Config['accountFlows'],
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly principals: PrincipalService,
    private readonly throttle: Throttle,
    private readonly logger: Logger,
    private readonly pool: pg.Pool,
    private readonly challenges: MfaChallenges,
  ) {}

  /**
   * Always true once the throttles let it through. The account is looked up, and its link queued,
   * after the answer: an address with an account and one without answer in the same time.
   */
  async request(rawEmail: string, meta: RequestMeta): Promise<boolean> {
    assertMailFlows(this.outbox);
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    const { key } = normalizeEmail(rawEmail);
    // Counted per address, known or not, so that the limit itself tells nothing either.
    await this.throttle.consumeAddressMail(key, meta.ip);
    // The wait is for other requests' work, never this one's: its length follows the load, not the address.
    if (this.waiting.length > 0 || this.taken >= MAX_DEFERRED_LINKS) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.taken += 1;
    }
    const work = this.queueLink(key, meta)
      .catch((error: unknown) => this.logger.error({ err: error }, 'queueing a password reset link failed'))
      .finally(() => {
        this.inFlight.delete(work);
        const next = this.waiting.shift();
        if (next) next();
        else this.taken -= 1;
      });
    this.inFlight.add(work);
    return true;
  }

  /** Resolves once every accepted request has been queued (or has failed): for shutdown. */
  async settle(): Promise<void> {
    // Requests let in as earlier ones finish are waited for too.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** One statement either way (reset-link-statement.ts), with a token and a link made either way. */
  private async queueLink(emailKey: string, meta: RequestMeta): Promise<void> {
    const { token, tokenHash } = newOneTimeToken();
    await queueResetLink(this.pool, {
      emailKey,
      tokenHash,
      link: this.outbox.link('resetPassword', token),
      ttlSeconds: this.flows.passwordResetTtlSeconds,
      ip: meta.ip,
    });
  }

  /**
   * Sets the new password from a mailed link. The password is checked before anything is written,
   * so a refused one leaves the link usable. Then, in one transaction: the token is used up, the
   * address counts as verified (the link proved it), every session ends, every reset link is
   * retired, a new session opens and the owner is sent a notice. An account with two-factor gets
   * no session from the link alone: the new password stands, and the answer is login's
   * MFA_REQUIRED challenge, so a mailbox without the authenticator never signs in.
   */
  async reset(
    em: EntityManager,
    token: string,
    newPassword: string,
    meta: RequestMeta,
    transport: TokenTransport = TokenTransport.BODY,
  ): Promise<IssuedTokens> {
    assertMailFlows(this.outbox);
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    const target = await this.tokens.inspect(em, token, OneTimeTokenPurpose.PASSWORD_RESET);
    const user = checkTarget(await em.findOne(User, { id: target.userId }, { refresh: true }), target);
    const password = checkPasswordPolicy(newPassword, [user.username, user.email], 'newPassword');
    const passwordHash = await this.passwords.hash(password);
    const reset = await withInvalidations(em, this.principals, async (tx) => {
      const redeemed = await this.tokens.redeem(tx, token, OneTimeTokenPurpose.PASSWORD_RESET);
      // Locked and read again: a change of address or a deactivation since the check above wins.
      const locked = checkTarget(
        await tx.findOne(User, { id: redeemed.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }),
        redeemed,
      );
      locked.passwordHash = passwordHash;
      locked.emailVerifiedAt ??= new Date();
      const ended = await this.sessions.revokeAllOfUser(tx, locked.id, RevocationReason.PASSWORD_RESET);
      // Every link: a pending email change asked for by whoever had the old password must die with it.
      await this.tokens.retire(tx, locked.id);
      // Device tokens carry a tag of the stored hash (credential-tag.ts): the new hash retires them all.
      const tokens = locked.twoFactorEnabledAt ? undefined : this.sessions.open(tx, locked, meta, transport);
      recordAuthEvent(tx, {
        type: AuthEventKind.PASSWORD_RESET,
        userId: locked.id,
        sessionId: tokens?.sessionId ?? null,
        ip: meta.ip,
      });
      this.outbox.queue(tx, {
        kind: MailKind.PASSWORD_CHANGED,
        to: locked.email,
        params: { username: locked.username, how: 'reset' },
      });
      return { result: tokens ?? { userId: locked.id }, invalidations: [...ended, { user: locked.id }] };
    });
    if ('accessToken' in reset) return reset;
    throw await this.challenges.loginChallenge({ id: reset.userId, passwordHash }, transport, meta);
  }
}

/** The link's account, as long as the link went to its current address and it may sign in. */
function checkTarget(user: User | null, token: RedeemedToken): User {
  if (!user || user.emailKey !== token.email.toLowerCase()) throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
  if (!user.isActive) throw new AuthError(AuthFailure.ACCOUNT_DISABLED, 'This account is disabled');
  return user;
}
