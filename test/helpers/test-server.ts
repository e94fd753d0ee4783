// A real Tessera on a fresh database, listening on a free port, for tests to call over HTTP.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config, type Env } from '../../src/config.js';
import { openDatabase, type Orm } from '../../src/db/orm.js';
import type { AuthServiceOptions } from '../../src/auth/services.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createServer, type ServerOptions, type TesseraServer } from '../../src/server.js';
import { GraphQLClient } from './graphql-client.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestServer {
  readonly url: string;
  readonly config: Config;
  readonly orm: Orm;
  readonly server: TesseraServer;
  readonly database: TestDatabase;
  readonly client: GraphQLClient;
  stop(): Promise<void>;
}

/** Cheap argon2 so that the suite stays fast; the production parameters are tested in unit tests. */
export const TEST_ENV: Env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
  ARGON2_PARALLELISM: '1',
  // Every test client is 127.0.0.1: the limits are exercised by the throttling tests only.
  RATE_LIMIT_IP_ATTEMPTS: '1000000',
  RATE_LIMIT_IP_REFRESHES: '1000000',
  ACCOUNT_LOCK_FAILURES: '1000',
};

/** Production needs SMTP_URL and APP_URL for its mail flows: a production test that names no SMTP server has them off. */
function mailDefaults(overrides: Env): Env {
  const production = overrides.NODE_ENV !== undefined && !['development', 'test'].includes(overrides.NODE_ENV);
  return production && !('SMTP_URL' in overrides) ? { MAIL_FLOWS: 'off' } : {};
}

export function testConfig(overrides: Env = {}): Config {
  return loadConfig({
    ...TEST_ENV,
    ...mailDefaults(overrides),
    JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    // Never written while JWT_SECRET_KEY is given and DATABASE_URL is set, except for the .eml files
    // of mails sent without SMTP_URL: startTestServer gives each server its own directory for them.
    TESSERA_DATA_DIR: path.join(tmpdir(), 'tessera-test-unused-data'),
    ...overrides,
  }).config;
}

/** What createServer takes beyond its config: the services' options, and a logger to read. */
export interface TestServerOptions extends AuthServiceOptions {
  readonly logger?: Logger;
  /** A port chosen in advance (freePort), for a config that must name its own address; else any free one. */
  readonly port?: number;
  /** Resolver classes served beside Tessera's own, for a test's own fields. */
  readonly extraResolvers?: ServerOptions['extraResolvers'];
}

/** A port nobody listens on right now, for a server whose config names its address before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startTestServer(
  overrides: Env = {},
  existing?: TestDatabase,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const database = existing ?? (await createTestDatabase());
  // Created only if a mail is written to a file (no SMTP_URL), and removed on stop.
  const dataDir = path.join(tmpdir(), `tessera-test-data-${randomUUID()}`);
  const config = testConfig({ DATABASE_URL: database.url, TESSERA_DATA_DIR: dataDir, ...overrides });
  const orm = await openDatabase(database.url, config);
  const { logger = createLogger(config), port = 0, ...serviceOptions } = options;
  const server = await createServer({ config, orm, databaseUrl: database.url, logger, ...serviceOptions });
  const url = await server.listen(port, '127.0.0.1');
  return {
    url,
    config,
    orm,
    server,
    database,
    client: new GraphQLClient(url),
    async stop() {
      await server.stop();
      await orm.close(true);
      await rm(dataDir, { recursive: true, force: true });
      if (!existing) await database.drop();
    },
  };
}
