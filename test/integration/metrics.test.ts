// /metrics as Prometheus scrapes it: on its own listener only, in the text format, the counters
// moved by real requests under the right labels, and no label that names a user or a client.
import { SIGNUP } from '../helpers/graphql-client.js';
import { REFRESH } from '../helpers/session-helpers.js';
import { type Sample, scrape, valueOf } from '../helpers/prometheus-text.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
let metricsUrl: string;

beforeAll(async () => {
  // No grace window: the parent presented again is reuse at once.
  app = await startTestServer({ METRICS_PORT: '0', JWT_REFRESH_REUSE_INTERVAL: '0' });
  metricsUrl = app.server.metricsUrl()!;
});

afterAll(async () => {
  await app?.stop();
});

/** How much each sample moved while `act` ran. */
async function moved(act: () => Promise<unknown>): Promise<(name: string, labels?: Record<string, string>) => number> {
  const before = await scrape(metricsUrl);
  await act();
  const after = await scrape(metricsUrl);
  return (name, labels = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
}

test('the metrics listener is its own, on loopback, and the public port has no /metrics', async () => {
  expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  expect(new URL(metricsUrl).port).not.toBe(new URL(app.url).port);
  const publicMetrics = await fetch(new URL('/metrics', app.url));
  expect(publicMetrics.status).toBe(404);
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const posted = await fetch(metricsUrl, { method: 'POST' });
  expect(posted.status).toBe(405);
  // The metrics listener serves nothing else.
  expect((await fetch(new URL('/graphql', metricsUrl))).status).toBe(404);
});

test("Node's default metrics and the gauges are there", async () => {
  const samples = await scrape(metricsUrl);
  const names = new Set(samples.map((sample) => sample.name));
  for (const name of [
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
    'tessera_invalidation_listener_up',
    'tessera_invalidation_last_notice_age_seconds',
    'tessera_principal_cache_entries',
    'tessera_db_pool_connections',
    'tessera_db_pool_waiting_requests',
  ])
    expect(names).toContain(name);
  expect(valueOf(samples, 'tessera_invalidation_listener_up')).toBe(1);
  expect(valueOf(samples, 'tessera_invalidation_last_notice_age_seconds')).toBeGreaterThanOrEqual(0);
  const pools = samples.filter((sample) => sample.name === 'tessera_db_pool_connections').map((s) => s.labels.pool);
  expect(pools.sort()).toEqual(['deferred_statements', 'orm', 'statements']);
});

test('signups, logins and their refusals are counted by result', async () => {
  await app.client.signup('mallory');
  const delta = await moved(async () => {
    await app.client.signup('alice');
    const again = await app.client.request(SIGNUP, {
      input: { username: 'alice', email: 'alice2@example.com', password: 'correct horse battery' },
    });
    expect(again.errors?.[0]?.extensions?.reason).toBe('ACCOUNT_EXISTS');
    expect((await app.client.login('alice')).data?.login).toBeTruthy();
    expect((await app.client.login('alice', 'wrong password here')).errors).toBeDefined();
    expect((await app.client.login('nobody-at-all', 'wrong password here')).errors).toBeDefined();
  });
  expect(delta('tessera_signups_total', { result: 'success' })).toBe(1);
  expect(delta('tessera_signups_total', { result: 'account_exists' })).toBe(1);
  expect(delta('tessera_logins_total', { result: 'success' })).toBe(1);
  expect(delta('tessera_logins_total', { result: 'invalid_credentials' })).toBe(2);
  expect(delta('tessera_password_hash_duration_seconds_count', { operation: 'verify' })).toBeGreaterThanOrEqual(3);
  expect(delta('tessera_password_hash_duration_seconds_count', { operation: 'hash' })).toBeGreaterThanOrEqual(1);
  expect(delta('tessera_graphql_request_duration_seconds_count', { operation_type: 'mutation' })).toBe(5);
});

test('an aliased login is counted under its field, not its alias', async () => {
  const delta = await moved(async () => {
    const result = await app.client.request(
      'mutation { whoever: login(input: {usernameOrEmail: "alice", password: "correct horse battery"}) { accessToken } }',
    );
    expect(result.data?.whoever).toBeTruthy();
  });
  expect(delta('tessera_logins_total', { result: 'success' })).toBe(1);
});

test('refreshes: rotated, reused; the reuse ends a session; token rejections by reason', async () => {
  const bob = await app.client.signup('bob');
  const delta = await moved(async () => {
    const rotated = await app.client.request(REFRESH, { t: bob.refreshToken });
    expect(rotated.data?.refresh).toBeTruthy();
    const reused = await app.client.request(REFRESH, { t: bob.refreshToken });
    expect(reused.errors?.[0]?.extensions?.reason).toBe('REFRESH_TOKEN_REUSED');
    const me = await app.client.request('{ me { id } again: me { id } }', {}, { token: bob.accessToken });
    expect(me.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
    const garbage = await app.client.request('{ me { id } }', {}, { token: 'not.a.token' });
    expect(garbage.errors?.[0]?.extensions?.reason).toBe('TOKEN_INVALID');
  });
  expect(delta('tessera_refreshes_total', { result: 'rotated' })).toBe(1);
  expect(delta('tessera_refreshes_total', { result: 'reused' })).toBe(1);
  expect(delta('tessera_sessions_revoked_total', { why: 'refresh_token_reused' })).toBe(1);
  expect(delta('tessera_token_rejections_total', { reason: 'refresh_token_reused' })).toBe(1);
  // One per response, however many fields it refused.
  expect(delta('tessera_token_rejections_total', { reason: 'token_revoked' })).toBe(1);
  expect(delta('tessera_token_rejections_total', { reason: 'token_invalid' })).toBe(1);
  expect(delta('tessera_graphql_request_duration_seconds_count', { operation_type: 'query' })).toBe(2);
});

test('a parent presented again inside the reuse interval counts as grace, not as another rotation', async () => {
  const withGrace = await startTestServer({ METRICS_PORT: '0', JWT_REFRESH_REUSE_INTERVAL: '60' }, app.database);
  try {
    const url = withGrace.server.metricsUrl()!;
    const dana = await withGrace.client.signup('dana');
    const before = await scrape(url);
    const rotated = await withGrace.client.request(REFRESH, { t: dana.refreshToken });
    expect(rotated.data?.refresh).toBeTruthy();
    const again = await withGrace.client.request(REFRESH, { t: dana.refreshToken });
    expect(again.data?.refresh).toBeTruthy();
    const after = await scrape(url);
    const delta = (result: string) =>
      valueOf(after, 'tessera_refreshes_total', { result }) - valueOf(before, 'tessera_refreshes_total', { result });
    expect([delta('rotated'), delta('grace'), delta('reused')]).toEqual([1, 1, 0]);
  } finally {
    await withGrace.stop();
  }
});

test('a logout counts its sessions under why', async () => {
  const carol = await app.client.signup('carol');
  await app.client.login('carol');
  const delta = await moved(async () => {
    const result = await app.client.request('mutation { logout(scope: ALL) }', {}, { token: carol.accessToken });
    expect(result.data?.logout).toBe(true);
  });
  expect(delta('tessera_sessions_revoked_total', { why: 'logout' })).toBe(2);
});

test('a field refused as RATE_LIMITED is counted under the field', async () => {
  // A database of its own: the attempts per address are counted in the database.
  const limited = await startTestServer({ METRICS_PORT: '0', RATE_LIMIT_IP_ATTEMPTS: '1' });
  try {
    const url = limited.server.metricsUrl()!;
    const first = await limited.client.login('alice');
    expect(first.errors?.[0]?.extensions?.reason).toBe('INVALID_CREDENTIALS');
    const refused = await limited.client.request(
      'mutation { again: login(input: {usernameOrEmail: "alice", password: "correct horse battery"}) { accessToken } }',
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const samples = await scrape(url);
    expect(valueOf(samples, 'tessera_rate_limited_total', { field: 'login' })).toBe(1);
    expect(valueOf(samples, 'tessera_logins_total', { result: 'rate_limited' })).toBe(1);
    expect(samples.some((sample) => sample.labels.field === 'again')).toBe(false);
  } finally {
    await limited.stop();
  }
});

test('no label value is a user id, a username, an email or an address', async () => {
  const dave = await app.client.signup('dave');
  await app.client.login('dave', 'a wrong password for dave');
  const samples: Sample[] = await scrape(metricsUrl);
  const users = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ id: string; username: string; email: string }[]>('select id, username, email from users');
  const forbidden = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1', dave.accessToken, dave.refreshToken]);
  for (const user of users) for (const value of [user.id, user.username, user.email]) forbidden.add(value);
  for (const sample of samples)
    for (const value of Object.values(sample.labels)) expect(forbidden.has(value)).toBe(false);
  expect(users.length).toBeGreaterThan(3);
});

test('without METRICS_PORT nothing listens for metrics', async () => {
  const plain = await startTestServer({}, app.database);
  try {
    expect(plain.server.metricsUrl()).toBeUndefined();
    expect(plain.server.metrics).toBeUndefined();
    expect((await fetch(new URL('/metrics', plain.url))).status).toBe(404);
  } finally {
    await plain.stop();
  }
});
