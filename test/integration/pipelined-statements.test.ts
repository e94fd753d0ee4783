// Two statements in one round trip on a statement pool's connection: each its own transaction,
// the second run once the first has committed.
import pg from 'pg';
import { pipelined } from '../../src/db/pipelined.js';
import { createStatementPool } from '../../src/db/statement-pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  // One connection: every pair below shares it with the reads that check them.
  pool = createStatementPool(database.url, 1, 5_000);
  await pool.query('create table probe (n int primary key)');
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});
beforeEach(() => pool.query('truncate probe'));

const backendPid = async () => (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
const probe = async () => (await pool.query<{ n: number }>('select n from probe order by n')).rows.map((row) => row.n);

test('the second statement reads what the first committed', async () => {
  const [inserted, counted] = await pipelined<{ n: number }, { count: number }>(
    pool,
    { text: 'insert into probe values ($1) returning n', values: [1] },
    { text: 'select count(*)::int as count from probe' },
  );
  expect(inserted).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 1 }] } });
  expect(counted).toMatchObject({ status: 'fulfilled', value: { rows: [{ count: 1 }] } });
});

test('each is its own transaction: either failing leaves the other committed, on a new connection', async () => {
  const pid = await backendPid();
  const [failed, after] = await pipelined(
    pool,
    { text: 'insert into probe values (1 / 0)' },
    { text: 'insert into probe values (2)' },
  );
  expect(failed).toMatchObject({ status: 'rejected', reason: { code: '22012' } });
  expect(after.status).toBe('fulfilled');
  // The pool's one connection was closed after the failure: the next statement opens another.
  const replaced = await backendPid();
  expect(replaced).not.toBe(pid);

  const [before, duplicate] = await pipelined(
    pool,
    { text: 'insert into probe values (3)' },
    { text: 'insert into probe values (2)' },
  );
  expect(before.status).toBe('fulfilled');
  expect(duplicate).toMatchObject({ status: 'rejected', reason: { code: '23505' } });
  expect(await backendPid()).not.toBe(replaced);
  expect(await probe()).toEqual([2, 3]);
});

test('both statements leave in one write', async () => {
  // The pool's one idle client is the one pipelined() takes next: count its socket's writes.
  const client = await pool.connect();
  const stream = client.connection.stream as unknown as { _write: unknown; _writev: unknown };
  const writes: string[] = [];
  for (const method of ['_write', '_writev'] as const) {
    const original = stream[method] as (...args: unknown[]) => unknown;
    stream[method] = function (this: unknown, ...args: unknown[]) {
      writes.push(method);
      return original.apply(this, args);
    };
  }
  client.release();
  const [inserted, counted] = await pipelined<never, { count: number }>(
    pool,
    { text: 'insert into probe values (7)' },
    { text: 'select count(*)::int as count from probe' },
  );
  expect([inserted.status, counted.status]).toEqual(['fulfilled', 'fulfilled']);
  expect(writes).toHaveLength(1);
});

test('a connection lost in the middle rejects both statements, and the pool serves on', async () => {
  const pid = await backendPid();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    const pair = pipelined(pool, { text: 'select pg_sleep(5)' }, { text: 'select 1' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await admin.query('select pg_terminate_backend($1)', [pid]);
    const [slept, after] = await pair;
    expect([slept.status, after.status]).toEqual(['rejected', 'rejected']);
  } finally {
    await admin.end();
  }
  expect(await probe()).toEqual([]);
});

test('named statements are prepared once and run again on the same connection', async () => {
  const insert = (n: number): pg.QueryConfig => ({
    name: 'probe-insert',
    text: 'insert into probe values ($1)',
    values: [n],
  });
  const count: pg.QueryConfig = { name: 'probe-count', text: 'select count(*)::int as count from probe' };
  for (const n of [1, 2, 3]) {
    const [inserted, counted] = await pipelined<never, { count: number }>(pool, insert(n), count);
    expect(inserted.status).toBe('fulfilled');
    expect(counted).toMatchObject({ status: 'fulfilled', value: { rows: [{ count: n }] } });
  }
});
