// One purge of everything that outlives its use, run by the timer: at most one at a time on this
// instance (a slow run is not overlapped by the next tick) and across instances (a session-level
// advisory lock held on a connection of its own while the batches run through the pools).
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { purgeAuthEvents } from './audit.js';
import type { PurgeCount, PurgeOptions } from './batched-delete.js';
import type { AuthServices } from './services.js';

/** The purge's advisory lock key: any constant, the same on every instance. */
export const PURGE_LOCK_KEY = 7_354_206_813_926_121_000n;

export interface PurgeResult {
  sessions: PurgeCount;
  counters: PurgeCount;
  events: PurgeCount;
  mailedTokens: number;
  registrations: number;
}

/** Null when another purge held the lock (here or on another instance), so this one did nothing. */
export type PurgeOutcome = PurgeResult | null;

export function purgedAnything(result: PurgeResult): boolean {
  const { sessions, counters, events, mailedTokens, registrations } = result;
  return sessions.deleted + counters.deleted + events.deleted + mailedTokens + registrations > 0;
}

export interface PurgeRun {
  /** Purges now, unless a purge is already running anywhere. */
  run(options?: PurgeOptions): Promise<PurgeOutcome>;
  /** Ends a running purge after its statement in flight, and waits for it. */
  stop(): Promise<void>;
}

export function createPurgeRun(config: Config, orm: Orm, services: AuthServices, lockUrl: string): PurgeRun {
  let running: Promise<PurgeOutcome> | undefined;
  const stopping = new AbortController();

  const purgeAll = async (options: PurgeOptions): Promise<PurgeResult> => {
    const fork = (): EntityManager => orm.em.fork();
    // One table after another: the purge is background work, its batches need not compete.
    const sessions = await services.sessions.purge(fork(), options);
    const counters = await services.throttle.purgeExpired(options);
    const events = await purgeAuthEvents(fork(), config.audit.retentionSeconds, options);
    const mailedTokens = await services.oneTimeTokens.purgeExpired(fork());
    const registrations = await services.registration.purgeExpired(fork());
    return { sessions, counters, events, mailedTokens, registrations };
  };

  const locked = async (options: PurgeOptions): Promise<PurgeOutcome> => {
    const lock = new pg.Client({ connectionString: lockUrl, connectionTimeoutMillis: 3_000 });
    lock.on('error', () => undefined);
    await lock.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        PURGE_LOCK_KEY.toString(),
      ]);
      if (!rows[0]?.locked) return null;
      // Closing the connection releases the lock too, also when the process dies mid-purge.
      return await purgeAll({ ...options, signal: stopping.signal });
    } finally {
      await lock.end().catch(() => undefined);
    }
  };

  return {
    run(options = {}) {
      if (running) return Promise.resolve(null);
      running = locked(options).finally(() => (running = undefined));
      return running;
    },
    async stop() {
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
}
