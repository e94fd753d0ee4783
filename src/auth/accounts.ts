// Sign-up and login. Both answer without telling a stranger which accounts exist: one reason for
// unknown user and wrong password, and the same argon2 work on both paths.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Config } from '../config.js';
import { OneTimeTokenPurpose, type Role, TokenTransport, User } from '../db/entities/index.js';
import { MailKind } from '../mail/mail-kind.js';
import type { Outbox } from '../mail/outbox.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure, invalidCredentials } from './auth-error.js';
import { checkPasswordPolicy, normalizePassword, type PasswordHasher } from './passwords.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import { withInvalidations } from './invalidation.js';
import type { CandidateAccount, LoginStatements, PresentedDevice } from './login-statements.js';
import type { MfaChallenges } from './mfa/challenges.js';
import type { SecondFactorProof } from './mfa/second-factor.js';
import type { OneTimeTokens } from './one-time-tokens.js';
import type { PrincipalService } from './principal.js';
import { type Counter, judgeIp, type Throttle, ThrottledAction, ThrottledError } from './throttle.js';
import { type IssuedTokens, RevocationReason, type SessionService } from './sessions.js';
import { toUserView, type UserView } from './user-view.js';
import { queueVerificationLink } from './verification-link.js';
import type { ViewerPasswordCheck } from './viewer-password.js';

const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
const EMAIL_MAX_LENGTH = 254;
const emailSchema = z.email();

export interface SignupRequest {
  username: string;
  email: string;
  password: string;
  /** How the session's tokens travel; BODY when absent. */
  transport?: TokenTransport;
}

export interface LoginRequest {
  usernameOrEmail: string;
  password: string;
  /** From an earlier signup or login on this client. */
  deviceToken?: string | null;
  /** How the session's tokens travel; BODY when absent. */
  transport?: TokenTransport;
}

export function normalizeUsername(raw: string): { username: string; key: string } {
  if (!USERNAME_PATTERN.test(raw)) {
    throw new AuthError(
      AuthFailure.INVALID_USERNAME,
      'Username must be 3 to 32 letters, digits, dots, dashes or underscores',
      'username',
    );
  }
  return { username: raw, key: raw.toLowerCase() };
}

export function normalizeEmail(raw: string, field = 'email'): { email: string; key: string } {
  const email = raw.trim();
  if (email.length > EMAIL_MAX_LENGTH || !emailSchema.safeParse(email).success) {
    throw new AuthError(AuthFailure.INVALID_EMAIL, 'Email address is not valid', field);
  }
  return { email, key: email.toLowerCase() };
}

export function accountExists(field: 'username' | 'email'): AuthError {
  return new AuthError(AuthFailure.ACCOUNT_EXISTS, `An account with this ${field} already exists`, field);
}

type CandidateUser = NonNullable<CandidateAccount['user']>;

