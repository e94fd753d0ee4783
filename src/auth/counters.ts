// Fixed-window attempt counters, one row per key in a table that every instance shares: `points`
// attempts in the window that ends at `expire` (epoch milliseconds). The first attempt after a
// window has ended opens a new one. Placeholders are named (named-sql.ts).

export const COUNTER_TABLE = 'rate_limits';

/** A counter right after an attempt was counted on it. */
export interface Count {
  points: number;
  /** Epoch milliseconds. */
  expire: number;
}

/** A row of `countAttemptSql`'s result (bigint arrives as text). */
export interface CountRow {
  points: number;
  expire: string | number;
}

/** Commits without waiting for the WAL flush: a crash may forget the last fraction of a second of
 *  its writes. Only for autocommit statements whose loss costs a retry: attempt counts, a reset
 *  link's request. A later transaction that flushes makes them durable first. */
export const NO_FLUSH_CTE = `no_flush as (select set_config('synchronous_commit', 'off', true))`;

/**
 * `insert ... returning points, expire` counting one attempt on each `(key, 1, expire)` row that
 * `rows` yields (a `values` list or a `select`). `:now` is the current time in epoch milliseconds.
 */
export function countAttemptSql(rows: string): string {
  return `insert into ${COUNTER_TABLE} as counter (key, points, expire) ${rows}
    on conflict (key) do update set
      points = case when counter.expire <= :now then 1 else counter.points + 1 end,
      expire = case when counter.expire <= :now then excluded.expire else counter.expire end
    returning points, expire`;
}

/**
 * Counts one attempt on the key in the placeholder `key`, whose window, if this attempt opens one,
 * ends at `windowEnd`. The statement that holds it must have NO_FLUSH_CTE in its WITH list.
 */
export function countOneSql(key: string, windowEnd: string): string {
  return countAttemptSql(`select ${key}, 1, ${windowEnd} from no_flush`);
}

/**
 * `points, expire` of the counter whose key is in the placeholder `key` while its window, open at
 * `now` (or never ending), holds more attempts than the placeholder `limit`: no row when allowed.
 */
export function overLimitSql(key: string, limit: string, now: string): string {
  return `select points, expire from ${COUNTER_TABLE}
    where key = ${key} and (expire is null or expire > ${now}) and points > ${limit}`;
}

/** Deletes the counter whose key is in the placeholder `key`: its next attempt opens a new window. */
export function clearCountSql(key: string): string {
  return `delete from ${COUNTER_TABLE} where key = ${key}`;
}

export function toCount(row: CountRow): Count {
  return { points: row.points, expire: Number(row.expire) };
}
