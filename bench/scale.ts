// `--scale`: the bench database grown in SQL to 1,000,000 users, 5,000,000 sessions (most ended),
// 20,000,000 audit events and 2,000,000 tasks (times --scale-factor), beside the seeded users the
// scenarios use; then what the grown database looks like: table sizes, index use, the busiest
// statements and their plans. The purge's own statements, in its batches, run while load is measured.
import { AUTH_EVENT_PURGE_SQL } from '../src/auth/audit.js';
import { deleteInBatches, type PurgeCount } from '../src/auth/batched-delete.js';
import { SESSION_PURGE_EXPIRED_SQL, SESSION_PURGE_REVOKED_SQL } from '../src/auth/sessions.js';
import { COUNTER_PURGE_SQL } from '../src/auth/throttle.js';
import type pg from 'pg';
import { withClient } from './database.js';

export const FULL_SCALE = {
  users: 1_000_000,
  sessions: 5_000_000,
  events: 20_000_000,
  tasks: 2_000_000,
  counters: 100_000,
};

export type ScaleCounts = typeof FULL_SCALE;

export function scaleCounts(factor: number): ScaleCounts {
  const of = (n: number) => Math.max(10, Math.round(n * factor));
  return {
    users: of(FULL_SCALE.users),
    sessions: of(FULL_SCALE.sessions),
    events: of(FULL_SCALE.events),
    tasks: of(FULL_SCALE.tasks),
    counters: of(FULL_SCALE.counters),
  };
}

/** The grown users' ids, computable in SQL from their number: rows of other tables pick owners by it. */
const USER_ID = (n: string) => `md5('tessera-scale-user-' || ${n})::uuid`;

/**
 * Drops the table's indexes that no constraint owns and returns their definitions. Millions of
 * rows inserted into a random-order index larger than the buffer cache take many times as long
 * as building it again afterwards in one sort; the rebuilt index is the same.
 */
