// A fresh database for one bench run: a new database on DATABASE_URL's server (dropped at the
// end), or an embedded PostgreSQL in a temporary folder (removed at the end). On the embedded
// cluster, pg_stat_statements is preloaded so that queries are counted exactly.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { embeddedSuperuserUrl, startEmbeddedPostgres } from '../src/db/embedded.js';

export interface BenchDatabase {
  readonly url: string;
  /** Where the bench counts statements: loading and resetting pg_stat_statements takes a superuser. */
  readonly countersUrl: string;
  readonly kind: 'embedded' | 'external';
  /** Statements can be counted (pg_stat_statements is loaded), not only transactions. */
  readonly statementsCounted: boolean;
  drop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A connection of its own for `work`, closed whatever happens. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** True when pg_stat_statements answers in this database (it must be preloaded by the server). */
async function enableStatementCounting(url: string): Promise<boolean> {
  try {
    return await withClient(url, async (client) => {
      await client.query('create extension if not exists pg_stat_statements');
      await client.query('select 1 from pg_stat_statements limit 1');
      return true;
    });
  } catch {
    return false;
  }
}

async function createOnServer(serverUrl: string): Promise<BenchDatabase> {
  const name = `tessera_bench_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const statementsCounted = await enableStatementCounting(url.toString());
  return {
    url: url.toString(),
    countersUrl: url.toString(),
    kind: 'external',
    statementsCounted,
    drop: async () => {
      await withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

async function startEmbedded(): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  const options = { dataDir, port: await freePort(), database: 'tessera_bench' };
  const superuserUrl = embeddedSuperuserUrl(dataDir, options.port, options.database);
  let database;
  try {
    // Initialise, preload pg_stat_statements, restart (about 40 ms) so that it takes effect.
    const first = await startEmbeddedPostgres(options);
    await withClient(superuserUrl, (client) =>
      client.query("alter system set shared_preload_libraries = 'pg_stat_statements'"),
    );
    await first.stop();
    database = await startEmbeddedPostgres(options);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const statementsCounted = await enableStatementCounting(superuserUrl);
  return {
    url: database.url,
    countersUrl: superuserUrl,
    kind: 'embedded',
    statementsCounted,
    drop: async () => {
      try {
        await database.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export function openBenchDatabase(): Promise<BenchDatabase> {
  const serverUrl = process.env.DATABASE_URL?.trim();
  return serverUrl ? createOnServer(serverUrl) : startEmbedded();
}
