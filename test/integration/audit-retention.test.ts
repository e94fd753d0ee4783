// The purge timer deletes audit events past AUDIT_RETENTION and keeps the recent ones.
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ SESSION_PURGE_INTERVAL: '1', AUDIT_RETENTION: '1h' });
});
afterAll(() => app.stop());

async function eventTypes(): Promise<string[]> {
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ type: string }[]>("select type from auth_events where type in ('LOGOUT', 'REFRESH') order by type");
  return rows.map((row) => row.type);
}

test('an event older than AUDIT_RETENTION is purged by the timer and a recent one stays', async () => {
  await app.orm.em
    .fork()
    .getConnection()
    .execute(
      `insert into auth_events (type, created_at) values
        ('LOGOUT', now() - interval '2 hours'), ('REFRESH', now() - interval '30 minutes')`,
    );
  expect(await eventTypes()).toEqual(['LOGOUT', 'REFRESH']);
  expect(await eventually(async () => !(await eventTypes()).includes('LOGOUT'), 10_000)).toBe(true);
  expect(await eventTypes()).toEqual(['REFRESH']);
});
