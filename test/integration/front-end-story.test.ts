// The whole story a front-end lives by, end to end: the first thing to break if anything does.
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

test('a front-end signs up, keeps the token and calls me', async () => {
  const signup = await app.client.signup('alice');
  expect(signup.user.email).toBe('alice@example.com');
  const me = await app.client.request('{ me { id username email roles } }', {}, { token: signup.accessToken });
  expect(me.errors).toBeUndefined();
  expect(me.data.me).toEqual({ id: signup.user.id, username: 'alice', email: 'alice@example.com', roles: ['USER'] });
});
