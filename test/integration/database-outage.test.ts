// PostgreSQL goes away and comes back: requests that need it fail fast with SERVICE_UNAVAILABLE
// (no SQL, no host names), /healthz says 503, and Tessera recovers by itself.
import { onlyError } from '../helpers/graphql-client.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, withDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let database: TestDatabase;
let proxy: TcpProxy;
let app: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  const target = new URL(database.url);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const port = await proxy.start();
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${port}`;
  app = await startTestServer(
    { DATABASE_URL: withDatabase(viaProxy.toString(), database.name) },
    { ...database, url: viaProxy.toString() },
  );
});

afterAll(async () => {
  await app.stop();
  await proxy.stop();
  await database.drop();
});

async function health(): Promise<number> {
  return (await fetch(app.url.replace('/graphql', '/healthz'))).status;
}

// Requests that hung on the lost connection would trip the test's timeout: none may.
test('an outage is a coded SERVICE_UNAVAILABLE, and the server recovers without a restart', async () => {
  const alice = await app.client.signup('alice');
  expect(await health()).toBe(200);

  await proxy.cut();
  const calls = await Promise.all([
    app.client.request('{ me { id } }', {}, { token: alice.accessToken }),
    app.client.request('{ myTasks { id } }', {}, { token: alice.accessToken }),
    app.client.login('alice'),
    app.client.request('mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }', {
      t: alice.refreshToken,
    }),
    app.client.request(
      'mutation { signup(input: {username: "bob", email: "bob@example.com", password: "correct horse battery"}) { accessToken } }',
    ),
  ]);
  for (const call of calls) {
    const error = onlyError(call);
    expect(error.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).not.toMatch(/select|insert|127\.0\.0\.1|localhost|ECONN|postgres/i);
  }
  expect(await health()).toBe(503);

  await proxy.start();
  let recovered = false;
  for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
    recovered = (await health()) === 200;
    if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(recovered).toBe(true);
  const me = await app.client.request('{ me { username } }', {}, { token: alice.accessToken });
  expect(me.data).toEqual({ me: { username: 'alice' } });
  expect((await app.client.login('alice')).errors).toBeUndefined();
  // The refresh refused during the outage rotated nothing: its token is still the current one.
  const refreshed = await app.client.request('mutation R($t: String) { refresh(refreshToken: $t) { refreshToken } }', {
    t: alice.refreshToken,
  });
  expect(refreshed.errors).toBeUndefined();
});
