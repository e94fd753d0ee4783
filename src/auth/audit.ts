// The audit trail: who did what, from where, and when. Never a password or a token.
// The only writer of `auth_events`: every row is written by a function or SQL fragment from here.
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { AuthEvent } from '../db/entities/index.js';
import { namedSql } from './named-sql.js';

export enum AuthEventKind {
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
  /** An account made when a `register` link is followed: verified, with no session. */
  REGISTERED = 'REGISTERED',
  /** `register` with an address that has an account: recorded on that account, nothing created. */
  REGISTER_EXISTING_EMAIL = 'REGISTER_EXISTING_EMAIL',
  EMAIL_VERIFICATION_REQUESTED = 'EMAIL_VERIFICATION_REQUESTED',
  EMAIL_VERIFIED = 'EMAIL_VERIFIED',
  PASSWORD_RESET_REQUESTED = 'PASSWORD_RESET_REQUESTED',
  PASSWORD_RESET = 'PASSWORD_RESET',
  EMAIL_CHANGE_REQUESTED = 'EMAIL_CHANGE_REQUESTED',
  EMAIL_CHANGED = 'EMAIL_CHANGED',
  MFA_ENROLLMENT_STARTED = 'MFA_ENROLLMENT_STARTED',
  MFA_ENABLED = 'MFA_ENABLED',
  MFA_DISABLED = 'MFA_DISABLED',
  MFA_RECOVERY_CODES_REGENERATED = 'MFA_RECOVERY_CODES_REGENERATED',
  /** A password was right and a second factor is awaited (login, reauthenticate). */
  MFA_CHALLENGE_ISSUED = 'MFA_CHALLENGE_ISSUED',
  MFA_CHALLENGE_COMPLETED = 'MFA_CHALLENGE_COMPLETED',
  MFA_CODE_FAILED = 'MFA_CODE_FAILED',
  MFA_RECOVERY_CODE_USED = 'MFA_RECOVERY_CODE_USED',
}

export interface AuthEventInput {
  type: AuthEventKind;
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

const INSERT_NOW = namedSql<{ type: AuthEventKind; userId: string | null; ip: string | null; at: Date }>(
  'insert into auth_events (type, user_id, ip, created_at) values (:type, :userId, :ip, :at)',
);

/** The placeholders of `recordUserEventSql`. */
export interface UserEventParams {
  eventType: AuthEventKind;
  eventIp: string | null;
  eventAt: Date;
}

/**
 * An insert (for a WITH list) recording one event on the user `users` (a CTE returning at most
 * one `id`) yields, or on no user when it yields none: the row is written either way.
 */
export function recordUserEventSql(users: string): string {
  return `insert into auth_events (type, user_id, ip, created_at)
    values (:eventType, (select id from ${users}), :eventIp, :eventAt)`;
}

/** Writes the event at once, in a transaction of its own: a failure stays recorded whatever follows. */
export async function recordAuthEventNow(
  pool: pg.Pool,
  event: Pick<AuthEventInput, 'type' | 'userId' | 'ip'>,
): Promise<void> {
  await pool.query({
    name: 'auth-event-now',
    text: INSERT_NOW.text,
    values: INSERT_NOW.values({ type: event.type, userId: event.userId ?? null, ip: event.ip ?? null, at: new Date() }),
  });
}

/** Deletes the events older than `retentionSeconds`; returns how many. */
export async function purgeAuthEvents(em: EntityManager, retentionSeconds: number): Promise<number> {
  return em.nativeDelete(AuthEvent, { createdAt: { $lt: new Date(Date.now() - retentionSeconds * 1000) } });
}

/** The placeholders of `recordSessionEventSql`. */
export interface SessionEventParams {
  eventType: AuthEventKind;
  eventUserId: string;
  eventIp: string | null;
  eventAt: Date;
}

/**
 * An insert (for a WITH list) recording one event per session that `openedSessions` (a CTE
 * returning `id`) yields, so that the event commits with the session or not at all.
 */
export function recordSessionEventSql(openedSessions: string): string {
  return `insert into auth_events (type, user_id, session_id, ip, created_at)
    select :eventType, :eventUserId, id, :eventIp, :eventAt from ${openedSessions}`;
}

/** The placeholders of `recordEventRowsSql`. */
export interface EventRowParams {
  eventIp: string | null;
  eventAt: Date;
}

/**
 * An insert (for a WITH list) recording one event per row that `events` (a CTE or subquery
 * returning `type`, `user_id`, `session_id`) yields, so that each commits with the change it records.
 */
export function recordEventRowsSql(events: string): string {
  return `insert into auth_events (type, user_id, session_id, ip, created_at)
    select type, user_id, session_id, :eventIp, :eventAt from ${events}`;
}
