// An instance whose LISTEN connection is dropped without a word (a NAT or load balancer forgetting
// an idle flow: no reset, no error) misses every notice from then on. It must notice within its
// heartbeat and stop answering from its cache, or a logout elsewhere would never reach it. So must
// an instance whose LISTEN connection works but hears nothing (it sits on another database, as
// behind a transaction pooler): its heartbeat never comes back, so it never uses the cache.
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import pg from 'pg';
import { claimsOf, meReason } from '../helpers/session-helpers.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, withDatabase, type TestDatabase } from '../helpers/test-database.js';

/** The listener's heartbeat (2 s) and its deadline (5 s), with room for a busy machine. */
const NOTICED_WITHIN_MS = 12_000;

let database: TestDatabase;
let proxy: TcpProxy;
let direct: ServerProcess;
let proxied: ServerProcess;
let elsewhere: TestDatabase;
let misdirected: ServerProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
  direct = await startServerProcess(env);
  const target = new URL(database.url);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${await proxy.start()}`;
  proxied = await startServerProcess({ ...env, DATABASE_URL: withDatabase(viaProxy.toString(), database.name) });
  elsewhere = await createTestDatabase();
  misdirected = await startServerProcess({ ...env, DATABASE_LISTEN_URL: elsewhere.url });
}, 60_000);

afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop(), misdirected?.stop()]);
  await proxy?.stop();
  await Promise.all([database?.drop(), elsewhere?.drop()]);
});

test('a logout on another instance is refused within seconds, though the notice never arrived', async () => {
  const quiet = await direct.client.signup('quiet');
  // The proxied instance holds the principal in its cache.
  expect(await meReason(proxied, quiet.accessToken)).toBeUndefined();
  expect(await meReason(proxied, quiet.accessToken)).toBeUndefined();

  expect(proxy.silence('listen tessera_principal_invalidation')).toBe(1);
  const logout = await direct.client.request('mutation { logout }', {}, { token: quiet.accessToken });
  expect(logout.data).toEqual({ logout: true });

  expect(
    await eventually(async () => (await meReason(proxied, quiet.accessToken)) === 'TOKEN_REVOKED', NOTICED_WITHIN_MS),
  ).toBe(true);
}, 40_000);

test('a LISTEN connection on another database: the heartbeat never returns and the cache stays off', async () => {
  const unheard = await misdirected.client.signup('unheard');
  expect(await meReason(misdirected, unheard.accessToken)).toBeUndefined();
  expect(await meReason(misdirected, unheard.accessToken)).toBeUndefined();

  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  try {
    await sql.query('update sessions set revoked_at = now() where id = $1', [claimsOf(unheard.accessToken).sid]);
  } finally {
    await sql.end();
  }
  // Within the TTL a cache would still answer: the next request must read the database.
  expect(await meReason(misdirected, unheard.accessToken)).toBe('TOKEN_REVOKED');
}, 40_000);
