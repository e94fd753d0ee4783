// MikroORM options built from Config, shared by the server, the CLI and the tests, so that all
// three see the same entities, pool and migrations.
import { Migrator } from '@mikro-orm/migrations';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities/index.js';

export type Orm = MikroORM;

export function buildOrmOptions(databaseUrl: string, config: Pick<Config, 'databasePoolSize'>): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    // Migrations are imported, not discovered on disk: the same list runs from src (tests) and dist.
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: config.databasePoolSize, idleTimeoutMillis: 30_000 },
    // Fail fast while the database is unreachable or the pool is exhausted (SERVICE_UNAVAILABLE),
    // instead of piling requests up behind a connect that may never finish.
    driverOptions: { connectionTimeoutMillis: 3_000, statement_timeout: 15_000, keepAlive: true },
    // A database that does not exist is an operator's mistake to report, not to paper over.
    ensureDatabase: false,
    // Every request forks its own EntityManager; touching the global one is a bug.
    allowGlobalContext: false,
    debug: false,
    discovery: { warnWhenNoEntities: true },
  });
}

/** Connects and applies every pending migration (all or nothing). */
export async function openDatabase(databaseUrl: string, config: Pick<Config, 'databasePoolSize'>): Promise<Orm> {
  const orm = await MikroORM.init(buildOrmOptions(databaseUrl, config));
  try {
    await orm.migrator.up();
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}