export class AccountService {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
    private readonly statements: LoginStatements,
    private readonly principals: PrincipalService,
    private readonly oneTimeTokens: OneTimeTokens,
    private readonly outbox: Outbox,
    private readonly flows: Config['accountFlows'],
    private readonly viewerPassword: ViewerPasswordCheck,
    private readonly challenges: MfaChallenges,
  ) {}

  async signup(em: EntityManager, input: SignupRequest, meta: RequestMeta): Promise<IssuedTokens> {
    // SIGNUP_MODE=verified: signup, which tells whether an email has an account, is closed.
    if (this.flows.signupMode === 'verified') {
      throw new AuthError(AuthFailure.SIGNUP_DISABLED, 'Sign-up is closed on this server: use register');
    }
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey } = normalizeEmail(input.email);
    const password = checkPasswordPolicy(input.password, [username, email]);
    // A courtesy check for a precise message; the unique constraints are what guarantee it.
    const existing = await em.findOne(User, { $or: [{ usernameKey }, { emailKey }] }, { fields: ['usernameKey'] });
    if (existing) throw accountExists(existing.usernameKey === usernameKey ? 'username' : 'email');
    const passwordHash = await this.passwords.hash(password);
    let tokens: IssuedTokens | undefined;
    try {
      tokens = await em.transactional(async (tx) => {
        const user = tx.create(User, { username, usernameKey, email, emailKey, passwordHash });
        tx.persist(user);
        if (this.flows.requireVerifiedEmail) {
          // No session for an address nobody proved, as at login: the account waits for its link.
          await queueVerificationLink(tx, user, this.oneTimeTokens, this.outbox, this.flows);
          recordAuthEvent(tx, { type: AuthEventKind.SIGNUP, userId: user.id, ip: meta.ip });
          return undefined;
        }
        const opened = this.sessions.open(tx, user, meta, input.transport ?? TokenTransport.BODY);
        recordAuthEvent(tx, { type: AuthEventKind.SIGNUP, userId: user.id, sessionId: opened.sessionId, ip: meta.ip });
        return opened;
      });
    } catch (error) {
      throw this.translateUniqueViolation(error);
    }
    if (!tokens) {
      throw new AuthError(
        AuthFailure.EMAIL_NOT_VERIFIED,
        'The account is made: follow the link mailed to its address, then log in',
      );
    }
    return tokens;
  }

  /** Two simultaneous sign-ups race past the courtesy check; the constraint decides. */
  private translateUniqueViolation(error: unknown): unknown {
    if (error instanceof UniqueConstraintViolationException) {
      return accountExists(String(error.message).includes('users_email_key_unique') ? 'email' : 'username');
    }
    return error;
  }

  /** For operators (npm run user:create): an account with chosen roles, no session, its address taken as verified. */
  async createUser(em: EntityManager, input: SignupRequest & { roles: Role[] }): Promise<UserView> {
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey } = normalizeEmail(input.email);
    const passwordHash = await this.passwords.hash(checkPasswordPolicy(input.password, [username, email]));
    const user = em.create(User, {
      username,
      usernameKey,
      email,
      emailKey,
      passwordHash,
      roles: input.roles,
      emailVerifiedAt: new Date(),
    });
    try {
      await em.persist(user).flush();
    } catch (error) {
      throw this.translateUniqueViolation(error);
    }
    return toUserView(user);
  }

  /**
   * Charges the attempt to its counters, checks the password, then opens the session. `em` is
   * used only to mail a new verification link when REQUIRE_VERIFIED_EMAIL refuses the login.
   */
  async login(em: EntityManager, input: LoginRequest, meta: RequestMeta): Promise<IssuedTokens> {
    const attempt = await this.chargeAttempt(input, meta);
    const { user, newHash } = await this.checkPassword(attempt.user, input.password, meta);
    if (this.flows.requireVerifiedEmail && !user.emailVerified) {
      await this.refuseUnverified(em, user.id, attempt.charged, meta);
    }
    const transport = input.transport ?? TokenTransport.BODY;
    if (user.twoFactorEnabled) {
      // The password was right: its count starts over as on a success, and the second factor
      // has counts of its own (per challenge, per account).
      await this.throttle.clear(attempt.charged);
      // The challenge is bound to the hash stored when it is issued: upgrade it first.
      const passwordHash = newHash
        ? await this.statements.upgradeHash(user.id, user.passwordHash, newHash)
        : user.passwordHash;
      throw await this.challenges.loginChallenge({ id: user.id, passwordHash }, transport, meta);
    }
    return this.openSession(user, attempt.charged, newHash, meta, transport);
  }

  /**
   * The password was right but the address is not proven: the user cannot sign in to ask for a
   * link, so the refusal mails one (within the per-account mail limit). The attempt's count is
   * cleared as a success would: the owner who then verifies must not find the account locked.
   */
  private async refuseUnverified(
    em: EntityManager,
    userId: string,
    charged: Counter,
    meta: RequestMeta,
  ): Promise<never> {
    await this.throttle.clear(charged);
    const refusal = new AuthError(
      AuthFailure.EMAIL_NOT_VERIFIED,
      'Verify your email address first: a new link is on its way',
    );
    try {
      await this.throttle.consumeMailRequest(`user:${userId}`);
    } catch (error) {
      if (error instanceof ThrottledError) throw refusal;
      throw error;
    }
    await em.transactional(async (tx) => {
      const user = await tx.findOne(User, { id: userId, emailVerifiedAt: null });
      if (!user) return;
      await queueVerificationLink(tx, user, this.oneTimeTokens, this.outbox, this.flows);
      recordAuthEvent(tx, { type: AuthEventKind.EMAIL_VERIFICATION_REQUESTED, userId, ip: meta.ip });
    });
    throw refusal;
  }

  /**
   * Counts the attempt on the IP and on the account before any password is checked (the first of
   * the login's two statements), and refuses it when either is over its limit.
   */
  private async chargeAttempt(
    input: LoginRequest,
    meta: RequestMeta,
  ): Promise<{ user: CandidateUser | null; charged: Counter }> {
    const identifier = input.usernameOrEmail.trim().toLowerCase();
    // No account's name is longer than an email or holds a NUL (which PostgreSQL text cannot).
    const lookup = identifier.length > EMAIL_MAX_LENGTH || identifier.includes('\u0000') ? null : identifier;
    // Unknown names lock too, so that the lock does not tell which accounts exist.
    const unknownAccount = this.throttle.accountCounter(
      `unknown:${identifier.slice(0, EMAIL_MAX_LENGTH).replaceAll('\u0000', '')}`,
    );
    const ipCounter = this.throttle.ipCounter(ThrottledAction.CREDENTIALS, meta.ip);
    const device = this.presentedDevice(input.deviceToken);
    const now = Date.now();
    const { ipCount, account } = await this.statements.begin(now, ipCounter, lookup, unknownAccount, device);
    judgeIp(ipCounter, ipCount, now);
    if (!account) throw new Error('the login statement counted the IP within its budget but not the account');
    const charged = this.chargedCounter(account, device, unknownAccount);
    await this.throttle.judgeAccountAttempt(charged, account.count, now);
    return { user: account.user, charged };
  }

  /**
   * A device that has logged in to this account under its current password answers to a count
   * of its own rather than to the account's, so that a stranger's failures cannot keep the
   * owner out (OWASP, device cookies), and the owner's logins never lock it for anyone else.
   */
  private presentedDevice(token: string | null | undefined): PresentedDevice | undefined {
    const device = this.sessions.recogniseDevice(token);
    if (!device) return undefined;
    return {
      userId: device.sub,
      credential: device.cred,
      counter: this.throttle.accountCounter(`device:${device.jti}`),
    };
  }

  /** The counter the login statement charged the attempt to; a success clears it. */
  private chargedCounter(
    account: CandidateAccount,
    device: PresentedDevice | undefined,
    unknownAccount: Counter,
  ): Counter {
    if (device && account.deviceCounted) return device.counter;
    if (account.user) return this.throttle.accountCounter(account.user.id);
    return unknownAccount;
  }

  /**
   * The same argon2 work whether or not the account exists, and every refusal recorded. Returns
   * a new hash when the stored one was made under older parameters.
   */
  private async checkPassword(
    user: CandidateUser | null,
    password: string,
    meta: RequestMeta,
  ): Promise<{ user: CandidateUser; newHash: string | null }> {
    if (!user) {
      await this.passwords.verifyDummy(password);
      await this.statements.recordFailure(null, meta.ip);
      throw invalidCredentials();
    }
    const { valid, needsRehash } = await this.passwords.verify(user.passwordHash, password);
    if (!valid) {
      await this.statements.recordFailure(user.id, meta.ip);
      throw invalidCredentials();
    }
    if (!user.isActive) {
      await this.statements.recordFailure(user.id, meta.ip);
      throw new AuthError(AuthFailure.ACCOUNT_DISABLED, 'This account is disabled');
    }
    // Upgraded while the plain password is at hand. The policy is not re-applied: a password set
    // under an older policy must not lock its owner out.
    const newHash = needsRehash ? await this.passwords.hash(normalizePassword(password)) : null;
    return { user, newHash };
  }

  /**
   * The login's second statement: clears the charged count, and opens the session unless the
   * account changed while its hash was checked (the statement re-reads it under a lock).
   */
  private async openSession(
    user: CandidateUser,
    charged: Counter,
    newHash: string | null,
    meta: RequestMeta,
    transport: TokenTransport,
  ): Promise<IssuedTokens> {
    const session = this.sessions.newSessionRow(meta, transport);
    // A recognised device's success clears its own count only: the owner signing in must not
    // hand a stranger in the middle of guessing a fresh set of attempts.
    const completion = await this.statements.complete(charged.key, user.id, user.passwordHash, session, newHash);
    if (!completion.opened) {
      if (completion.disabled) throw new AuthError(AuthFailure.ACCOUNT_DISABLED, 'This account is disabled');
      throw invalidCredentials();
    }
    return this.sessions.issueFirst(session, completion.user, newHash ?? user.passwordHash);
  }

  /**
   * Fresh tokens for the viewer's current session, once they prove their password again, and for
   * an account with two-factor its second factor too (`proof`), which raises the session to aal 2:
   * without it, MFA_REQUIRED with a challenge for this session.
   */
  async reauthenticate(
    em: EntityManager,
    viewer: ViewerRef,
    password: string,
    proof: SecondFactorProof | undefined,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const user = await this.viewerPassword.confirm(em, viewer, password, meta);
    if (user.twoFactorEnabledAt === null) {
      if (proof) {
        throw new AuthError(AuthFailure.MFA_NOT_ENABLED, 'This account has no second factor: send the password alone');
      }
      return this.sessions.reissueFresh(em, viewer.sessionId, meta, AuthEventKind.REAUTHENTICATED);
    }
    if (!proof) throw await this.challenges.sessionChallenge(em, viewer, true, meta, user.passwordHash);
    const level = await this.challenges.prove(em, user.id, proof, meta);
    return this.sessions.reissueFresh(em, viewer.sessionId, meta, AuthEventKind.REAUTHENTICATED, level);
  }

  /**
   * Sets a new password, ends every other session of the user (whoever else held one may have
   * known the old password), retires outstanding reset links, notifies the owner by mail and
   * returns fresh tokens for this session.
   */
  async changePassword(
    em: EntityManager,
    viewer: ViewerRef,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const user = await this.viewerPassword.confirm(em, viewer, currentPassword, meta);
    const password = checkPasswordPolicy(newPassword, [user.username, user.email], 'newPassword');
    const passwordHash = await this.passwords.hash(password);
    return withInvalidations(em, this.principals, async (tx) => {
      // The update takes the row lock before the other sessions are listed, so a login in flight
      // either commits first (and its session is revoked here) or sees the new hash.
      await tx.nativeUpdate(User, { id: user.id }, { passwordHash, updatedAt: new Date() });
      const ended = await this.sessions.revokeAllOfUser(
        tx,
        user.id,
        RevocationReason.PASSWORD_CHANGED,
        viewer.sessionId,
      );
      const tokens = await this.sessions.reissueFreshIn(tx, viewer.sessionId, meta, AuthEventKind.PASSWORD_CHANGED);
      // A reset link mailed before the change must not undo it.
      // Whoever knew the old password may have asked for a reset or an email change: both links die.
      await this.oneTimeTokens.retire(tx, user.id, [
        OneTimeTokenPurpose.PASSWORD_RESET,
        OneTimeTokenPurpose.EMAIL_CHANGE,
      ]);
      this.outbox.queue(tx, {
        kind: MailKind.PASSWORD_CHANGED,
        to: user.email,
        params: { username: user.username, how: 'changed' },
      });
      return { result: tokens, invalidations: [...ended, { session: viewer.sessionId }] };
    });
  }

  /** Deletes the account with its sessions and data; the audit trail keeps the record. */
  async deleteAccount(em: EntityManager, viewer: ViewerRef, meta: RequestMeta): Promise<void> {
    await withInvalidations(em, this.principals, async (tx) => {
      await tx.nativeDelete(User, { id: viewer.userId });
      recordAuthEvent(tx, {
        type: AuthEventKind.ACCOUNT_DELETED,
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
      return { result: undefined, invalidations: [{ user: viewer.userId }] };
    });
  }
}
