// A database of its own for each test file, so that files run in parallel without sharing rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TESSERA_TEST_ADMIN_URL;
  if (!url) throw new Error('TESSERA_TEST_ADMIN_URL is not set: run the tests through `npm test`');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function runAdminSql(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  await runAdminSql(`create database "${name}"`);
  return {
    url: withDatabase(adminUrl(), name),
    name,
    drop: () => runAdminSql(`drop database if exists "${name}" with (force)`),
  };
}
