// A refresh's whole decision in one statement, the sessions module's own SQL (sessions.ts stays
// the only writer of `sessions`, and this file writes them for it): lock the session row, judge
// the token against it, rotate or end the session, record the event and announce the change,
// committed before the answer. Each round trip to PostgreSQL, and the ORM's unit of work around
// each, cost more than the SQL itself (bench/HISTORY.md). The IP's count stays a statement of its
// own, committed first: its row is every refresh's from that IP, and here its lock would last until
// the rotation's commit had reached the disk. The two go out together, in one round trip.
import type pg from 'pg';
import type { Role, TokenTransport } from '../db/entities/index.js';
import { pipelined } from '../db/pipelined.js';
import { AuthEventKind, type EventRowParams, recordEventRowsSql, statementRecorded } from './audit.js';
import { type Count, type CountRow, overLimitSql, toCount } from './counters.js';
import { announceSessionsSql } from './invalidation.js';
import { namedSql } from './named-sql.js';
import type { CountingStatement } from './throttle.js';
import type { UserView } from './user-view.js';

/** What the statement decided, in the order it judges. */
export enum RefreshVerdict {
  /** The IP is past its refresh budget: nothing locked, judged or written. */
  THROTTLED = 'THROTTLED',
  /** No such live session of this user, or the user is disabled. */
  ENDED = 'ENDED',
  /** Past its absolute end or idle too long: ended now (INACTIVE). */
  EXPIRED = 'EXPIRED',
  /** The current token: rotated to the new jti. */
  ROTATED = 'ROTATED',
  /** The parent, retired by a credential change: refused, the session lives on. */
  RETIRED = 'RETIRED',
  /** The parent inside the reuse interval: the current generation again, nothing written. */
  GRACE = 'GRACE',
  /** Any other token of the family: the session is ended (REFRESH_TOKEN_REUSED). */
  REUSED = 'REUSED',
}

export interface RefreshRequest {
  sessionId: string;
  userId: string;
  /** The presented token's jti. */
  jti: string;
  /** The jti the session rotates to, when the token is its current one. */
  nextJti: string;
  ipAddress: string | null;
  at: Date;
  /** Sessions last used at or before this are idle (null: no inactivity timeout). */
  idleBefore: Date | null;
  /** A parent rotated away at or after this is still inside the reuse interval. */
  graceSince: Date;
  revokedReasons: { expired: string; reused: string };
  /** This attempt's count on the IP, sent ahead of the decision. */
  attempt: CountingStatement;
}

/** The session as the decision left it, with its user, for the tokens signed from it. */
export interface RefreshedSession {
  id: string;
  refreshJti: string;
  expiresAt: Date;
  transport: TokenTransport;
  aal: number;
  amr: string[];
  generation: number;
  user: UserView;
}

export type RefreshDecision =
  | { verdict: RefreshVerdict.ROTATED | RefreshVerdict.GRACE; session: RefreshedSession }
  | { verdict: RefreshVerdict.THROTTLED; count: Count }
  | { verdict: RefreshVerdict.ENDED | RefreshVerdict.EXPIRED | RefreshVerdict.RETIRED | RefreshVerdict.REUSED };

interface RefreshParams extends EventRowParams {
  ipKey: string;
  ipLimit: number;
  now: number;
  sessionId: string;
  userId: string;
  jti: string;
  nextJti: string;
  at: Date;
  idleBefore: Date | null;
  graceSince: Date;
  announceRotation: boolean;
  expiredReason: string;
  reusedReason: string;
  refreshEvent: AuthEventKind;
  reuseEvent: AuthEventKind;
}

interface RefreshRow {
  verdict: RefreshVerdict;
  /** THROTTLED: the IP's counter as this statement read it. */
  ip_points: number | null;
  ip_expire: string | null;
  id: string | null;
  refresh_jti: string | null;
  expires_at: Date | null;
  transport: TokenTransport | null;
  aal: number | null;
  amr: string[] | null;
  generation: number | null;
  user_id: string | null;
  username: string | null;
  email: string | null;
  email_verified: boolean | null;
  two_factor_enabled: boolean | null;
  roles: Role[] | null;
  created_at: Date | null;
}

