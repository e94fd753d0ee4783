// A login's reads and writes in two statements, one on each side of the password check: each round
// trip to PostgreSQL costs CPU that the hashing threads would otherwise have.
import type pg from 'pg';
import type { Role } from '../db/entities/index.js';
import { AuthEventKind, recordAuthEventNow, recordSessionEventSql, type SessionEventParams } from './audit.js';
import {
  clearCountSql,
  type Count,
  countAttemptSql,
  type CountRow,
  countOneSql,
  NO_FLUSH_CTE,
  toCount,
} from './counters.js';
import { credentialTagSql } from './credential-tag.js';
import { namedSql } from './named-sql.js';
import { type NewSessionRow, openSessionParams, type OpenSessionParams, openSessionSql } from './sessions.js';
import { ACCOUNT_COUNTER_PREFIX, type Counter } from './throttle.js';
import type { UserView } from './user-view.js';

export interface LoginCandidate {
  ipCount: Count;
  /** Absent when the IP is over its budget: then nothing else was read or counted. */
  account?: CandidateAccount;
}

export interface CandidateAccount {
  count: Count;
  user: {
    id: string;
    passwordHash: string;
    isActive: boolean;
    emailVerified: boolean;
    /** The password alone does not open a session: a second factor is awaited. */
    twoFactorEnabled: boolean;
  } | null;
  /** The attempt was counted on the presented device's key rather than on the account's. */
  deviceCounted: boolean;
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

interface BeginParams {
  /** Epoch milliseconds. */
  now: number;
  ipKey: string;
  ipWindowEnd: number;
  ipLimit: number;
  /** The lower-cased username or email; null when no account can have it. */
  identifier: string | null;
  unknownAccountKey: string;
  accountWindowEnd: number;
  deviceUserId: string | null;
  deviceCredential: string | null;
  deviceKey: string | null;
}

/** Each group of columns is null as a whole: the IP was over its budget, or no account matched. */
type BeginRow = CountRow & { device_counted: boolean | null } & (
    { account_points: number; account_expire: string } | { account_points: null; account_expire: null }
  ) &
  (
    | { id: string; password_hash: string; is_active: boolean; email_verified: boolean; two_factor_enabled: boolean }
    | { id: null; password_hash: null; is_active: null; email_verified: null; two_factor_enabled: null }
  );

// Count the IP; within its budget, find the account and count the attempt on it, or on the
// presented device when its token names this account under its current password.
function beginSql(keyColumn: 'username_key' | 'email_key'): string {
  const withinIpBudget = '(select points from ip) <= :ipLimit';
  const deviceMatches = `id::text = :deviceUserId and ${credentialTagSql('password_hash')} = :deviceCredential`;
  const accountKey = `case when (select recognised from device) then :deviceKey
    else coalesce('${ACCOUNT_COUNTER_PREFIX}' || (select id::text from found), :unknownAccountKey) end`;
  return `with ${NO_FLUSH_CTE}, ip as (
      ${countOneSql(':ipKey', ':ipWindowEnd')}
    ), found as (
      select id, password_hash, is_active, email_verified_at is not null as email_verified,
        two_factor_enabled_at is not null as two_factor_enabled from users where ${keyColumn} = :identifier and ${withinIpBudget}
    ), device as (
      select coalesce((select ${deviceMatches} from found), false) as recognised
    ), account as (
      ${countAttemptSql(`select ${accountKey}, 1, :accountWindowEnd where ${withinIpBudget}`)}
    )
    select ip.points, ip.expire, account.points as account_points, account.expire as account_expire,
      found.id, found.password_hash, found.is_active, found.email_verified, found.two_factor_enabled, (select recognised from device) as device_counted
    from ip left join account on true left join found on true`;
}

const BEGIN_BY_USERNAME = namedSql<BeginParams>(beginSql('username_key'));
const BEGIN_BY_EMAIL = namedSql<BeginParams>(beginSql('email_key'));

interface CompleteParams extends OpenSessionParams, SessionEventParams {
  /** The counter the attempt was charged to; null when it was cleared already (a second factor's completion). */
  accountKey: string | null;
  userId: string;
  checkedHash: string;
  /** A new hash of the password under the current parameters, or null. */
  newHash: string | null;
}

interface CompleteRow {
  id: string;
  username: string;
  email: string;
  email_verified: boolean;
  two_factor_enabled: boolean;
  roles: Role[];
  is_active: boolean;
  created_at: Date;
  same_password: boolean;
  opened: boolean;
}

// The row lock makes a password change, deactivation or deletion committed while the hash was
// checked win, rather than this login adding a session they would never have revoked.
const COMPLETE = namedSql<CompleteParams>(`with cleared as (
    ${clearCountSql(':accountKey')}
  ), current_user_row as (
    select id, username, email, email_verified_at is not null as email_verified,
      two_factor_enabled_at is not null as two_factor_enabled, roles, is_active, created_at, password_hash = :checkedHash as same_password
    from users where id = :userId for update
  ), opened as (
    ${openSessionSql('current_user_row where same_password and is_active')}
  ), recorded as (
    ${recordSessionEventSql('opened')}
  ), upgraded as (
    update users set password_hash = :newHash, updated_at = :sessionStart
    where id = :userId and password_hash = :checkedHash and :newHash::text is not null and exists (select 1 from opened)
  )
  select current_user_row.*, exists (select 1 from opened) as opened from current_user_row`);

const UPGRADE_HASH = namedSql<{ userId: string; checkedHash: string; newHash: string; at: Date }>(
  'update users set password_hash = :newHash, updated_at = :at where id = :userId and password_hash = :checkedHash',
);

export class LoginStatements {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a new hash of the password just checked, unless the stored one changed meanwhile: for
   * the login of a two-factor account, which opens no session to write it with. The hash stored
   * afterwards is returned.
   */
  async upgradeHash(userId: string, checkedHash: string, newHash: string): Promise<string> {
    const { rowCount } = await this.pool.query({
      name: 'login-upgrade-hash',
      text: UPGRADE_HASH.text,
      values: UPGRADE_HASH.values({ userId, checkedHash, newHash, at: new Date() }),
    });
    return rowCount === 1 ? newHash : checkedHash;
  }

