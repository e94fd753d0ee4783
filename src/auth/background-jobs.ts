// What runs beside the requests: the invalidation listener that keeps this instance's principal
// cache in step with the others, and the timer that purges ended sessions, expired counters and
// audit events past their retention.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { purgeAuthEvents } from './audit.js';
import { InvalidationListener } from './invalidation.js';
import type { AuthServices } from './services.js';

export interface BackgroundJobs {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBackgroundJobs(
  config: Config,
  orm: Orm,
  services: AuthServices,
  databaseUrl: string,
  logger: Logger,
): BackgroundJobs {
  const invalidations = new InvalidationListener(databaseUrl, services.principals, logger);
  let purgeTimer: NodeJS.Timeout | undefined;

  const purge = (): void => {
    Promise.all([
      services.sessions.purge(orm.em.fork() as EntityManager),
      services.throttle.purgeExpired(),
      purgeAuthEvents(orm.em.fork() as EntityManager, config.audit.retentionSeconds),
    ]).then(
      ([sessions, counters, events]) =>
        sessions + counters + events > 0 &&
        logger.info({ sessions, counters, events }, 'purged ended sessions, expired counters and old audit events'),
      (error: unknown) => logger.warn({ err: error }, 'purge failed; will retry'),
    );
  };

  return {
    async start() {
      await invalidations.start();
      purgeTimer = setInterval(purge, config.sessions.purgeIntervalSeconds * 1000);
      purgeTimer.unref();
    },
    async stop() {
      clearInterval(purgeTimer);
      await invalidations.stop();
    },
  };
}
