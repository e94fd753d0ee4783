// What runs beside the requests: the invalidation listener that keeps this instance's principal
// cache in step with the others, the refresh that re-reads the cached principals within the cache
// TTL, and the timer that purges ended sessions, expired counters and audit events past their
// retention, and mailed tokens and pending registrations long expired (purge-run.ts).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { InvalidationListener } from './invalidation.js';
import { createPurgeRun, purgedAnything } from './purge-run.js';
import type { AuthServices } from './services.js';

export interface BackgroundJobs {
  /** The invalidation listener's state, for its gauges. */
  listenerState(): { up: boolean; lastNoticeAt: number | undefined };
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBackgroundJobs(
  config: Config,
  orm: Orm,
  services: AuthServices,
  listenUrl: string,
  logger: Logger,
): BackgroundJobs {
  const root = orm.em as EntityManager;
  const invalidations = new InvalidationListener(listenUrl, root, services.principals, logger);
  const purges = createPurgeRun(config, orm, services, listenUrl);
  let purgeTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  const refresh = (): void => {
    if (refreshing) return;
    refreshing = services.principals
      .refresh(root)
      .catch((error: unknown) => logger.warn({ err: error }, 'refreshing the principal cache failed; will retry'))
      .finally(() => (refreshing = undefined));
  };

  const purge = (): void => {
    purges.run().then(
      (result) =>
        result &&
        purgedAnything(result) &&
        logger.info(
          {
            sessions: result.sessions.deleted,
            counters: result.counters.deleted,
            events: result.events.deleted,
            mailedTokens: result.mailedTokens,
            registrations: result.registrations,
            statements: result.sessions.batches + result.counters.batches + result.events.batches,
          },
          'purged ended sessions, expired counters, old audit events, expired mailed tokens and registrations',
        ),
      (error: unknown) => logger.warn({ err: error }, 'purge failed; will retry'),
    );
  };

  return {
    listenerState: () => invalidations.state(),
    async start() {
      await invalidations.start();
      purgeTimer = setInterval(purge, config.sessions.purgeIntervalSeconds * 1000);
      purgeTimer.unref();
      const refreshMs = services.principals.refreshIntervalMs;
      if (refreshMs !== undefined) {
        refreshTimer = setInterval(refresh, refreshMs);
        refreshTimer.unref();
      }
    },
    async stop() {
      clearInterval(purgeTimer);
      clearInterval(refreshTimer);
      await refreshing;
      await purges.stop();
      await invalidations.stop();
    },
  };
}