async function dropSecondaryIndexes(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `select indexname as name, indexdef as definition from pg_indexes i
      where schemaname = current_schema() and tablename = $1
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
    [table],
  );
  for (const { name } of rows) await client.query(`drop index "${name}"`);
  return rows.map((r) => r.definition);
}

/**
 * Grows the database in SQL (generate_series), one real argon2 hash (a seeded user's) reused by
 * every grown user. Of the sessions, 10% are live, 45% past their absolute end and 45% revoked
 * longer ago than the retention (the purge's backlog); 5% of the events are past AUDIT_RETENTION.
 */
export async function growDatabase(url: string, counts: ScaleCounts, log: (m: string) => void): Promise<number> {
  const started = Date.now();
  await withClient(url, async (client) => {
    const step = async (what: string, sql: string, values: unknown[] = []) => {
      const at = Date.now();
      const table = /^\s*insert into (\w+)/.exec(sql)?.[1];
      const indexes = table ? await dropSecondaryIndexes(client, table) : [];
      await client.query(sql, values);
      for (const definition of indexes) await client.query(definition);
      log(`  ${what} in ${((Date.now() - at) / 1000).toFixed(1)} s`);
    };
    await client.query("set synchronous_commit = 'off'");
    await client.query("set maintenance_work_mem = '1GB'");
    await step(
      `${counts.users} users`,
      `insert into users (id, username, username_key, email, email_key, password_hash, roles, is_active, created_at, updated_at)
       select ${USER_ID('n')}, 'scale_' || n, 'scale_' || n, 'scale_' || n || '@example.com', 'scale_' || n || '@example.com',
              (select password_hash from users order by created_at limit 1), '{USER}', true,
              now() - interval '2 years' + n * interval '1 second', now()
         from generate_series(1, $1) n`,
      [counts.users],
    );
    await step(
      `${counts.sessions} sessions`,
      `insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
       select gen_random_uuid(), ${USER_ID('1 + s % $2')}, gen_random_uuid(), now() - interval '60 days', now() - interval '40 days',
              case when s % 20 < 2 then now() + interval '20 days'
                   when s % 20 < 11 then now() - interval '1 day' - (s % 1000) * interval '1 minute'
                   else now() + interval '5 days' end,
              case when s % 20 >= 11 then now() - interval '8 days' - (s % 1000) * interval '1 minute' end,
              case when s % 20 >= 11 then 'LOGOUT' end
         from generate_series(1, $1) s`,
      [counts.sessions, counts.users],
    );
    await step(
      `${counts.events} audit events`,
      `insert into auth_events (type, user_id, session_id, ip, created_at)
       select (array['LOGIN_SUCCEEDED','REFRESH','REFRESH','REFRESH','LOGOUT','LOGIN_FAILED'])[1 + e % 6],
              ${USER_ID('1 + e % $2')}, null, '10.0.' || (e % 250) || '.' || (e % 200),
              case when e % 20 = 0 then now() - interval '91 days' - (e % 1000) * interval '1 minute'
                   else now() - (e % 7776000) * interval '1 second' end
         from generate_series(1, $1) e`,
      [counts.events, counts.users],
    );
    await step(
      `${counts.tasks} tasks`,
      `insert into tasks (id, title, done, owner_id, created_at)
       select gen_random_uuid(), 'Scale task ' || t, t % 3 = 0, ${USER_ID('1 + t % $2')}, now() - (t % 86400) * interval '1 second'
         from generate_series(1, $1) t`,
      [counts.tasks, counts.users],
    );
    await step(
      `${counts.counters} ended attempt counters`,
      `insert into rate_limits (key, points, expire)
       select 'scale:' || c, 1, (extract(epoch from now()) * 1000)::bigint - c * 1000 from generate_series(1, $1) c`,
      [counts.counters],
    );
    await step('vacuum analyze', 'vacuum analyze users, sessions, auth_events, tasks, rate_limits');
  });
  return (Date.now() - started) / 1000;
}

export interface TableSize {
  table: string;
  rows: number;
  totalMb: number;
  indexes: Array<{ name: string; mb: number; scans: number }>;
}

/** Each table's rows and size, and each index's size and scans since the statistics were reset. */
export async function tableSizes(url: string): Promise<TableSize[]> {
  return withClient(url, async (client) => {
    const { rows: tables } = await client.query<{ table: string; rows: string; total: string }>(
      `select t.relname as table, greatest(c.reltuples, 0)::bigint as rows, pg_total_relation_size(t.relid) as total
         from pg_stat_user_tables t join pg_class c on c.oid = t.relid
        where t.relname <> 'mikro_orm_migrations' order by pg_total_relation_size(t.relid) desc`,
    );
    const { rows: indexes } = await client.query<{ table: string; name: string; size: string; scans: string }>(
      `select relname as table, indexrelname as name, pg_relation_size(indexrelid) as size, idx_scan as scans
         from pg_stat_user_indexes order by relname, indexrelname`,
    );
    const mb = (bytes: string) => Math.round((Number(bytes) / 1048576) * 10) / 10;
    return tables.map((t) => ({
      table: t.table,
      rows: Number(t.rows),
      totalMb: mb(t.total),
      indexes: indexes
        .filter((i) => i.table === t.table)
        .map((i) => ({ name: i.name, mb: mb(i.size), scans: Number(i.scans) })),
    }));
  });
}

export interface HotStatement {
  query: string;
  calls: number;
  meanMs: number;
  plan: string;
}

/**
 * The busiest statements of the run (pg_stat_statements) and the plan of each (EXPLAIN
 * GENERIC_PLAN, PostgreSQL 16 and later; on an older server the plan says why it is missing).
 */
export async function hotStatements(url: string, limit = 12): Promise<HotStatement[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ query: string; calls: string; mean: number }>(
      `select query, calls, mean_exec_time as mean from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database())
          and query ~* '^\\s*(with|select|insert|update|delete)' and query not like '%pg_stat%'
          and query !~* '^\\s*select (pg_notify|set_config|1)\\M'
        order by calls desc limit $1`,
      [limit],
    );
    const hot: HotStatement[] = [];
    for (const row of rows) {
      let plan: string;
      try {
        await client.query('begin');
        const explained = await client.query<{ 'QUERY PLAN': string }>(
          `explain (generic_plan, costs off) ${row.query}`,
        );
        plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
      } catch (error) {
        plan = `(no plan: ${(error as Error).message})`;
      } finally {
        await client.query('rollback');
      }
      hot.push({
        query: row.query.replace(/\s+/g, ' ').slice(0, 400),
        calls: Number(row.calls),
        meanMs: Math.round(row.mean * 1000) / 1000,
        plan,
      });
    }
    return hot;
  });
}

/** Statements that are not hot but grow with the tables: the users list's pages, an ADMIN's audit read, the purge's batches. */
const NAMED_STATEMENTS: Record<string, string> = {
  'users(offset: 500000)': `select * from users order by created_at, id limit 50 offset 500000`,
  'users(after)': `select * from users u where (u.created_at, u.id) > (select c.created_at, c.id from users c where c.id = ${USER_ID('500000')}) order by created_at, id limit 50`,
  'authEvents(userId)': `select * from auth_events where user_id = ${USER_ID('42')} order by id desc limit 50`,
  'session purge (expired)': `delete from sessions where expires_at < now() and id = any(array(select id from sessions where expires_at < now() order by expires_at limit 5000))`,
  'session purge (revoked)': `delete from sessions where revoked_at < now() - interval '7 days' and id = any(array(select id from sessions where revoked_at < now() - interval '7 days' order by revoked_at limit 5000))`,
  'audit purge': `delete from auth_events where created_at < now() - interval '90 days' and id = any(array(select id from auth_events where created_at < now() - interval '90 days' order by created_at limit 5000))`,
  'counter purge': `delete from rate_limits where expire < (extract(epoch from now()) * 1000)::bigint and key = any(array(select key from rate_limits where expire < (extract(epoch from now()) * 1000)::bigint order by expire limit 5000))`,
};

/** EXPLAIN ANALYZE of each named statement, each in a transaction rolled back: the purge's batches delete nothing for good. */
export async function namedPlans(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const plans: Record<string, string> = {};
    for (const [name, sql] of Object.entries(NAMED_STATEMENTS)) {
      await client.query('begin');
      try {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, timing off) ${sql}`);
        plans[name] = rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await client.query('rollback');
      }
    }
    return plans;
  });
}

