// The one entry point: load config -> open the database (embedded when no DATABASE_URL) ->
// migrate -> listen. Drains and closes on SIGTERM/SIGINT.
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config.js';
import { resolveDatabase } from './db/embedded.js';
import { openDatabase } from './db/orm.js';
import { createLogger } from './logger.js';
import { createServer } from './server.js';
import { takeOverSignals } from './shutdown-signals.js';
import { lowerThreadPoolPriority } from './thread-pool.js';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Tessera cannot start: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const { config, warnings } = loaded;
  // libuv reads this when its pool first starts, which nothing has caused yet.
  process.env.UV_THREADPOOL_SIZE = String(config.threadPoolSize);
  const logger = createLogger(config);
  for (const warning of warnings) logger.warn(warning);
  if (config.nodeEnv !== 'production')
    logger.info(
      { env: config.nodeEnv, mode: config.isProduction ? 'production' : 'development' },
      config.isProduction
        ? "production's defaults and checks (every NODE_ENV but development and test)"
        : 'development mode: introspection, a generated secret and cheap argon2 are allowed',
    );

  const database = await resolveDatabase(config);
  if (database.embedded)
    logger.info({ dataDir: config.dataDir, port: config.embeddedPostgresPort }, 'started the embedded PostgreSQL');
  const orm = await openDatabase(database.url, config);
  const server = await createServer({ config, orm, databaseUrl: database.url, logger });
  await server.services.passwords.warmUp();
  if (config.threadPoolNice > 0) {
    const lowered = lowerThreadPoolPriority(config.threadPoolNice);
    if (lowered === config.threadPoolSize)
      logger.info({ threads: lowered, by: config.threadPoolNice }, 'lowered the priority of the hashing threads');
    else
      logger.warn(
        { found: lowered, expected: config.threadPoolSize },
        'could not lower the priority of every hashing thread (Linux only): logins may slow other requests',
      );
  }
  const url = await server.listen();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    try {
      await server.stop();
      await orm.close();
      await database.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  // Before the server is announced, so that whoever waits for the announcement can stop it.
  takeOverSignals((signal) => void shutdown(signal));
  logger.info({ url, env: config.nodeEnv }, 'Tessera is listening');
  const metricsUrl = server.metricsUrl();
  if (metricsUrl) logger.info({ url: metricsUrl }, 'serving Prometheus metrics on their own listener');
  console.log(`Tessera GraphQL API ready at ${url}`);
}

main().catch((error: unknown) => {
  console.error('Tessera failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