// `over_limit` reads the IP's counter as committed when it runs: this attempt's count and any
// counted since, so concurrent attempts from one IP are refused at the limit or a few before it,
// and at a window's end an attempt may pass into the next window, once. `locked`
// waits for a concurrent refresh of the same session to commit and then reads the row it left
// (READ COMMITTED re-reads a row it had to wait for), so the second of two sees the first's
// rotation. The updates find that same row. pg_notify runs only because the final select reads it.
const REFRESH = namedSql<RefreshParams>(`with over_limit as (
    ${overLimitSql(':ipKey', ':ipLimit', ':now')}
  ), locked as (
    select id, user_id, refresh_jti, previous_refresh_jti, rotated_at, last_used_at, expires_at, revoked_at,
      transport, aal, amr, generation
    from sessions where id = :sessionId and not exists (select from over_limit)
    for update
  ), owner as (
    select id, username, email, email_verified_at is not null as email_verified,
      two_factor_enabled_at is not null as two_factor_enabled, roles, is_active, created_at
    from users where id = :userId and exists (select 1 from locked)
  ), decision as (
    select case
      when exists (select from over_limit) then 'THROTTLED'
      when locked.id is null or locked.user_id <> :userId or locked.revoked_at is not null or owner.id is null then 'ENDED'
      when locked.expires_at <= :at or locked.last_used_at <= :idleBefore::timestamptz then 'EXPIRED'
      when not owner.is_active then 'ENDED'
      when locked.refresh_jti = :jti then 'ROTATED'
      when locked.previous_refresh_jti = :jti and locked.rotated_at is null then 'RETIRED'
      when locked.previous_refresh_jti = :jti and locked.rotated_at >= :graceSince then 'GRACE'
      else 'REUSED' end as verdict
    from (select) as one left join locked on true left join owner on true
  ), rotated as (
    update sessions set previous_refresh_jti = refresh_jti, refresh_jti = :nextJti, rotated_at = :at, last_used_at = :at
    where id = :sessionId and (select verdict from decision) = 'ROTATED'
    returning id, refresh_jti
  ), ended as (
    update sessions set revoked_at = :at,
      revoked_reason = case (select verdict from decision) when 'EXPIRED' then :expiredReason else :reusedReason end
    where id = :sessionId and (select verdict from decision) in ('EXPIRED', 'REUSED')
    returning id
  ), recorded as (
    ${recordEventRowsSql(`(select :refreshEvent as type, :userId::uuid as user_id, id as session_id from rotated
      union all select :reuseEvent, :userId::uuid, id from ended where (select verdict from decision) = 'REUSED') as events`)}
  ), announced as (
    ${announceSessionsSql('(select id from rotated where :announceRotation::boolean union all select id from ended) as changed')}
  )
  select decision.verdict, over_limit.points as ip_points, over_limit.expire as ip_expire, locked.id, coalesce(rotated.refresh_jti, locked.refresh_jti) as refresh_jti,
    locked.expires_at, locked.transport, locked.aal, locked.amr, locked.generation,
    owner.id as user_id, owner.username, owner.email, owner.email_verified, owner.two_factor_enabled, owner.roles,
    owner.created_at, (select count(*) from announced) as announced
  from decision left join over_limit on true left join locked on true left join owner on true
    left join rotated on true`);

export class RefreshStatement {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onCountFailed: (error: unknown) => void,
  ) {}

  async decide(request: RefreshRequest): Promise<RefreshDecision> {
    const { counter, now, statement } = request.attempt;
    const [counted, decided] = await pipelined<CountRow, RefreshRow>(this.pool, statement, {
      name: 'refresh',
      text: REFRESH.text,
      values: REFRESH.values({
        ipKey: counter.key,
        ipLimit: counter.limit,
        now,
        sessionId: request.sessionId,
        userId: request.userId,
        jti: request.jti,
        nextJti: request.nextJti,
        at: request.at,
        idleBefore: request.idleBefore,
        graceSince: request.graceSince,
        // An ended session is always announced; a rotation only under an inactivity timeout, the one
        // check that reads the last use another instance caches. A transaction that notifies takes
        // a database-wide lock for its commit, flush included: every instance's refreshes would
        // commit one after another.
        announceRotation: request.idleBefore !== null,
        expiredReason: request.revokedReasons.expired,
        reusedReason: request.revokedReasons.reused,
        refreshEvent: AuthEventKind.REFRESH,
        reuseEvent: AuthEventKind.REFRESH_REUSE_DETECTED,
        eventIp: request.ipAddress,
        eventAt: request.at,
      }),
    });
    if (decided.status === 'rejected') throw decided.reason;
    // The decision committed whatever it wrote, and the answer must carry it: an attempt that
    // failed to count is then only uncounted (the decision read the count so far).
    if (counted.status === 'rejected') this.onCountFailed(counted.reason);
    const row = decided.value.rows[0];
    if (row.verdict === RefreshVerdict.THROTTLED) {
      // Decided only when over_limit found the counter.
      const count = toCount({ points: row.ip_points as number, expire: row.ip_expire as string });
      return { verdict: row.verdict, count };
    }
    const recorded =
      row.verdict === RefreshVerdict.ROTATED
        ? AuthEventKind.REFRESH
        : row.verdict === RefreshVerdict.REUSED
          ? AuthEventKind.REFRESH_REUSE_DETECTED
          : undefined;
    if (recorded) {
      const event = { type: recorded, userId: request.userId, sessionId: request.sessionId, ip: request.ipAddress };
      statementRecorded(this.pool, event);
    }
    if (row.verdict !== RefreshVerdict.ROTATED && row.verdict !== RefreshVerdict.GRACE) return { verdict: row.verdict };
    return { verdict: row.verdict, session: toSession(row) };
  }
}

function toSession(row: RefreshRow): RefreshedSession {
  // ROTATED and GRACE are decided only on a locked session whose owner was found.
  const present = <T>(value: T | null): T => value as T;
  return {
    id: present(row.id),
    refreshJti: present(row.refresh_jti),
    expiresAt: present(row.expires_at),
    transport: present(row.transport),
    aal: present(row.aal),
    amr: present(row.amr),
    generation: present(row.generation),
    user: {
      id: present(row.user_id),
      username: present(row.username),
      email: present(row.email),
      emailVerified: present(row.email_verified),
      twoFactorEnabled: present(row.two_factor_enabled),
      roles: present(row.roles),
      isActive: true,
      createdAt: present(row.created_at),
    },
  };
}
