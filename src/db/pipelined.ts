// Two statements sent on one connection in one write, each still its own transaction (the driver
// ends each with a Sync, so the second runs after the first has committed): one round trip where
// there were two. The pool's clients must pipeline (statement-pool.ts).
import type pg from 'pg';

export type Settled<Row extends pg.QueryResultRow> = PromiseSettledResult<pg.QueryResult<Row>>;

export async function pipelined<First extends pg.QueryResultRow, Second extends pg.QueryResultRow>(
  pool: pg.Pool,
  first: pg.QueryConfig,
  second: pg.QueryConfig,
): Promise<[Settled<First>, Settled<Second>]> {
  const client = await pool.connect();
  // A checked-out client has no error listener of its own (pool.query adds one for its query): a
  // connection lost mid-way would otherwise throw from the socket. Both queries reject meanwhile.
  const ignore = () => undefined;
  client.on('error', ignore);
  const { stream } = client.connection;
  // Each statement's own cork nests inside this one: their messages leave in a single write.
  stream.cork();
  const sent = [client.query<First>(first), client.query<Second>(second)] as const;
  stream.uncork();
  const settled = await Promise.allSettled(sent);
  client.off('error', ignore);
  // As pg.Pool's own query does, a client whose statement failed is closed, not reused.
  const failed = settled.find((result) => result.status === 'rejected');
  client.release(failed && (failed.reason as Error));
  return settled;
}
