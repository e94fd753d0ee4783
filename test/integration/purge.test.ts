// The purge of ended sessions, expired counters and old audit events: a large backlog (seeded in
// SQL) drains in bounded statements through one index per condition, live rows stay, and two
// purges never run at once, on one instance or across instances.
import pg from 'pg';
import { AUTH_EVENT_PURGE_SQL } from '../../src/auth/audit.js';
import { createPurgeRun, PURGE_LOCK_KEY } from '../../src/auth/purge-run.js';
import { SESSION_PURGE_EXPIRED_SQL, SESSION_PURGE_REVOKED_SQL } from '../../src/auth/sessions.js';
import { COUNTER_PURGE_SQL } from '../../src/auth/throttle.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const EXPIRED_SESSIONS = 200_000;
const OLD_REVOKED_SESSIONS = 60_000;
const OLD_EVENTS = 150_000;
const EXPIRED_COUNTERS = 40_000;
const BATCH = 10_000;

let app: TestServer;
let sql: pg.Client;
let userId: string;

beforeAll(async () => {
  // The timer's purge stays out of the way (SESSION_PURGE_INTERVAL's default is an hour).
  app = await startTestServer({ AUDIT_RETENTION: '1h', SESSION_REVOKED_RETENTION: '1d' });
  sql = new pg.Client({ connectionString: app.database.url });
  await sql.connect();
  userId = (await app.client.signup('backlog')).user.id;
});
afterAll(async () => {
  await sql.end();
  await app.stop();
});

/** Ended and live rows of the three tables; returns the ids of the rows that must stay. */
async function seedBacklog(): Promise<{ keptSessions: string[]; keptEvents: number; keptCounters: string[] }> {
  const session = (expires: string, revoked: string | null) =>
    `insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at, revoked_at)
     select gen_random_uuid(), $1, gen_random_uuid(), now() - interval '40 days', now() - interval '40 days',
            ${expires}, ${revoked ?? 'null'}
       from generate_series(1, $2)`;
  await sql.query(session("now() - interval '1 day' - random() * interval '30 days'", null), [
    userId,
    EXPIRED_SESSIONS,
  ]);
  await sql.query(session("now() + interval '10 days'", "now() - interval '2 days' - random() * interval '20 days'"), [
    userId,
    OLD_REVOKED_SESSIONS,
  ]);
  const { rows: kept } = await sql.query<{ id: string }>(
    `insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at, revoked_at)
     values (gen_random_uuid(), $1, gen_random_uuid(), now(), now(), now() + interval '10 days', null),
            (gen_random_uuid(), $1, gen_random_uuid(), now(), now(), now() + interval '10 days', now() - interval '1 hour')
     returning id`,
    [userId],
  );
  await sql.query(
    `insert into auth_events (type, user_id, created_at)
     select 'REFRESH', $1, now() - interval '2 hours' - random() * interval '30 days' from generate_series(1, $2)`,
    [userId, OLD_EVENTS],
  );
  const { rows: recent } = await sql.query<{ count: string }>(
    `with recent as (insert into auth_events (type, user_id, created_at)
       select 'LOGIN_SUCCEEDED', $1, now() - interval '10 minutes' from generate_series(1, 25) returning id)
     select count(*) from recent`,
    [userId],
  );
  await sql.query(
    `insert into rate_limits (key, points, expire)
     select 'ended:' || n, 1, (extract(epoch from now()) * 1000)::bigint - 1000 * n from generate_series(1, $1) n`,
    [EXPIRED_COUNTERS],
  );
  await sql.query(
    `insert into rate_limits (key, points, expire) values
       ('live:a', 3, (extract(epoch from now()) * 1000)::bigint + 600000), ('live:never', 1, null)
     on conflict (key) do nothing`,
  );
  await sql.query('analyze sessions; analyze auth_events; analyze rate_limits');
  return {
    keptSessions: kept.map((row) => row.id),
    keptEvents: Number(recent[0].count),
    keptCounters: ['live:a', 'live:never'],
  };
}

async function countRows(query: string, values: unknown[] = []): Promise<number> {
  const { rows } = await sql.query<{ count: string }>(query, values);
  return Number(rows[0].count);
}

function purgeRun() {
  return createPurgeRun(app.config, app.orm, app.server.services, app.database.url);
}

/** The plan PostgreSQL picks for a purge statement (MikroORM's `?` placeholders as `$n`). */
async function planOf(statement: string, values: unknown[]): Promise<string> {
  let n = 0;
  const text = statement.replace(/\?/g, () => `$${++n}`);
  const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`explain ${text}`, values);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

async function holdingPurgeLock(): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: app.database.url });
  await other.connect();
  const { rows } = await other.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
    PURGE_LOCK_KEY.toString(),
  ]);
  expect(rows[0].locked).toBe(true);
  return other;
}

