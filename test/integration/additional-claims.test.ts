// The application's own access-token claims: a loader computes them from the user whenever an
// access token is signed, resolvers read them back from the verified token (`viewerClaims`), and
// a loader that names a claim Tessera sets fails the issue loudly instead of changing a token's
// meaning.
import { pino } from 'pino';
import type { AdditionalClaimsLoader, JsonValue } from '../../src/auth/additional-claims.js';
import type { UserView } from '../../src/auth/user-view.js';
import { Role } from '../../src/db/entities/index.js';
import { onlyError, type AuthPayload, type GraphQLResult } from '../helpers/graphql-client.js';
import {
  claimsOf,
  createAdmin,
  PASSWORD,
  REAUTHENTICATE,
  REFRESH,
  refreshOk,
  SET_USER_ROLES,
} from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const VIEWER_CLAIMS = '{ viewerClaims }';
/** Every claim Tessera itself puts in an access token. */
const TESSERA_CLAIMS = ['aal', 'amr', 'aud', 'exp', 'fresh', 'gen', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub'];

/** What the loader answers; each test sets its own. */
let plan = 'free';
let claimsFor: (user: UserView) => Record<string, JsonValue> = (user) => ({
  tenant: 'acme',
  plan,
  handle: `@${user.username}`,
  limits: { projects: user.roles.includes(Role.ADMIN) ? 100 : 3 },
});
const loader: AdditionalClaimsLoader = (user) => claimsFor(user);
const normalClaims = claimsFor;

const logLines: string[] = [];
let app: TestServer;
beforeAll(async () => {
  const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });
  app = await startTestServer({}, undefined, { additionalClaims: loader, logger });
});
afterAll(() => app.stop());
afterEach(() => {
  plan = 'free';
  claimsFor = normalClaims;
});

/** The messages of the errors logged since `logLines` was last emptied. */
function loggedErrorMessages(): string[] {
  return logLines.map((line) => (JSON.parse(line) as { err?: { message?: string } }).err?.message ?? '');
}

async function viewerClaims(server: TestServer, token?: string): Promise<GraphQLResult> {
  return server.client.request(VIEWER_CLAIMS, {}, token === undefined ? {} : { token });
}

describe('claims the loader computes', () => {
  test('appear in the access token of a signup beside Tessera’s own claims', async () => {
    const ada = await app.client.signup('ada');
    const claims = claimsOf(ada.accessToken);
    expect(claims).toMatchObject({ tenant: 'acme', plan: 'free', handle: '@ada', limits: { projects: 3 } });
    expect(claims.sub).toBe(ada.user.id);
    expect(claims.roles).toEqual(['USER']);
    expect(Object.keys(claims).sort()).toEqual([...TESSERA_CLAIMS, 'handle', 'limits', 'plan', 'tenant'].sort());
  });

  test('are read back by a resolver from the verified token, without Tessera’s own', async () => {
    const bob = await app.client.signup('bob');
    const result = await viewerClaims(app, bob.accessToken);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      viewerClaims: { tenant: 'acme', plan: 'free', handle: '@bob', limits: { projects: 3 } },
    });
  });

  test('are null for a caller without a token and refused for a token that was altered', async () => {
    expect((await viewerClaims(app)).data).toEqual({ viewerClaims: null });
    const cyd = await app.client.signup('cyd');
    const [header, , signature] = cyd.accessToken.split('.');
    const altered = { ...claimsOf(cyd.accessToken), plan: 'enterprise' };
    const forged = `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`;
    const error = onlyError(await viewerClaims(app, forged));
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
  });

  test('are computed again at login and reauthentication', async () => {
    await app.client.signup('dee');
    plan = 'pro';
    const login = (await app.client.login('dee')).data!.login;
    expect(claimsOf(login.accessToken).plan).toBe('pro');
    plan = 'team';
    const reauth = await app.client.request(REAUTHENTICATE, { p: PASSWORD }, { token: login.accessToken });
    expect(reauth.errors).toBeUndefined();
    const fresh = (reauth.data as { reauthenticate: AuthPayload }).reauthenticate;
    expect(claimsOf(fresh.accessToken)).toMatchObject({ plan: 'team', fresh: true });
  });

  test('are computed again at refresh, while the older token still answers its own', async () => {
    const eve = await app.client.signup('eve');
    plan = 'pro';
    const refreshed = await refreshOk(app, eve.refreshToken);
    expect(claimsOf(refreshed.accessToken).plan).toBe('pro');
    // Both tokens are of one session and one user: each answers the claims it was signed with.
    for (let round = 0; round < 2; round++) {
      expect((await viewerClaims(app, refreshed.accessToken)).data?.viewerClaims.plan).toBe('pro');
      expect((await viewerClaims(app, eve.accessToken)).data?.viewerClaims.plan).toBe('free');
    }
  });

  test('follow the user the token is issued for: a role change shows from the next refresh on', async () => {
    const fin = await app.client.signup('fin');
    const admin = await createAdmin(app);
    const granted = await app.client.request(
      SET_USER_ROLES,
      { id: fin.user.id, roles: ['USER', 'ADMIN'] },
      { token: admin.accessToken },
    );
    expect(granted.errors).toBeUndefined();
    expect(claimsOf(fin.accessToken).limits).toEqual({ projects: 3 });
    const refreshed = await refreshOk(app, fin.refreshToken);
    expect(claimsOf(refreshed.accessToken).limits).toEqual({ projects: 100 });
  });
});

