// `viewer`: a public field that answers more to a signed-in caller. No token means a visitor
// (null, no error); a token that was sent but is bad is refused exactly as a guarded field
// refuses it, never quietly downgraded to a visitor.
import { onlyError, type AuthPayload, type GraphQLResult } from '../helpers/graphql-client.js';
import { claimsOf, LOGOUT_DEFAULT, sleep } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const VIEWER = '{ viewer { id username email } }';

type ViewerResult = GraphQLResult<{ viewer: { id: string; username: string; email: string | null } | null }>;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

function viewer(server: TestServer, headers: Record<string, string> = {}): Promise<ViewerResult> {
  return server.client.request(VIEWER, {}, { headers });
}

function expectRefused(result: ViewerResult, reason: string): void {
  const error = onlyError(result);
  expect(error.path).toEqual(['viewer']);
  expect(error.extensions?.code).toBe('UNAUTHENTICATED');
  expect(error.extensions?.reason).toBe(reason);
  expect(result.data?.viewer ?? null).toBeNull();
}

describe('without a token', () => {
  test('answers null and no error to a caller who sent no Authorization header', async () => {
    const result = await viewer(app);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: null });
  });

  test('answers null to an empty Authorization header, which sends no token', async () => {
    const result = await viewer(app, { authorization: '' });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: null });
  });
});

describe('with a valid token', () => {
  let vera: AuthPayload;
  beforeAll(async () => {
    vera = await app.client.signup('vera');
  });

  test('answers the signed-in user, own email included', async () => {
    const result = await viewer(app, { authorization: `Bearer ${vera.accessToken}` });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: { id: vera.user.id, username: 'vera', email: 'vera@example.com' } });
  });

  test('answers two callers at the same time each with their own user', async () => {
    const walt = await app.client.signup('walt');
    const [forVera, forWalt] = await Promise.all([
      viewer(app, { authorization: `Bearer ${vera.accessToken}` }),
      viewer(app, { authorization: `Bearer ${walt.accessToken}` }),
    ]);
    expect(forVera.data?.viewer?.id).toBe(vera.user.id);
    expect(forWalt.data?.viewer?.id).toBe(walt.user.id);
  });
});

describe('with a token that was sent but is bad', () => {
  test('refuses an expired token as TOKEN_EXPIRED instead of answering null', async () => {
    // Three seconds: iat is whole seconds, so a one-second token may have almost no life left when it is read.
    const shortLived = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '3' }, app.database);
    try {
      const ezra = await shortLived.client.signup('ezra');
      const authorization = `Bearer ${ezra.accessToken}`;
      expect((await viewer(shortLived, { authorization })).data?.viewer?.id).toBe(ezra.user.id);
      // JWT times are whole seconds: wait until the clock has passed the token's exp.
      await sleep((claimsOf(ezra.accessToken).exp as number) * 1000 - Date.now() + 50);
      expectRefused(await viewer(shortLived, { authorization }), 'TOKEN_EXPIRED');
    } finally {
      await shortLived.stop();
    }
  });

  test('refuses a token whose claims were altered as TOKEN_INVALID instead of answering null', async () => {
    const fay = await app.client.signup('fay');
    const [header, , signature] = fay.accessToken.split('.');
    const claims = { ...claimsOf(fay.accessToken), roles: ['USER', 'ADMIN'] };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expectRefused(await viewer(app, { authorization: `Bearer ${forged}` }), 'TOKEN_INVALID');
  });

  test('refuses a token that is not a JWT at all as TOKEN_INVALID', async () => {
    expectRefused(await viewer(app, { authorization: 'Bearer not-a-token' }), 'TOKEN_INVALID');
  });

  test('refuses a token whose session was logged out as TOKEN_REVOKED instead of answering null', async () => {
    const remy = await app.client.signup('remy');
    const authorization = `Bearer ${remy.accessToken}`;
    expect((await viewer(app, { authorization })).data?.viewer?.id).toBe(remy.user.id);
    const loggedOut = await app.client.request(LOGOUT_DEFAULT, {}, { token: remy.accessToken });
    expect(loggedOut.errors).toBeUndefined();
    expectRefused(await viewer(app, { authorization }), 'TOKEN_REVOKED');
  });
});
