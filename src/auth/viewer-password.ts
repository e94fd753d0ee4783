import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../db/entities/index.js';
import { AuthError, AuthFailure, invalidCredentials } from './auth-error.js';
import type { LoginStatements } from './login-statements.js';
import type { PasswordHasher } from './passwords.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import { type Throttle, ThrottledAction } from './throttle.js';

/**
 * The signed-in user's password check before a sensitive change (reauthenticate, changePassword,
 * requestEmailChange), throttled per IP like a login and counted per session rather than on the
 * account: a stranger's failures at login must not stop the owner from confirming their password,
 * and a stolen session gets its own few guesses.
 */
export class ViewerPasswordCheck {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly throttle: Throttle,
    private readonly statements: LoginStatements,
  ) {}

  /** The viewer's user once `password` is theirs; INVALID_CREDENTIALS otherwise. */
  async confirm(em: EntityManager, viewer: ViewerRef, password: string, meta: RequestMeta): Promise<User> {
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