describe('a server with the default loader', () => {
  test('signs only Tessera’s own claims and answers an empty object of claims', async () => {
    const plain = await startTestServer({}, app.database);
    try {
      const gus = await plain.client.signup('gus');
      expect(Object.keys(claimsOf(gus.accessToken)).sort()).toEqual(TESSERA_CLAIMS);
      expect((await viewerClaims(plain, gus.accessToken)).data).toEqual({ viewerClaims: {} });
    } finally {
      await plain.stop();
    }
  });
});

describe('a loader that names a reserved claim', () => {
  test.each(['sub', 'sid', 'roles', 'fresh', 'gen', 'amr', 'aal', 'exp', 'iat', 'nbf', 'iss', 'aud', 'jti', 'typ'])(
    'fails the signup with a masked internal error and a log line naming "%s"',
    async (reserved) => {
      claimsFor = () => ({ tenant: 'acme', [reserved]: 'mine' });
      logLines.length = 0;
      const username = `reserved-${reserved}`;
      const result = await app.client.request(
        'mutation Signup($input: SignupInput!) { signup(input: $input) { accessToken } }',
        { input: { username, email: `${username}@example.com`, password: PASSWORD } },
      );
      const error = onlyError(result);
      expect(error.message).toBe('Internal server error');
      expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(JSON.stringify(result)).not.toContain('reserved');
      expect(loggedErrorMessages().some((message) => message.includes(`"${reserved}"`))).toBe(true);
      // Nothing was issued, and the account was not created either: the signup rolled back.
      claimsFor = normalClaims;
      expect((await app.client.login(username)).errors?.[0]?.extensions?.reason).toBe('INVALID_CREDENTIALS');
    },
  );

  test('fails a refresh without consuming its refresh token', async () => {
    const hal = await app.client.signup('hal');
    claimsFor = () => ({ roles: ['ADMIN'] });
    logLines.length = 0;
    const refused = await app.client.request(REFRESH, { t: hal.refreshToken });
    expect(onlyError(refused).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(loggedErrorMessages().some((message) => message.includes('"roles"'))).toBe(true);
    claimsFor = normalClaims;
    const refreshed = await refreshOk(app, hal.refreshToken);
    expect(claimsOf(refreshed.accessToken).roles).toEqual(['USER']);
  });
});
