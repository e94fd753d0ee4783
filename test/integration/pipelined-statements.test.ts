// Two statements in one round trip on a statement pool's connection: each its own transaction,
// the second run once the first has committed.
import type pg from 'pg';
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

test('each is its own transaction: either failing leaves the other committed', async () => {
  const [failed, after] = await pipelined(
    pool,
    { text: 'insert into probe values (1 / 0)' },
    { text: 'insert into probe values (2)' },
  );
  expect(failed).toMatchObject({ status: 'rejected', reason: { code: '22012' } });
  expect(after.status).toBe('fulfilled');

  const [before, duplicate] = await pipelined(
    pool,
    { text: 'insert into probe values (3)' },
    { text: 'insert into probe values (2)' },
  );
  expect(before.status).toBe('fulfilled');
  expect(duplicate).toMatchObject({ status: 'rejected', reason: { code: '23505' } });
  // The pool's one connection was replaced after each failure, and serves on.
  expect(await probe()).toEqual([2, 3]);
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
