// Fixed-window attempt counters, one row per key in a table that every instance shares: `points`
// attempts in the window that ends at `expire` (epoch milliseconds). The first attempt after a
// window has ended opens a new one. The layout is rate-limiter-flexible's, which kept these
// counters before: the counts running at an upgrade carry over.

export const COUNTER_TABLE = 'rate_limits';

/** A counter right after an attempt was counted on it. */
export interface Count {
  points: number;
  /** Epoch milliseconds. */
  expire: number;
}

/**
 * A CTE (name: `no_flush`) that lets the statement's transaction commit without waiting for its
 * WAL to reach the disk (or a synchronous standby). Select the counted rows from it: a CTE that
 * nothing reads is never run. An attempt's count need not outlive a crash of PostgreSQL (it would
 * forget the last fraction of a second of counts, 3 x wal_writer_delay at most: a few more
 * attempts), and the flush it spares cost PostgreSQL 0.1-0.3 ms of CPU per login, taken from the
 * hashing threads (README, Performance). `true`: for this transaction only, so the pooled
 * connection's next statement waits for its flush as usual. Hence two rules: a statement that
 * writes anything but counts must not use it, and one that does must run as its own transaction
 * (the statement pool's autocommit), never inside BEGIN ... COMMIT, whose other writes would
 * commit without the flush too.
 */
export const NO_FLUSH_CTE = `no_flush as (select set_config('synchronous_commit', 'off', true))`;

/**
 * `insert ... returning points, expire` counting one attempt on each `(key, 1, expire)` row that
 * `rows` yields (a `values` list or a `select`). `$1` is the current time in epoch milliseconds,
 * in this statement and in any statement that embeds it.
 */
export function countAttemptSql(rows: string): string {
  return `insert into ${COUNTER_TABLE} as counter (key, points, expire) ${rows}
    on conflict (key) do update set
      points = case when counter.expire <= $1 then 1 else counter.points + 1 end,
      expire = case when counter.expire <= $1 then excluded.expire else counter.expire end
    returning points, expire`;
}

/**
 * Counts one attempt on the key `$2`, whose window, if this attempt opens one, ends at `$3`. The
 * statement that holds it must have NO_FLUSH_CTE in its WITH list.
 */
export const COUNT_ONE_SQL = countAttemptSql('select $2, 1, $3 from no_flush');

/** Deletes the counter whose key is `$1`: its next attempt opens a new window. */
export const CLEAR_COUNT_SQL = `delete from ${COUNTER_TABLE} where key = $1`;

/** A row of `countAttemptSql`'s result (bigint arrives as text). */
export function toCount(row: { points: number; expire: string | number }): Count {
  return { points: row.points, expire: Number(row.expire) };
}
