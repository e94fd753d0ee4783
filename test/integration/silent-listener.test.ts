// An instance whose LISTEN connection is dropped without a word (a NAT or load balancer forgetting
// an idle flow: no reset, no error) misses every notice from then on. It must notice within its
// heartbeat and stop answering from its cache, or a logout elsewhere would never reach it.
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { meReason } from '../helpers/session-helpers.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, withDatabase, type TestDatabase } from '../helpers/test-database.js';

/** The listener's heartbeat (2 s) and its deadline (5 s), with room for a busy machine. */
const NOTICED_WITHIN_MS = 12_000;

let database: TestDatabase;
let proxy: TcpProxy;
let direct: ServerProcess;
let proxied: ServerProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
  direct = await startServerProcess(env);
  const target = new URL(database.url);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${await proxy.start()}`;
  proxied = await startServerProcess({ ...env, DATABASE_URL: withDatabase(viaProxy.toString(), database.name) });
}, 60_000);

afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop()]);
  await proxy?.stop();
  await database?.drop();
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
