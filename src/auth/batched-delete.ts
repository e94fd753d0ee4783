// Purges delete in bounded batches, each its own autocommitted statement, so that a backlog of any
// size drains without one long lock, one burst of WAL delaying every commit, or a statement past
// the pool's statement timeout.
import type { EntityManager } from '@mikro-orm/postgresql';
import { setTimeout as delay } from 'node:timers/promises';

/** Rows deleted per statement by the purges. */
export const PURGE_BATCH = 5000;

/** What a purge did: rows deleted, and in how many statements. */
export interface PurgeCount {
  deleted: number;
  batches: number;
}

export interface PurgeOptions {
  /** Rows per statement. */
  batchSize?: number;
  /** Aborted when the server stops: the purge ends after the statement in flight. */
  signal?: AbortSignal;
}

export function addPurgeCounts(...counts: PurgeCount[]): PurgeCount {
  return counts.reduce(
    (sum, count) => ({ deleted: sum.deleted + count.deleted, batches: sum.batches + count.batches }),
    { deleted: 0, batches: 0 },
  );
}

/**
 * Calls `deleteBatch` (one delete statement of at most `limit` rows, returning how many it
 * deleted) until a batch deletes fewer rows than the limit, or the purge is aborted; between two
 * batches it waits as long as the last one took.
 */
export async function deleteInBatches(
  deleteBatch: (limit: number) => Promise<number>,
  options: PurgeOptions = {},
): Promise<PurgeCount> {
  const limit = options.batchSize ?? PURGE_BATCH;
  let deleted = 0;
  let batches = 0;
  while (!options.signal?.aborted) {
    const started = performance.now();
    const count = await deleteBatch(limit);
    deleted += count;
    batches += 1;
    if (count < limit) break;
    // As long idle as the batch took: a backlog drains at half speed and requests keep the rest.
    await delay(performance.now() - started);
  }
  return { deleted, batches };
}

/** A batch through the ORM's pool: `sql`'s last `?` is the row limit. */
export function ormBatch(em: EntityManager, sql: string, params: unknown[]): (limit: number) => Promise<number> {
  return async (limit) => {
    const result = await em.getConnection().execute<{ affectedRows?: number }>(sql, [...params, limit], 'run');
    return result.affectedRows ?? 0;
  };
}