describe('with a backlog of a few hundred thousand ended rows', () => {
  let kept: Awaited<ReturnType<typeof seedBacklog>>;
  beforeAll(async () => {
    kept = await seedBacklog();
  });

  test('each purge condition reads its own index, the audit purge auth_events_created_at_index', async () => {
    const now = new Date();
    const dayAgo = new Date(Date.now() - 86_400_000);
    const plans = {
      sessionsExpired: await planOf(SESSION_PURGE_EXPIRED_SQL, [now, now, BATCH]),
      sessionsRevoked: await planOf(SESSION_PURGE_REVOKED_SQL, [dayAgo, dayAgo, BATCH]),
      events: await planOf(AUTH_EVENT_PURGE_SQL, [dayAgo, dayAgo, BATCH]),
      // Written for node-postgres: already `$n`.
      counters: await planOf(COUNTER_PURGE_SQL, [Date.now(), BATCH]),
    };
    expect(plans.sessionsExpired).toMatch(/Index Scan using sessions_expires_at_index/);
    expect(plans.sessionsRevoked).toMatch(/Index Scan using sessions_revoked_at_index/);
    expect(plans.events).toMatch(/Index Scan using auth_events_created_at_index/);
    expect(plans.counters).toMatch(/Index Scan using rate_limits_expire_index/);
    for (const plan of Object.values(plans)) expect(plan).not.toMatch(/Seq Scan/);
  });

  test('a purge holding the lock on another instance keeps this one from starting', async () => {
    const otherInstance = await holdingPurgeLock();
    try {
      expect(await purgeRun().run({ batchSize: BATCH })).toBeNull();
      expect(await countRows('select count(*) from sessions where expires_at < now()')).toBe(EXPIRED_SESSIONS);
    } finally {
      await otherInstance.end();
    }
  });

  test('the backlog drains in bounded statements, a second call meanwhile does nothing, live rows stay', async () => {
    const purges = purgeRun();
    const running = purges.run({ batchSize: BATCH });
    expect(await purges.run({ batchSize: BATCH })).toBeNull();
    const result = (await running)!;
    expect(result).not.toBeNull();

    expect(result.sessions.deleted).toBe(EXPIRED_SESSIONS + OLD_REVOKED_SESSIONS);
    expect(result.events.deleted).toBe(OLD_EVENTS);
    expect(result.counters.deleted).toBe(EXPIRED_COUNTERS);
    // Every statement deleted at most BATCH rows; the last of each condition fewer.
    expect(result.sessions.batches).toBe(
      Math.floor(EXPIRED_SESSIONS / BATCH) + 1 + Math.floor(OLD_REVOKED_SESSIONS / BATCH) + 1,
    );
    expect(result.events.batches).toBe(Math.floor(OLD_EVENTS / BATCH) + 1);
    expect(result.counters.batches).toBe(Math.floor(EXPIRED_COUNTERS / BATCH) + 1);

    const sessions = await sql.query<{ id: string }>('select id from sessions where user_id = $1', [userId]);
    const signupSession = sessions.rows.map((row) => row.id).filter((id) => !kept.keptSessions.includes(id));
    expect(signupSession).toHaveLength(1);
    expect(sessions.rows.map((row) => row.id)).toEqual(expect.arrayContaining(kept.keptSessions));
    expect(await countRows("select count(*) from auth_events where type = 'LOGIN_SUCCEEDED'")).toBe(kept.keptEvents);
    expect(await countRows("select count(*) from auth_events where type = 'SIGNUP'")).toBe(1);
    const counters = await sql.query<{ key: string }>(
      "select key from rate_limits where key like 'live:%' order by key",
    );
    expect(counters.rows.map((row) => row.key)).toEqual(kept.keptCounters);
    expect(await countRows("select count(*) from rate_limits where key like 'ended:%'")).toBe(0);
  });

  test('with nothing left, a purge reads one statement per condition and deletes nothing', async () => {
    const result = (await purgeRun().run())!;
    expect(result.sessions).toEqual({ deleted: 0, batches: 2 });
    expect(result.events).toEqual({ deleted: 0, batches: 1 });
    expect(result.counters).toEqual({ deleted: 0, batches: 1 });
  });

  test('the lock is released when a purge ends, and a stopped purge runs no further statement', async () => {
    await holdingPurgeLock().then((lock) => lock.end());
    await sql.query(
      `insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at)
       select gen_random_uuid(), $1, gen_random_uuid(), now(), now(), now() - interval '1 day' from generate_series(1, 10)`,
      [userId],
    );
    const purges = purgeRun();
    await purges.stop();
    const result = (await purges.run())!;
    expect(result.sessions).toEqual({ deleted: 0, batches: 0 });
    expect(result.events).toEqual({ deleted: 0, batches: 0 });
    expect(result.counters).toEqual({ deleted: 0, batches: 0 });
    expect(await countRows('select count(*) from sessions where expires_at < now()')).toBe(10);
    expect((await purgeRun().run())!.sessions).toEqual({ deleted: 10, batches: 2 });
  });
});
