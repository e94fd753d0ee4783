// The audit trail: who did what, from where, and when. Never a password or a token.
// The only writer of `auth_events`: every row is written by a function or SQL fragment from here.
// Every row also goes to the security log (observability/security-log.ts) as one line, written
// here once the row is committed (durable too, but for a reset link's request, which commits
// without waiting for the flush: reset-link-statement.ts): rows queued on an EntityManager when its transaction commits
// (a subscriber on the ORM's events), the immediate insert when it returned, and the SQL
// fragments inside other modules' statements through `statementRecorded`, which the function
// running the statement calls once it returned: the statement stays one round trip, and audit.ts
// still decides what a line says. A row rolled back is never logged.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventSubscriber, TransactionEventArgs } from '@mikro-orm/core';
import type pg from 'pg';
import { AuthEvent } from '../db/entities/index.js';
import { deleteInBatches, ormBatch, type PurgeCount, type PurgeOptions } from './batched-delete.js';
import type { SecurityEventName, SecurityLog } from '../observability/security-log.js';
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

/** Each kind's name in the OWASP Logging Vocabulary: a new kind does not compile without one. */
export const SECURITY_EVENT_NAMES: Readonly<Record<AuthEventKind, SecurityEventName>> = {
  SIGNUP: 'user_created',
  LOGIN_SUCCEEDED: 'authn_login_success',
  LOGIN_FAILED: 'authn_login_fail',
  REFRESH: 'session_renewed',
  REFRESH_REUSE_DETECTED: 'authn_token_reuse',
  LOGOUT: 'session_revoked',
  SESSION_REVOKED: 'session_revoked',
  REAUTHENTICATED: 'authn_login_success',
  PASSWORD_CHANGED: 'authn_password_change',
  ROLES_CHANGED: 'authz_change',
  ACCOUNT_DISABLED: 'user_archived',
  ACCOUNT_ENABLED: 'user_updated',
  ACCOUNT_DELETED: 'user_deleted',
  REGISTERED: 'user_created',
  REGISTER_EXISTING_EMAIL: 'user_updated',
  EMAIL_VERIFICATION_REQUESTED: 'authn_token_created',
  EMAIL_VERIFIED: 'user_updated',
  PASSWORD_RESET_REQUESTED: 'authn_token_created',
  PASSWORD_RESET: 'authn_password_change',
  EMAIL_CHANGE_REQUESTED: 'authn_token_created',
  EMAIL_CHANGED: 'user_updated',
  MFA_ENROLLMENT_STARTED: 'user_updated',
  MFA_ENABLED: 'user_updated',
  MFA_DISABLED: 'user_updated',
  MFA_RECOVERY_CODES_REGENERATED: 'authn_token_created',
  MFA_CHALLENGE_ISSUED: 'authn_token_created',
  MFA_CHALLENGE_COMPLETED: 'authn_login_success',
  MFA_CODE_FAILED: 'authn_login_fail',
  MFA_RECOVERY_CODE_USED: 'authn_token_delete',
};

/** Events queued on an EntityManager, logged when its transaction commits. */
const queuedLines = new WeakMap<EntityManager, AuthEventInput[]>();
/** The security log of each ORM (by its event manager) and statement pool Tessera serves from. */
const securityLogs = new WeakMap<object, SecurityLog>();

function writeLine(log: SecurityLog | undefined, event: AuthEventInput): void {
  log?.write({
    name: SECURITY_EVENT_NAMES[event.type],
    kind: event.type,
    userId: event.userId ?? null,
    actorId: event.actorId ?? null,
    sessionId: event.sessionId ?? null,
    ip: event.ip ?? null,
  });
}

/**
 * Sends the audit events written through `em`'s ORM and through `pools` to `log` as well, until
 * the returned function detaches it. A savepoint's release counts as its commit.
 */
export function attachSecurityLog(em: EntityManager, pools: readonly pg.Pool[], log: SecurityLog): () => void {
  const events = em.getEventManager();
  if (!securityLogs.has(events)) {
    const subscriber: EventSubscriber = {
      afterTransactionCommit: ({ em: committed }: TransactionEventArgs) => {
        const lines = queuedLines.get(committed as EntityManager);
        if (!lines) return;
        queuedLines.delete(committed as EntityManager);
        for (const event of lines) writeLine(securityLogs.get(events), event);
      },
      afterTransactionRollback: ({ em: rolledBack }: TransactionEventArgs) => {
        queuedLines.delete(rolledBack as EntityManager);
      },
    };
    events.registerSubscriber(subscriber);
  }
  for (const owner of [events, ...pools]) securityLogs.set(owner, log);
  return () => {
    for (const owner of [events, ...pools]) if (securityLogs.get(owner) === log) securityLogs.delete(owner);
  };
}

/** For the function that ran a statement holding one of the SQL fragments below, once it returned. */
export function statementRecorded(pool: pg.Pool, event: AuthEventInput): void {
  writeLine(securityLogs.get(pool), event);
}

/** Queues the event on `em`: it is written with the rest of the unit of work, or not at all. */
export function recordAuthEvent(em: EntityManager, event: AuthEventInput): void {
  const lines = queuedLines.get(em);
  if (lines) lines.push(event);
  else queuedLines.set(em, [event]);
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
  statementRecorded(pool, event);
}

// Oldest first through auth_events_created_at_index, which exists for this purge.
export const AUTH_EVENT_PURGE_SQL = `delete from auth_events where created_at < ? and id = any(array(
    select id from auth_events where created_at < ? order by created_at limit ?))`;

/** Deletes the events older than `retentionSeconds`, in batches. */
export async function purgeAuthEvents(
  em: EntityManager,
  retentionSeconds: number,
  options: PurgeOptions = {},
): Promise<PurgeCount> {
  const before = new Date(Date.now() - retentionSeconds * 1000);
  return deleteInBatches(ormBatch(em, AUTH_EVENT_PURGE_SQL, [before, before]), options);
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
