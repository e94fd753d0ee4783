import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

const REFRESH = 'mutation R($t: String) { refresh(refreshToken: $t) { accessToken refreshToken } }';

test('refresh rotates and reuse ends the session', async () => {
  const signup = await app.client.signup('carol');
  const first = await app.client.request(REFRESH, { t: signup.refreshToken });
  expect(first.errors).toBeUndefined();
  const second = await app.client.request(REFRESH, { t: first.data.refresh.refreshToken });
  expect(second.errors).toBeUndefined();
  const reuse = await app.client.request(REFRESH, { t: signup.refreshToken });
  expect(reuse.errors?.[0]?.extensions?.reason).toBe('REFRESH_TOKEN_REUSED');
  const me = await app.client.request('{ me { id } }', {}, { token: second.data.refresh.accessToken });
  expect(me.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
});

test('twenty concurrent refreshes leave one successor', async () => {
  const signup = await app.client.signup('dave');
  const results = await Promise.all(Array.from({ length: 20 }, () => app.client.request(REFRESH, { t: signup.refreshToken })));
  const ok = results.filter((r) => !r.errors);
  expect(ok.length).toBeGreaterThan(0);
  const jtis = new Set(ok.map((r) => JSON.parse(Buffer.from(r.data.refresh.refreshToken.split('.')[1], 'base64url').toString()).jti));
  expect(jtis.size).toBe(1);
  const mine = await app.client.request('{ mySessions { id current } }', {}, { token: ok[0]!.data.refresh.accessToken });
  expect(mine.data.mySessions).toHaveLength(1);
});

test('logout revokes at once', async () => {
  const signup = await app.client.signup('erin');
  const out = await app.client.request('mutation { logout }', {}, { token: signup.accessToken });
  expect(out.data.logout).toBe(true);
  const me = await app.client.request('{ me { id } }', {}, { token: signup.accessToken });
  expect(me.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
});
