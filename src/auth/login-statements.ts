// A login's reads and writes, folded into two statements: one before the password check (count
// the attempt from the IP, find the account, count the attempt on it) and one after (clear the
// account's count, re-read the user under a lock, open the session, record the event). Each
// round trip to PostgreSQL costs both processes CPU that the hashing threads would otherwise
// have; a login used to make nine (README, Performance).
import type pg from 'pg';
import type { Role } from '../db/entities/index.js';
import { AuthEventType } from './audit.js';
import { CLEAR_COUNT_SQL, COUNT_ONE_SQL, type Count, countAttemptSql, NO_FLUSH_CTE, toCount } from './counters.js';
import type { NewSessionRow } from './sessions.js';
import { ACCOUNT_COUNTER_PREFIX, type Counter } from './throttle.js';
import type { UserView } from './user-view.js';

export interface LoginCandidate {
  ipCount: Count;
  /** Absent when the IP is over its budget: then nothing else was read or counted. */
  account?: {
    count: Count;
    user: { id: string; passwordHash: string; isActive: boolean } | null;
    /** The attempt was counted on the presented device's key rather than on the account's. */
    deviceCounted: boolean;
  };
}

/** A device token that passed its checks, as the login statement matches it to the account. */
export interface PresentedDevice {
  userId: string;
  credential: string;
  counter: Counter;
}

export type LoginCompletion =
  | { opened: true; user: UserView }
  /** The row changed while the password was checked: deleted or given a new password, or disabled. */
  | { opened: false; disabled: boolean };

// $1 now (epoch ms), $2 the IP's counter key, $3 the IP's window end, $4 the IP's limit,
// $5 the lower-cased username or email (null when no account can have it),
// $6 the unknown name's account key, $7 the account window's end,
// $8 the presented device token's user id, $9 its credential tag, $10 its counter key (or nulls).
// A device token counts for the account it names only while that account's password is the one
// it was issued under (its tag, see credentialTag): a password change retires every device.
function beginSql(keyColumn: 'username_key' | 'email_key'): string {
  return `with ${NO_FLUSH_CTE}, ip as (
      ${COUNT_ONE_SQL}
    ), found as (
      select id, password_hash, is_active from users where ${keyColumn} = $5 and (select points from ip) <= $4
    ), device as (
      select coalesce((select id::text = $8 and left(encode(sha256(convert_to(password_hash, 'UTF8')), 'hex'), 32) = $9 from found), false) as recognised
    ), account as (
      ${countAttemptSql(`select case when (select recognised from device) then $10 else coalesce('${ACCOUNT_COUNTER_PREFIX}' || (select id::text from found), $6) end, 1, $7 where (select points from ip) <= $4`)}
    )
    select ip.points, ip.expire, account.points as account_points, account.expire as account_expire,
      found.id, found.password_hash, found.is_active, (select recognised from device) as device_counted
    from ip left join account on true left join found on true`;
}

const BEGIN_BY_USERNAME = beginSql('username_key');
const BEGIN_BY_EMAIL = beginSql('email_key');

// $1 the account's counter key, $2 the user id, $3 the password hash that was checked,
// $4 session id, $5 refresh jti, $6 now, $7 session end, $8 user agent, $9 ip, $10 event type,
// $11 a new hash of the password under the current parameters, or null.
// The row lock makes a password change, deactivation or deletion committed while the hash was
// checked win (the locked read sees it), rather than this login adding a session they would
// never have revoked; the new hash replaces only the one that was checked, and only with the
// session.
const COMPLETE = `with cleared as (
    ${CLEAR_COUNT_SQL}
  ), current_user_row as (
    select id, username, email, roles, is_active, created_at, password_hash = $3 as same_password
    from users where id = $2 for update
  ), opened as (
    insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at, user_agent, ip)
    select $4, id, $5, $6, $6, $7, $8, $9 from current_user_row where same_password and is_active
    returning id
  ), recorded as (
    insert into auth_events (type, user_id, session_id, ip, created_at)
    select $10, $2, id, $9, $6 from opened
  ), upgraded as (
    update users set password_hash = $11, updated_at = $6
    where id = $2 and password_hash = $3 and $11::text is not null and exists (select 1 from opened)
  )
  select current_user_row.*, exists (select 1 from opened) as opened from current_user_row`;

export class LoginStatements {
  constructor(private readonly pool: pg.Pool) {}

  /** A password check that failed: recorded on its own, whatever happens to the request. */
  async recordFailure(userId: string | null, ip: string | null): Promise<void> {
    await this.pool.query({
      name: 'login-failed',
      text: 'insert into auth_events (type, user_id, ip, created_at) values ($1, $2, $3, $4)',
      values: [AuthEventType.LOGIN_FAILED, userId, ip, new Date()],
    });
  }

  async begin(
    now: number,
    ip: Counter,
    identifier: string | null,
    unknownAccount: Counter,
    device?: PresentedDevice,
  ): Promise<LoginCandidate> {
    const byEmail = identifier?.includes('@') ?? false;
    const { rows } = await this.pool.query({
      name: byEmail ? 'login-begin-email' : 'login-begin-username',
      text: byEmail ? BEGIN_BY_EMAIL : BEGIN_BY_USERNAME,
      values: [
        now,
        ip.key,
        now + ip.windowMs,
        ip.limit,
        identifier,
        unknownAccount.key,
        now + unknownAccount.windowMs,
        device?.userId ?? null,
        device?.credential ?? null,
        device?.counter.key ?? null,
      ],
    });
    const row = rows[0];
    const candidate: LoginCandidate = { ipCount: toCount(row) };
    if (row.account_points === null) return candidate;
    return {
      ...candidate,
      account: {
        count: toCount({ points: row.account_points, expire: row.account_expire }),
        user: row.id === null ? null : { id: row.id, passwordHash: row.password_hash, isActive: row.is_active },
        deviceCounted: row.device_counted === true,
      },
    };
  }

  async complete(
    accountCounterKey: string,
    userId: string,
    checkedHash: string,
    session: NewSessionRow,
    newHash: string | null,
  ): Promise<LoginCompletion> {
    const { rows } = await this.pool.query({
      name: 'login-complete',
      text: COMPLETE,
      values: [
        accountCounterKey,
        userId,
        checkedHash,
        session.id,
        session.refreshJti,
        session.createdAt,
        session.expiresAt,
        session.userAgent,
        session.ip,
        AuthEventType.LOGIN_SUCCEEDED,
        newHash,
      ],
    });
    const row = rows[0];
    if (!row || !row.same_password) return { opened: false, disabled: false };
    if (!row.is_active) return { opened: false, disabled: true };
    return {
      opened: true,
      user: {
        id: row.id,
        username: row.username,
        email: row.email,
        roles: row.roles as Role[],
        isActive: true,
        createdAt: row.created_at,
      },
    };
  }
}
