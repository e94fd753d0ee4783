// Requests that miss the principal cache together read the session once, and an invalidation
// always sends the next request to the database, never to a read begun before it.
import type { EntityManager } from '@mikro-orm/postgresql';
import { revokeSessionRow, sessionIdOf } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

/** The server's own EntityManager, counting the units of work the principal lookup forks from it. */
function countingRoot(): { root: EntityManager; reads: () => number } {
  const real = app.orm.em as EntityManager;
  let reads = 0;
  const root = Object.create(real, {
    fork: { value: (...args: Parameters<EntityManager['fork']>) => (reads++, real.fork(...args)) },
  }) as EntityManager;
  return { root, reads: () => reads };
}

test('twenty requests that miss together read the session once, and all are admitted', async () => {
  const { accessToken, user } = await app.client.signup('ona');
  const principals = app.server.services.principals;
  principals.invalidateAll();
  const { root, reads } = countingRoot();

  const viewers = await Promise.all(Array.from({ length: 20 }, async () => principals.authenticate(root, accessToken)));
  expect(viewers.map((viewer) => viewer.user.id)).toEqual(Array(20).fill(user.id));
  expect(reads()).toBe(1);

  // Now cached: answered without a read, synchronously.
  expect(principals.authenticate(root, accessToken)).toMatchObject({ user: { id: user.id } });
  expect(reads()).toBe(1);
});

test('a request after an invalidation does not join the read begun before it', async () => {
  const { accessToken, user } = await app.client.signup('pim');
  const principals = app.server.services.principals;
  principals.invalidateAll();
  const { root, reads } = countingRoot();

  const before = principals.authenticate(root, accessToken);
  principals.invalidateSession(sessionIdOf(accessToken));
  const after = principals.authenticate(root, accessToken);
  expect(reads()).toBe(2);
  expect((await before).user.id).toBe(user.id);
  expect((await after).user.id).toBe(user.id);

  // A session revoked in SQL, this instance told: the next request reads it and is refused.
  await revokeSessionRow(app, sessionIdOf(accessToken));
  await expect(principals.authenticate(root, accessToken)).rejects.toMatchObject({ reason: 'TOKEN_REVOKED' });
  expect(reads()).toBe(3);
});

test('with the cache off (no invalidations can arrive) every request reads for itself', async () => {
  const { accessToken } = await app.client.signup('quin');
  const principals = app.server.services.principals;
  principals.setCacheEnabled(false);
  try {
    const { root, reads } = countingRoot();
    await Promise.all(Array.from({ length: 5 }, async () => principals.authenticate(root, accessToken)));
    expect(reads()).toBe(5);
  } finally {
    principals.setCacheEnabled(true);
  }
});
