// What ADMINs do to other accounts: roles, activation, and reading the audit trail. Each change
// counts from the user's very next request, on every instance.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthEvent, type Role, User } from '../db/entities/index.js';
import { AuthEventType, recordAuthEvent } from './audit.js';
import { RevocationReason, type SessionService } from './sessions.js';
import type { RequestMeta } from './request-meta.js';
import { toUserView, type UserView } from './user-view.js';

export const MAX_EVENTS_PAGE = 200;

export class AccountAdministration {
  constructor(private readonly sessions: SessionService) {}

  /** null when there is no such user. */
  async setRoles(
    em: EntityManager,
    actorId: string,
    userId: string,
    roles: Role[],
    meta: RequestMeta,
  ): Promise<UserView | null> {
    return this.sessions.mutate(em, async (tx) => {
      const user = await tx.findOne(User, { id: userId });
      if (!user) return { result: null, invalidations: [] };
      user.roles = [...new Set(roles)];
      recordAuthEvent(tx, { type: AuthEventType.ROLES_CHANGED, userId, ip: meta.ip, actorId });
      return { result: toUserView(user), invalidations: [{ user: userId }] };
    });
  }

  /** Deactivation ends every session of the user; null when there is no such user. */
  async setActive(
    em: EntityManager,
    actorId: string,
    userId: string,
    active: boolean,
    meta: RequestMeta,
  ): Promise<UserView | null> {
    return this.sessions.mutate(em, async (tx) => {
      // Locked first, so that a login in flight either commits its session before the sessions
      // are revoked below, or sees the account disabled.
      const user = await tx.findOne(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!user) return { result: null, invalidations: [] };
      user.isActive = active;
      const ended = active ? [] : await this.sessions.revokeAllOfUser(tx, userId, RevocationReason.ACCOUNT_DISABLED);
      recordAuthEvent(tx, {
        type: active ? AuthEventType.ACCOUNT_ENABLED : AuthEventType.ACCOUNT_DISABLED,
        userId,
        ip: meta.ip,
        actorId,
      });
      return { result: toUserView(user), invalidations: [{ user: userId }, ...ended] };
    });
  }

  /** Newest first. */
  listEvents(em: EntityManager, userId: string | undefined, limit: number): Promise<AuthEvent[]> {
    return em.find(AuthEvent, userId ? { userId } : {}, { orderBy: { id: 'desc' }, limit });
  }
}
