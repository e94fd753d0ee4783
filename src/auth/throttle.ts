// Brute-force defences, counted per attempt (so an aliased or repeated field counts like a
// separate request) and stored in PostgreSQL so that every instance shares the counts:
// - per client IP, for credential attempts and for refreshes;
// - per account, a temporary lock after repeated password checks that did not end in success
//   (each check is counted before it runs, a success clears the count). It expires by itself:
//   a stranger can delay an account's logins for a while, never lock it out for good (OWASP).
// A login counts its attempts inside its own first statement (login-statements.ts) and brings
// the counts here to be judged.
import ipaddr from 'ipaddr.js';
import type pg from 'pg';
import type { Config } from '../config.js';
import {
  clearCountSql,
  COUNTER_TABLE,
  type Count,
  type CountRow,
  countOneSql,
  NO_FLUSH_CTE,
  toCount,
} from './counters.js';
import { namedSql } from './named-sql.js';
import { deleteInBatches, type PurgeCount, type PurgeOptions } from './batched-delete.js';

export enum ThrottledAction {
  CREDENTIALS = 'credentials',
  REFRESH = 'refresh',
}

/** Where an attempt is counted, and how many its window allows. */
export interface Counter {
  key: string;
  windowMs: number;
  limit: number;
}

/**
 * One attempt's count as a statement for its caller to send, ahead of a statement of its own that
 * reads the counter and refuses past the limit (overLimitSql), in the same round trip.
 */
export interface CountingStatement {
  counter: Counter;
  /** Epoch milliseconds: the instant the window is judged at. */
  now: number;
  statement: pg.QueryConfig;
}

/** Prepended to the account key (a user id, or `unknown:` and the name tried). */
export const ACCOUNT_COUNTER_PREFIX = 'account-failures:';

/** Prepended to the key of an address or account that mails are sent to on request. */
const MAIL_REQUEST_PREFIX = 'mail-requests:';
/** An address's mails from all networks together may be this many times one network's. */
const ADDRESS_MAIL_NETWORKS = 4;

// Oldest first through rate_limits_expire_index; `expire` is epoch milliseconds.
export const COUNTER_PURGE_SQL = `delete from ${COUNTER_TABLE} where expire < $1 and key = any(array(
    select key from ${COUNTER_TABLE} where expire < $1 order by expire limit $2))`;

/** rate_limits.key is varchar(255): a longer key would fail the statement that counts it. */
const MAX_COUNTER_KEY_LENGTH = 255;

const COUNT_ONE = namedSql<{ now: number; key: string; windowEnd: number }>(
  `with ${NO_FLUSH_CTE} ${countOneSql(':key', ':windowEnd')}`,
);
const CLEAR_COUNT = namedSql<{ key: string }>(clearCountSql(':key'));
const SET_LOCK = `insert into ${COUNTER_TABLE} as counter (key, points, expire) values ($1, $2, $3)
  on conflict (key) do update set points = excluded.points, expire = excluded.expire`;

