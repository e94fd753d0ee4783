// The audit trail: who did what, from where, and when. Never a password or a token. A login
// writes its events inside its own statements (login-statements.ts).
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthEvent } from '../db/entities/index.js';

export enum AuthEventType {
  SIGNUP = 'SIGNUP',
  LOGIN_SUCCEEDED = 'LOGIN_SUCCEEDED',
  LOGIN_FAILED = 'LOGIN_FAILED',
  REFRESH = 'REFRESH',
  REFRESH_REUSE_DETECTED = 'REFRESH_REUSE_DETECTED',
  LOGOUT = 'LOGOUT',
  SESSION_REVOKED = 'SESSION_REVOKED',
  REAUTHENTICATED = 'REAUTHENTICATED',
  PASSWORD_CHANGED = 'PASSWORD_CHANGED',
  ROLES_CHANGED = 'ROLES_CHANGED',
  ACCOUNT_DISABLED = 'ACCOUNT_DISABLED',
  ACCOUNT_ENABLED = 'ACCOUNT_ENABLED',
  ACCOUNT_DELETED = 'ACCOUNT_DELETED',
}

export interface AuthEventInput {
  type: AuthEventType;
  userId?: string | null;
  /** Set when someone other than the user acted on the account. */
  actorId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
}

/** Queues the event on `em`: it is written with the rest of the unit of work, or not at all. */
export function recordAuthEvent(em: EntityManager, event: AuthEventInput): void {
  em.persist(
    em.create(AuthEvent, {
      type: event.type,
      userId: event.userId ?? null,
      actorId: event.actorId ?? null,
      sessionId: event.sessionId ?? null,
      ip: event.ip ?? null,
    }),
  );
}
