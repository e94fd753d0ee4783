// A small node-postgres pool beside the ORM's, for the statements on the hottest paths (the
// attempt counters, a login's two statements): written in SQL, prepared once per connection,
// without an ORM's unit of work around each. Every round trip costs CPU in both processes.
import pg from 'pg';

export function createStatementPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 4,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client's error (the database restarting) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