export class ThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts: try again in ${retryAfterSeconds} s`);
    this.name = 'ThrottledError';
  }
}

export class Throttle {
  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: Config['throttle'],
  ) {}

  ipCounter(action: ThrottledAction, ip: string | null): Counter {
    return {
      // The key prefixes are rate-limiter-flexible's, so that running counts survive an upgrade.
      key: `ip-${action}:${ip === null ? 'unknown' : clientNetwork(ip, this.settings.ipv6PrefixLength)}`,
      windowMs: this.settings.ipWindowSeconds * 1000,
      limit: action === ThrottledAction.CREDENTIALS ? this.settings.ipAttempts : this.settings.ipRefreshes,
    };
  }

  accountCounter(accountKey: string): Counter {
    // A name longer than the column shares its count with the others of the same beginning;
    // no account has such a name (they are keyed by id), so none is affected.
    const key = (ACCOUNT_COUNTER_PREFIX + accountKey).slice(0, MAX_COUNTER_KEY_LENGTH);
    return { key, windowMs: this.settings.accountWindowSeconds * 1000, limit: this.settings.accountFailures };
  }

  /** Counts one attempt from `ip`; throws ThrottledError past the limit. */
  async consumeIp(action: ThrottledAction, ip: string | null): Promise<void> {
    const counter = this.ipCounter(action, ip);
    const now = Date.now();
    judgeIp(counter, await this.count(counter, now), now);
  }

  /** The statement that counts one attempt from `ip`, for a caller to send with its own. */
  ipAttempt(action: ThrottledAction, ip: string | null): CountingStatement {
    const counter = this.ipCounter(action, ip);
    const now = Date.now();
    return { counter, now, statement: countStatement(counter, now) };
  }

  /**
   * Counts an attempt on the account before its password is checked (a success clears the count
   * again), so that guesses sent all at once cannot each pass a read-only check before any of
   * their failures is recorded. The attempt past the limit starts the lock; while it runs every
   * attempt is refused, the right password included.
   */
  async beginAccountAttempt(accountKey: string): Promise<void> {
    const counter = this.accountCounter(accountKey);
    const now = Date.now();
    await this.judgeAccountAttempt(counter, await this.count(counter, now), now);
  }

  /** Throws ThrottledError when `count` is past the account's limit, starting the lock first. */
  async judgeAccountAttempt(counter: Counter, count: Count, now: number): Promise<void> {
    if (count.points <= counter.limit) return;
    if (count.points === counter.limit + 1) {
      const lockMs = this.settings.accountLockSeconds * 1000;
      await this.pool.query({
        name: 'throttle-lock',
        text: SET_LOCK,
        values: [counter.key, counter.limit + 1, now + lockMs],
      });
      throw new ThrottledError(this.settings.accountLockSeconds);
    }
    throw overLimit(count, now);
  }

  /**
   * Counts one mail asked for on behalf of `key` (an address, whether or not it has an account, or
   * an account): nobody can use Tessera to flood a mailbox. Throws ThrottledError past the limit.
   */
  async consumeMailRequest(key: string): Promise<void> {
    await this.consumeMailCounter(key, this.settings.mailRequests);
  }

  /**
   * Counts one mail asked for to `emailKey` by a stranger (whether or not it has an account): the
   * limit per window holds for each client network, so that a stranger cannot use up the owner's
   * own requests (and so lock them out of a reset), and ADDRESS_MAIL_NETWORKS times over for all
   * networks together, so that the mailbox is not flooded from many.
   */
  async consumeAddressMail(emailKey: string, ip: string | null): Promise<void> {
    const network = ip === null ? 'unknown' : clientNetwork(ip, this.settings.ipv6PrefixLength);
    // One network's refused requests do not count against the others'.
    await this.consumeMailCounter(`address:${emailKey}:${network}`, this.settings.mailRequests);
    await this.consumeMailCounter(`address:${emailKey}`, this.settings.mailRequests * ADDRESS_MAIL_NETWORKS);
  }

  private async consumeMailCounter(key: string, limit: number): Promise<void> {
    const counter: Counter = {
      key: (MAIL_REQUEST_PREFIX + key).slice(0, MAX_COUNTER_KEY_LENGTH),
      windowMs: this.settings.mailWindowSeconds * 1000,
      limit,
    };
    const now = Date.now();
    const count = await this.count(counter, now);
    if (count.points > counter.limit) throw overLimit(count, now);
  }

  /** After a successful password check: the account's count starts over. */
  async clearAccountAttempts(accountKey: string): Promise<void> {
    await this.clear(this.accountCounter(accountKey));
  }

  /** The counter starts over. */
  async clear(counter: Counter): Promise<void> {
    await this.pool.query({
      name: 'throttle-clear',
      text: CLEAR_COUNT.text,
      values: CLEAR_COUNT.values({ key: counter.key }),
    });
  }

  /** Deletes the counters whose window ended, in batches through rate_limits_expire_index. */
  async purgeExpired(options: PurgeOptions = {}): Promise<PurgeCount> {
    const now = Date.now();
    return deleteInBatches(async (limit) => {
      const result = await this.pool.query(COUNTER_PURGE_SQL, [now, limit]);
      return result.rowCount ?? 0;
    }, options);
  }

  private async count(counter: Counter, now: number): Promise<Count> {
    const { rows } = await this.pool.query<CountRow>(countStatement(counter, now));
    return toCount(rows[0]);
  }
}

function countStatement(counter: Counter, now: number): pg.QueryConfig {
  return {
    name: 'throttle-count',
    text: COUNT_ONE.text,
    values: COUNT_ONE.values({ now, key: counter.key, windowEnd: now + counter.windowMs }),
  };
}

/** Throws ThrottledError when `count` is past the IP's budget. */
export function judgeIp(counter: Counter, count: Count, now: number): void {
  if (count.points > counter.limit) throw overLimit(count, now);
}

/** The refusal of an attempt on a counter past its limit. */
export function overLimit(count: Count, now: number): ThrottledError {
  return new ThrottledError(secondsUntil(count.expire, now));
}

/**
 * What one IP budget covers: an IPv4 address, or the IPv6 network of `prefixLength` bits around
 * an IPv6 one. An IPv6 client is given a whole /64 or more and picks addresses in it at will, so
 * per address it would have 2^64 budgets. An IPv4 client seen through a dual-stack socket
 * (::ffff:a.b.c.d), NAT64 or 6to4 is its IPv4 address.
 */
export function clientNetwork(ip: string, prefixLength: number): string {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip);
  } catch {
    return ip.slice(0, 64); // not an address (X-Forwarded-For carries what the client sent): bounded for the key column
  }
  if (address.kind() === 'ipv4') return address.toString();
  const bytes = address.toByteArray();
  // Translated IPv4 clients: behind NAT64 (RFC 6052) every one of them would otherwise share one
  // /56, and a 6to4 client would have 256 of them.
  const range = address.range();
  if (range === 'rfc6052') return ipaddr.fromByteArray(bytes.slice(12)).toString();
  if (range === '6to4') return ipaddr.fromByteArray(bytes.slice(2, 6)).toString();
  const network = bytes.map((byte, index) => {
    const kept = Math.min(8, Math.max(0, prefixLength - index * 8));
    return byte & (0xff00 >> kept);
  });
  return `${ipaddr.fromByteArray(network).toString()}/${prefixLength}`;
}

function secondsUntil(expire: number, now: number): number {
  return Math.max(1, Math.ceil((expire - now) / 1000));
}