export async function resetStatementStats(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('select pg_stat_statements_reset()').catch(() => undefined);
    await client.query('select pg_stat_reset()');
  });
}

export interface PurgeFigures {
  seconds: number;
  sessions: PurgeCount;
  events: PurgeCount;
  counters: PurgeCount;
}

/** The purge's statements in its batches, as the server's timer runs them, on a connection of its own. */
export async function runPurge(
  url: string,
  auditRetentionSeconds: number,
  revokedRetentionSeconds: number,
): Promise<PurgeFigures> {
  return withClient(url, async (client) => {
    const started = Date.now();
    const orm = (sql: string, cutoff: unknown) => {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      return async (limit: number) => (await client.query(text, [cutoff, cutoff, limit])).rowCount ?? 0;
    };
    const now = new Date();
    const sessions = [
      await deleteInBatches(orm(SESSION_PURGE_EXPIRED_SQL, now)),
      await deleteInBatches(orm(SESSION_PURGE_REVOKED_SQL, new Date(now.getTime() - revokedRetentionSeconds * 1000))),
    ];
    const counters = await deleteInBatches(
      async (limit) => (await client.query(COUNTER_PURGE_SQL, [Date.now(), limit])).rowCount ?? 0,
    );
    const events = await deleteInBatches(
      orm(AUTH_EVENT_PURGE_SQL, new Date(now.getTime() - auditRetentionSeconds * 1000)),
    );
    return {
      seconds: (Date.now() - started) / 1000,
      sessions: {
        deleted: sessions[0].deleted + sessions[1].deleted,
        batches: sessions[0].batches + sessions[1].batches,
      },
      events,
      counters,
    };
  });
}
