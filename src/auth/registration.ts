// The sign-up that reveals nothing: for a free username it answers true, in the same time,
// whether or not the email has an account. Only the mailbox's owner learns which it was. The only
// writer of `registrations`: a new email waits there, taking nothing, until its link is followed.
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { Registration, User } from '../db/entities/index.js';
import { MailKind } from '../mail/mail-kind.js';
import type { Outbox } from '../mail/outbox.js';
import { accountExists, normalizeEmail, normalizeUsername, type SignupRequest } from './accounts.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthFailure, mailedTokenRefused } from './auth-error.js';
import { assertMailFlows } from './mail-flows.js';
import { EXPIRED_RETENTION_MS, mailedTokenHash, newOneTimeToken } from './one-time-tokens.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import type { RequestMeta } from './request-meta.js';
import { type Throttle, ThrottledAction } from './throttle.js';
import { queueVerificationMail } from './verification-link.js';

type PendingAccount = Pick<Registration, 'username' | 'usernameKey' | 'email' | 'emailKey' | 'passwordHash'>;

/** A newer registration of an address replaces the older, whose link dies with it. */
const UPSERT_PENDING_SQL = `
  insert into registrations (id, username, username_key, email, email_key, password_hash, token_hash, created_at, expires_at)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict (email_key) do update set
    id = excluded.id, username = excluded.username, username_key = excluded.username_key, email = excluded.email,
    password_hash = excluded.password_hash, token_hash = excluded.token_hash, created_at = excluded.created_at,
    expires_at = excluded.expires_at`;

export class RegistrationService {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly throttle: Throttle,
    private readonly outbox: Outbox,
    private readonly flows: Config['accountFlows'],
  ) {}

  /**
   * A new email gets a pending registration and a verification link, and no account until the
   * link is followed; a taken one gets nothing but a notice to its owner. Both hash the password
   * and write one transaction, and neither takes the username, so nothing tells them apart.
   * A username taken by an account is refused: usernames are public. Throttled per IP like
   * signup, and per address like the other mails asked for.
   */
  async register(em: EntityManager, input: SignupRequest, meta: RequestMeta): Promise<void> {
    assertMailFlows(this.outbox);
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey } = normalizeEmail(input.email);
    const password = checkPasswordPolicy(input.password, [username, email]);
    const taken = await em.find(User, { $or: [{ usernameKey }, { emailKey }] }, { fields: ['usernameKey', 'email'] });
    if (taken.some((user) => user.usernameKey === usernameKey)) throw accountExists('username');
    // Either path mails the address: counted alike, so that nobody floods a mailbox through it,
    // and the limit tells nothing either.
    await this.throttle.consumeAddressMail(emailKey, meta.ip);
    const passwordHash = await this.passwords.hash(password);
    const owner = taken[0];
    if (owner) return this.notifyOwner(em, owner, meta);
    await this.storePending(em, { username, usernameKey, email, emailKey, passwordHash });
  }

  /**
   * Completes the registration whose link carried `token`: the account is made, its address
   * verified. The first link followed wins a username or an address; a later one is refused with
   * ACCOUNT_EXISTS and its registration is gone (register again).
   */
  async redeemPending(em: EntityManager, token: string, meta: RequestMeta): Promise<void> {
    const tokenHash = mailedTokenHash(token);
    let pendingId: string | undefined;
    try {
      const refusal = await em.transactional(async (tx) => {
        const pending = await tx.findOne(Registration, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!pending) throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
        if (pending.expiresAt.getTime() <= Date.now()) throw mailedTokenRefused(AuthFailure.TOKEN_EXPIRED);
        pendingId = pending.id;
        await tx.nativeDelete(Registration, { id: pending.id });
        const taken = await tx.findOne(
          User,
          { $or: [{ usernameKey: pending.usernameKey }, { emailKey: pending.emailKey }] },
          { fields: ['usernameKey'] },
        );
        // Returned, not thrown: the registration's deletion is kept.
        if (taken) return accountExists(taken.usernameKey === pending.usernameKey ? 'username' : 'email');
        this.createAccount(tx, pending, meta);
        return undefined;
      });
      if (refusal) throw refusal;
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      // An account took the username or address between the check and the insert.
      await em.nativeDelete(Registration, { id: pendingId });
      throw accountExists(String(error.message).includes('users_email_key_unique') ? 'email' : 'username');
    }
  }

  /** Deletes registrations expired for more than a day (until then their link says TOKEN_EXPIRED). */
  async purgeExpired(em: EntityManager): Promise<number> {
    return em.nativeDelete(Registration, { expiresAt: { $lt: new Date(Date.now() - EXPIRED_RETENTION_MS) } });
  }

  private async storePending(em: EntityManager, account: PendingAccount): Promise<void> {
    const { token, tokenHash } = newOneTimeToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.flows.emailVerificationTtlSeconds * 1000);
    await em.transactional(async (tx) => {
      await tx.execute(UPSERT_PENDING_SQL, [
        randomUUID(),
        account.username,
        account.usernameKey,
        account.email,
        account.emailKey,
        account.passwordHash,
        tokenHash,
        now,
        expiresAt,
      ]);
      queueVerificationMail(tx, this.outbox, account, token);
    });
  }

  private createAccount(tx: EntityManager, account: PendingAccount, meta: RequestMeta): void {
    const { username, usernameKey, email, emailKey, passwordHash } = account;
    const user = tx.create(User, { username, usernameKey, email, emailKey, passwordHash, emailVerifiedAt: new Date() });
    tx.persist(user);
    recordAuthEvent(tx, { type: AuthEventKind.REGISTERED, userId: user.id, ip: meta.ip });
  }

  private async notifyOwner(em: EntityManager, owner: Pick<User, 'id' | 'email'>, meta: RequestMeta): Promise<void> {
    await em.transactional((tx) => {
      this.outbox.queue(tx, { kind: MailKind.SIGNUP_ATTEMPT, to: owner.email, params: { attempt: 'register' } });
      recordAuthEvent(tx, { type: AuthEventKind.REGISTER_EXISTING_EMAIL, userId: owner.id, ip: meta.ip });
      return Promise.resolve();
    });
  }
}
