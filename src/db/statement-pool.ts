// Small node-postgres pools beside the ORM's, for the statements on the hottest paths (the
// attempt counters, a login's two statements): written in SQL, prepared once per connection,
// without an ORM's unit of work around each. Every round trip costs CPU in both processes, so a
// client sends each statement as soon as it is queued (pipelined.ts sends two in one round trip).
import pg from 'pg';

/**
 * For the work finished after its answer went out (a reset link's lookup): on connections of its
 * own, so that how long it takes never shows in the time of the requests queued behind it.
 */
export const DEFERRED_STATEMENT_CONNECTIONS = 2;
/** How long a request's statement may wait for a connection before it fails. */
export const REQUEST_STATEMENT_WAIT_MS = 5_000;
// Deferred work has answered already: a failure is only logged, so it waits longer, long enough
// for its whole queue (password-reset.ts) to drain at 35 statements a second.
export const DEFERRED_STATEMENT_WAIT_MS = 30_000;

export function createStatementPool(databaseUrl: string, max: number, waitMs: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    pipeline: true,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: waitMs,
  });
  // An idle client's error (the database restarting) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
