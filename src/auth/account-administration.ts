// What ADMINs do to other accounts: roles, activation, their sessions, and reading the audit trail. Each change
// counts from the user's very next request, on every instance, and ends the grace window of the
// user's refresh tokens: none issued before the change can be exchanged again.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type AuthEvent, type Role, type Session, User } from '../db/entities/index.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { withInvalidations } from './invalidation.js';
import type { PrincipalService } from './principal.js';
import { RevocationReason, type SessionService } from './sessions.js';
import type { RequestMeta } from './request-meta.js';
import { toUserView, type UserView } from './user-view.js';

export const MAX_EVENTS_PAGE = 200;

export type AuthEventRecord = Omit<AuthEvent, 'type'> & { type: AuthEventKind };

const EVENTS_SQL = 'select id, type, user_id, actor_id, session_id, ip, created_at from auth_events';

/** As the driver returns them: bigint and timestamptz as strings (MikroORM's type parsers). */
interface AuthEventRow {
  id: string;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  session_id: string | null;
  ip: string | null;
  created_at: string;
}

export class AccountAdministration {
  constructor(
    private readonly sessions: SessionService,
    private readonly principals: PrincipalService,
  ) {}

  /** null when there is no such user. */
  async setRoles(
    em: EntityManager,
    actorId: string,
    userId: string,
    roles: Role[],
    meta: RequestMeta,
  ): Promise<UserView | null> {
    return withInvalidations(em, this.principals, async (tx) => {
      const user = await tx.findOne(User, { id: userId });
      if (!user) return { result: null, invalidations: [] };
      user.roles = [...new Set(roles)];
      await this.sessions.endGraceWindows(tx, userId);
      recordAuthEvent(tx, { type: AuthEventKind.ROLES_CHANGED, userId, ip: meta.ip, actorId });
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
    return withInvalidations(em, this.principals, async (tx) => {
      // Locked first, so that a login in flight either commits its session before the sessions
      // are revoked below, or sees the account disabled.
      const user = await tx.findOne(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!user) return { result: null, invalidations: [] };
      user.isActive = active;
      if (active) await this.sessions.endGraceWindows(tx, userId);
      const ended = active ? [] : await this.sessions.revokeAllOfUser(tx, userId, RevocationReason.ACCOUNT_DISABLED);
      recordAuthEvent(tx, {
        type: active ? AuthEventKind.ACCOUNT_ENABLED : AuthEventKind.ACCOUNT_DISABLED,
        userId,
        ip: meta.ip,
        actorId,
      });
      return { result: toUserView(user), invalidations: [{ user: userId }, ...ended] };
    });
  }

  /** The user's live sessions, most recently used first; null when there is no such user. */
  async listSessions(em: EntityManager, userId: string): Promise<Session[] | null> {
    if (!(await em.count(User, { id: userId }))) return null;
    return this.sessions.listLive(em, userId);
  }

  /**
   * Ends every live session of the user, each recorded with the actor; returns how many ended,
   * or null when there is no such user. Their tokens fail on the next request, on every instance.
   */
  async revokeSessions(em: EntityManager, actorId: string, userId: string, meta: RequestMeta): Promise<number | null> {
    return withInvalidations(em, this.principals, async (tx) => {
      if (!(await tx.count(User, { id: userId }))) return { result: null, invalidations: [] };
      const ended = await this.sessions.revokeAllOfUser(tx, userId, RevocationReason.ADMIN_REVOKED);
      for (const invalidation of ended) {
        const sessionId = 'session' in invalidation ? invalidation.session : null;
        recordAuthEvent(tx, { type: AuthEventKind.SESSION_REVOKED, userId, sessionId, ip: meta.ip, actorId });
      }
      return { result: ended.length, invalidations: ended };
    });
  }

  /**
   * Newest first. Read as rows, not entities: nothing here is changed, and hydrating a page of
   * 50 into the identity map cost more than the query (bench/HISTORY.md).
   */
  async listEvents(em: EntityManager, userId: string | undefined, limit: number): Promise<AuthEventRecord[]> {
    const rows = userId
      ? await em.execute<AuthEventRow[]>(`${EVENTS_SQL} where user_id = ? order by id desc limit ?`, [userId, limit])
      : await em.execute<AuthEventRow[]>(`${EVENTS_SQL} order by id desc limit ?`, [limit]);
    return rows.map((row) => ({
      id: row.id,
      // Every row holds an AuthEventKind: audit.ts is the table's only writer.
      type: row.type as AuthEventKind,
      userId: row.user_id,
      actorId: row.actor_id,
      sessionId: row.session_id,
      ip: row.ip,
      createdAt: new Date(row.created_at),
    }));
  }
}
