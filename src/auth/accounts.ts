// Sign-up and login. Both answer without telling a stranger which accounts exist: one reason for
// unknown user and wrong password, and the same argon2 work on both paths.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { type Role, TokenTransport, User } from '../db/entities/index.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure } from './auth-error.js';
import { checkPasswordPolicy, normalizePassword, type PasswordHasher } from './passwords.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import { withInvalidations } from './invalidation.js';
import type { CandidateAccount, LoginStatements, PresentedDevice } from './login-statements.js';
import type { PrincipalService } from './principal.js';
import { type Counter, judgeIp, type Throttle, ThrottledAction } from './throttle.js';
import { type IssuedTokens, RevocationReason, type SessionService } from './sessions.js';
import { toUserView, type UserView } from './user-view.js';

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

export function normalizeEmail(raw: string): { email: string; key: string } {
  const email = raw.trim();
  if (email.length > EMAIL_MAX_LENGTH || !emailSchema.safeParse(email).success) {
    throw new AuthError(AuthFailure.INVALID_EMAIL, 'Email address is not valid', 'email');
  }
  return { email, key: email.toLowerCase() };
}

function accountExists(field: 'username' | 'email'): AuthError {
  return new AuthError(AuthFailure.ACCOUNT_EXISTS, `An account with this ${field} already exists`, field);
}

type CandidateUser = NonNullable<CandidateAccount['user']>;

function invalidCredentials(): AuthError {
  return new AuthError(AuthFailure.INVALID_CREDENTIALS, 'Invalid username, email or password');
}

export class AccountService {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
    private readonly statements: LoginStatements,
    private readonly principals: PrincipalService,
  ) {}

  async signup(em: EntityManager, input: SignupRequest, meta: RequestMeta): Promise<IssuedTokens> {
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey } = normalizeEmail(input.email);
    const password = checkPasswordPolicy(input.password, [username, email]);
    // A courtesy check for a precise message; the unique constraints are what guarantee it.
    const existing = await em.findOne(User, { $or: [{ usernameKey }, { emailKey }] }, { fields: ['usernameKey'] });
    if (existing) throw accountExists(existing.usernameKey === usernameKey ? 'username' : 'email');
    const passwordHash = await this.passwords.hash(password);
    try {
      return await em.transactional((tx) => {
        const user = tx.create(User, { username, usernameKey, email, emailKey, passwordHash });
        tx.persist(user);
        const tokens = this.sessions.open(tx, user, meta, input.transport ?? TokenTransport.BODY);
        recordAuthEvent(tx, { type: AuthEventKind.SIGNUP, userId: user.id, sessionId: tokens.sessionId, ip: meta.ip });
        return Promise.resolve(tokens);
      });
    } catch (error) {
      throw this.translateUniqueViolation(error);
    }
  }

  /** Two simultaneous sign-ups race past the courtesy check; the constraint decides. */
  private translateUniqueViolation(error: unknown): unknown {
    if (error instanceof UniqueConstraintViolationException) {
      return accountExists(String(error.message).includes('users_email_key_unique') ? 'email' : 'username');
    }
    return error;
  }

  /** For operators (npm run user:create): an account with chosen roles, no session. */
  async createUser(em: EntityManager, input: SignupRequest & { roles: Role[] }): Promise<UserView> {
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey } = normalizeEmail(input.email);
    const passwordHash = await this.passwords.hash(checkPasswordPolicy(input.password, [username, email]));
    const user = em.create(User, { username, usernameKey, email, emailKey, passwordHash, roles: input.roles });
    try {
      await em.persist(user).flush();
    } catch (error) {
      throw this.translateUniqueViolation(error);
    }
    return toUserView(user);
  }

  /** Charges the attempt to its counters, checks the password, then opens the session. */
  async login(input: LoginRequest, meta: RequestMeta): Promise<IssuedTokens> {
    const attempt = await this.chargeAttempt(input, meta);
    const { user, newHash } = await this.checkPassword(attempt.user, input.password, meta);
    return this.openSession(user, attempt.charged, newHash, meta, input.transport ?? TokenTransport.BODY);
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

  /** Fresh tokens for the viewer's current session, once they prove their password again. */
  async reauthenticate(
    em: EntityManager,
    viewer: ViewerRef,
    password: string,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    await this.confirmViewerPassword(em, viewer, password, meta);
    return this.sessions.reissueFresh(em, viewer.sessionId, meta, AuthEventKind.REAUTHENTICATED);
  }

  /**
   * Sets a new password, ends every other session of the user (whoever else held one may have
   * known the old password) and returns fresh tokens for this one.
   */
  async changePassword(
    em: EntityManager,
    viewer: ViewerRef,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const user = await this.confirmViewerPassword(em, viewer, currentPassword, meta);
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

  /**
   * The signed-in user's password check, throttled per IP like a login and counted per session
   * rather than on the account: a stranger's failures at login must not stop the owner from
   * confirming or changing their password, and a stolen session gets its own few guesses.
   */
  private async confirmViewerPassword(
    em: EntityManager,
    viewer: ViewerRef,
    password: string,
    meta: RequestMeta,
  ): Promise<User> {
    const userId = viewer.userId;
    const sessionKey = `session:${viewer.sessionId}`;
    await this.throttle.consumeIp(ThrottledAction.CREDENTIALS, meta.ip);
    await this.throttle.beginAccountAttempt(sessionKey);
    const user = await em.findOne(User, { id: userId });
    if (!user) throw new AuthError(AuthFailure.TOKEN_REVOKED, 'This session has ended');
    const { valid } = await this.passwords.verify(user.passwordHash, password);
    if (!valid) {
      await this.statements.recordFailure(userId, meta.ip);
      throw invalidCredentials();
    }
    await this.throttle.clearAccountAttempts(sessionKey);
    return user;
  }
}