  /** A password check that failed: recorded on its own, whatever happens to the request. */
  recordFailure(userId: string | null, ip: string | null): Promise<void> {
    return recordAuthEventNow(this.pool, { type: AuthEventKind.LOGIN_FAILED, userId, ip });
  }

  async begin(
    now: number,
    ip: Counter,
    identifier: string | null,
    unknownAccount: Counter,
    device?: PresentedDevice,
  ): Promise<LoginCandidate> {
    const byEmail = identifier?.includes('@') ?? false;
    const statement = byEmail ? BEGIN_BY_EMAIL : BEGIN_BY_USERNAME;
    const { rows } = await this.pool.query<BeginRow>({
      name: byEmail ? 'login-begin-email' : 'login-begin-username',
      text: statement.text,
      values: statement.values({
        now,
        ipKey: ip.key,
        ipWindowEnd: now + ip.windowMs,
        ipLimit: ip.limit,
        identifier,
        unknownAccountKey: unknownAccount.key,
        accountWindowEnd: now + unknownAccount.windowMs,
        deviceUserId: device?.userId ?? null,
        deviceCredential: device?.credential ?? null,
        deviceKey: device?.counter.key ?? null,
      }),
    });
    const row = rows[0];
    const candidate: LoginCandidate = { ipCount: toCount(row) };
    if (row.account_points === null) return candidate;
    return {
      ...candidate,
      account: {
        count: toCount({ points: row.account_points, expire: row.account_expire }),
        user:
          row.id === null
            ? null
            : {
                id: row.id,
                passwordHash: row.password_hash,
                isActive: row.is_active,
                emailVerified: row.email_verified,
                twoFactorEnabled: row.two_factor_enabled,
              },
        deviceCounted: row.device_counted === true,
      },
    };
  }

  async complete(
    accountCounterKey: string | null,
    userId: string,
    checkedHash: string,
    session: NewSessionRow,
    newHash: string | null,
  ): Promise<LoginCompletion> {
    const { rows } = await this.pool.query<CompleteRow>({
      name: 'login-complete',
      text: COMPLETE.text,
      values: COMPLETE.values({
        accountKey: accountCounterKey,
        userId,
        checkedHash,
        newHash,
        ...openSessionParams(session),
        eventType: AuthEventKind.LOGIN_SUCCEEDED,
        eventUserId: userId,
        eventIp: session.ip,
        eventAt: session.createdAt,
      }),
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
        emailVerified: row.email_verified,
        twoFactorEnabled: row.two_factor_enabled,
        roles: row.roles,
        isActive: true,
        createdAt: row.created_at,
      },
    };
  }
}
