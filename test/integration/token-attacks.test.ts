// The hostile-token table of test/helpers/hostile-tokens.ts (the one TokenService's unit test
// runs), sent over real HTTP: every access-typed row to `me` in the Authorization header, every
// refresh-typed row to `refresh`. Five real servers share one database: HS256 (whose secret this
// test knows), RS256, ES256 and EdDSA (whose key pairs it generated) and HS256 with JWT_LEEWAY=30.
// The claims are real: alice's id, the id of the session each server opened for her, her refresh
// token's jti.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from '../helpers/fixtures.js';
import type { AuthPayload, GraphQLErrorBody } from '../helpers/graphql-client.js';
import {
  ATTACKER_JWK,
  claimsJsonWith,
  craft,
  generatePemKeyPair,
  tokenAttackRows,
  type HostileRow,
  type Kind,
  type TokenTarget,
} from '../helpers/hostile-tokens.js';
import { loginOk, PASSWORD, refreshOk } from '../helpers/session-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { AuthFailure } from '../../src/auth/auth-error.js';
import { nowSeconds } from '../../src/auth/tokens.js';
import type { JwtAlgorithm } from '../../src/config.js';

const ME = '{ me { id roles } }';
const USERS = '{ users { id } }';
const REFRESH = 'mutation Refresh($t: String) { refresh(refreshToken: $t) { accessToken refreshToken } }';

/** What no refusal may carry: jsonwebtoken's messages (which echo the expected iss and aud), or a stack. */
const LEAKS =
  /jwt malformed|invalid signature|jwt (issuer|audience|signature|expired)|expected:|stacktrace|"stack"|\n\s+at |\bat \S+ \(/i;

interface RawResult {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: GraphQLErrorBody[] } | undefined;
}

/** A POST with exactly these headers; the body is kept as text, to search it for leaks. */
async function post(
  app: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<RawResult> {
  const response = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: RawResult['body'];
  try {
    body = JSON.parse(text) as RawResult['body'];
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}

/** A target whose tokens come from a real server, and whose valid claims are alice's on that server. */
interface ServerTarget extends TokenTarget {
  app: TestServer;
  /** alice's current pair on this server: rotated by the baseline refresh. */
  tokens: AuthPayload;
}

function serverTarget(
  app: TestServer,
  algorithm: JwtAlgorithm,
  key: string,
  publicKeyPem: string | undefined,
  tokens: AuthPayload,
): ServerTarget {
  const access = decodeJwt(tokens.accessToken);
  const target: ServerTarget = {
    app,
    tokens,
    algorithm,
    key,
    publicKeyPem,
    kid: access.header.kid as string,
    issuer: access.payload.iss as string,
    audience: access.payload.aud as string,
    // From the configuration, not from a token: a refresh token's exp is capped at its session's
    // end, which can fall a second short of the lifetime when the login straddles a second.
    accessTokenTtlSeconds: app.config.jwt.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: app.config.jwt.refreshTokenTtlSeconds,
    sub: access.payload.sub as string,
    sid: access.payload.sid as string,
    get refreshJti() {
      return decodeJwt(target.tokens.refreshToken).payload.jti as string;
    },
    genuine: (kind: Kind) => (kind === 'access' ? target.tokens.accessToken : target.tokens.refreshToken),
  };
  return target;
}

function expectNoLeak(result: RawResult, target: TokenTarget): void {
  expect(result.text).not.toMatch(LEAKS);
  expect(result.text).not.toContain(target.issuer);
  expect(result.text).not.toContain(target.audience);
}

/** 200, no data, exactly one UNAUTHENTICATED error with this reason, and nothing leaked. */
function expectRefused(result: RawResult, field: string, reason: string, target: TokenTarget): void {
  expect(result.status).toBe(200);
  expect(result.body?.data ?? null).toBeNull();
  expect(result.body?.errors).toHaveLength(1);
  const [error] = result.body!.errors!;
  expect(error.path).toEqual([field]);
  expect(error.extensions?.code).toBe('UNAUTHENTICATED');
  expect(error.extensions?.reason).toBe(reason);
  expectNoLeak(result, target);
}

function me(target: ServerTarget, authorization: string): Promise<RawResult> {
  return post(target.app, ME, {}, { authorization });
}

function refresh(target: ServerTarget, token: string): Promise<RawResult> {
  return post(target.app, REFRESH, { t: token });
}

let hs: ServerTarget;
let rs: ServerTarget;
let es: ServerTarget;
let ed: ServerTarget;
let lenient: ServerTarget;
/** Every server, for the checks that each must pass. */
let all: ServerTarget[];
let bob: AuthPayload;
/** The jku and x5u target: a local server that would hand out the attacker's key, and counts who asks. */
let keyServer: Server;
const keyServerRequests: string[] = [];
let keyServerUrl = '';

beforeAll(async () => {
  keyServer = createServer((request, response) => {
    keyServerRequests.push(`${request.method} ${request.url}`);
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [ATTACKER_JWK] }));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;

  const secret = randomBytes(48).toString('base64url');
  const lenientSecret = randomBytes(48).toString('base64url');
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const hsApp = await startTestServer({ JWT_SECRET_KEY: secret });
  const rsApp = await startTestServer(
    { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pair.privateKey, JWT_PUBLIC_KEY: pair.publicKey },
    hsApp.database,
  );
  const lenientApp = await startTestServer({ JWT_SECRET_KEY: lenientSecret, JWT_LEEWAY: '30' }, hsApp.database);
  const esPair = generatePemKeyPair('ES256');
  const esApp = await startTestServer(
    { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: esPair.privateKeyPem, JWT_PUBLIC_KEY: esPair.publicKeyPem },
    hsApp.database,
  );
  const edPair = generatePemKeyPair('EdDSA');
  const edApp = await startTestServer(
    { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: edPair.privateKeyPem, JWT_PUBLIC_KEY: edPair.publicKeyPem },
    hsApp.database,
  );

  const alice = await hsApp.client.signup('alice', PASSWORD);
  bob = await hsApp.client.signup('bob', PASSWORD);
  hs = serverTarget(hsApp, 'HS256', secret, undefined, alice);
  rs = serverTarget(rsApp, 'RS256', pair.privateKey, pair.publicKey, await loginOk(rsApp, 'alice'));
  lenient = serverTarget(lenientApp, 'HS256', lenientSecret, undefined, await loginOk(lenientApp, 'alice'));
  es = serverTarget(esApp, 'ES256', esPair.privateKeyPem, esPair.publicKeyPem, await loginOk(esApp, 'alice'));
  ed = serverTarget(edApp, 'EdDSA', edPair.privateKeyPem, edPair.publicKeyPem, await loginOk(edApp, 'alice'));
  all = [hs, rs, es, ed, lenient];
});

afterAll(async () => {
  await Promise.all([rs?.app.stop(), es?.app.stop(), ed?.app.stop(), lenient?.app.stop()]);
  await hs?.app.stop();
  await new Promise((resolve) => keyServer?.close(resolve));
});

/** The table on the real targets: call it inside a test, once beforeAll has run. */
function rows(kind: Kind): HostileRow<ServerTarget>[] {
  return tokenAttackRows(kind, {
    hs,
    rs,
    es,
    ed,
    lenient,
    otherSub: () => bob.user.id,
    otherSid: () => decodeJwt(bob.accessToken).payload.sid as string,
    attackerUrls: { jku: `${keyServerUrl}/jwks.json`, x5u: `${keyServerUrl}/cert.pem` },
  });
}

/**
 * test.each needs the rows when the file is collected, before beforeAll: the rows are named from
 * a table built on placeholders, and each test runs the same row of the table built on the real
 * targets.
 */
function rowNames(kind: Kind): { name: string; index: number; oversized: boolean }[] {
  const placeholder = { kid: '', genuine: () => '' } as unknown as ServerTarget;
  const targets = { hs: placeholder, rs: placeholder, es: placeholder, ed: placeholder, lenient: placeholder };
  return tokenAttackRows(kind, targets).map((row, index) => ({
    name: row.name,
    index,
    oversized: row.oversized === true,
  }));
}

const accessRowNames = rowNames('access').filter((row) => !row.oversized);
const refreshRowNames = rowNames('refresh').filter((row) => !row.oversized);

describe('the servers under attack', () => {
  test('accept the hand-crafted baseline access token that every hostile row is a variation of', async () => {
    for (const target of all) {
      const result = await me(target, `Bearer ${craft(target)}`);
      expect(result.body?.errors).toBeUndefined();
      expect(result.body?.data?.me).toEqual({ id: target.sub, roles: ['USER'] });
    }
  });

  test('issue tokens with the kid, issuer and audience the table signs with', () => {
    for (const target of all) {
      expect(decodeJwt(target.tokens.accessToken).header).toEqual({
        alg: target.algorithm,
        typ: 'at+jwt',
        kid: target.kid,
      });
      expect(target.issuer).toBe('tessera');
      expect(target.audience).toBe('tessera');
    }
    expect(new Set(all.map((target) => target.kid)).size).toBe(all.length);
  });
});

describe('me with a hostile access token in the Authorization header', () => {
  test.each(accessRowNames)('refuses $name', async ({ index }) => {
    const row = rows('access')[index];
    expectRefused(await me(row.target, `Bearer ${row.token()}`), 'me', row.reason, row.target);
  });

  test.each([
    { name: 'the scheme alone ("Bearer")', header: () => 'Bearer' },
    { name: 'the scheme and a space ("Bearer ")', header: () => 'Bearer ' },
    { name: 'two schemes ("Bearer Bearer <token>")', header: () => `Bearer Bearer ${hs.tokens.accessToken}` },
    { name: 'two words after the scheme ("Bearer a b")', header: () => 'Bearer a b' },
    {
      name: 'a genuine token followed by a second word',
      header: () => `Bearer ${hs.tokens.accessToken} ${hs.tokens.accessToken}`,
    },
  ])('refuses $name as TOKEN_INVALID', async ({ header }) => {
    expectRefused(await me(hs, header()), 'me', 'TOKEN_INVALID', hs);
  });

  test('refuses a 100 KB token with 431 before any GraphQL runs', async () => {
    const token = rows('access')
      .find((row) => row.oversized)!
      .token();
    expect(token.length).toBeGreaterThan(100 * 1024);
    const result = await me(hs, `Bearer ${token}`);
    expect(result.status).toBe(431);
    expect(result.body?.data ?? null).toBeNull();
    expectNoLeak(result, hs);
  });

  test('sends an 8.5 KB token, one the HTTP server lets through to the verifier', () => {
    const token = rows('access')
      .find((row) => row.name.startsWith('an 8.5 KB'))!
      .token();
    expect(token.length).toBeGreaterThan(8192);
    expect(token.length).toBeLessThan(16 * 1024);
  });

  test('accepts a token that expired 10 s ago on the server whose leeway is 30 s', async () => {
    const token = craft(lenient, { claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 10 } });
    const result = await me(lenient, `Bearer ${token}`);
    expect(result.body?.errors).toBeUndefined();
    expect(result.body?.data?.me.id).toBe(lenient.sub);
  });

  test('refuses on the server without leeway the token that expired 10 s ago as TOKEN_EXPIRED', async () => {
    const token = craft(hs, { claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 10 } });
    expectRefused(await me(hs, `Bearer ${token}`), 'me', 'TOKEN_EXPIRED', hs);
  });

  test('gives a __proto__ claim in a correctly signed token no privilege: me answers, users is FORBIDDEN', async () => {
    const token = craft(hs, { rawPayload: claimsJsonWith(hs, '"__proto__":{"roles":["ADMIN"]}') });
    const viewer = await me(hs, `Bearer ${token}`);
    expect(viewer.body?.errors).toBeUndefined();
    expect(viewer.body?.data?.me).toEqual({ id: hs.sub, roles: ['USER'] });

    const users = await post(hs.app, USERS, {}, { authorization: `Bearer ${token}` });
    expect(users.status).toBe(200);
    expect(users.body?.data ?? null).toBeNull();
    expect(users.body?.errors).toHaveLength(1);
    expect(users.body!.errors![0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('refresh with a hostile refresh token', () => {
  test('rotates the hand-crafted baseline refresh token that every hostile row is a variation of', async () => {
    // On the asymmetric servers' sessions: each pair moves on to the generation the baseline was exchanged for.
    for (const target of [rs, es, ed]) {
      target.tokens = await refreshOk(target.app, craft(target, { kind: 'refresh' }));
      expect(decodeJwt(target.tokens.refreshToken).payload.sid).toBe(target.sid);
    }
  });

  test.each(refreshRowNames)('refuses $name', async ({ index }) => {
    const row = rows('refresh')[index];
    // A refresh token's expiry is its session's end: over HTTP, an expired one says so.
    const reason = row.reason === AuthFailure.TOKEN_EXPIRED ? AuthFailure.SESSION_EXPIRED : row.reason;
    expectRefused(await refresh(row.target, row.token()), 'refresh', reason, row.target);
  });

  test('refuses a 100 KB refresh token, a request body over GRAPHQL_MAX_BODY_BYTES, with a coded 413 before any GraphQL runs', async () => {
    const token = rows('refresh')
      .find((row) => row.oversized)!
      .token();
    expect(token.length).toBeGreaterThan(hs.app.config.graphql.maxBodyBytes);
    const result = await refresh(hs, token);
    expect(result.status).toBe(413);
    expect(result.body?.data ?? null).toBeNull();
    expect(result.body?.errors).toHaveLength(1);
    expect(result.body!.errors![0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expectNoLeak(result, hs);
  });

  test('refuses an 8.5 KB refresh token, one that fits the request body, as TOKEN_INVALID', async () => {
    const token = rows('refresh')
      .find((row) => row.name.startsWith('an 8.5 KB'))!
      .token();
    expect(token.length).toBeGreaterThan(8192);
    expectRefused(await refresh(hs, token), 'refresh', 'TOKEN_INVALID', hs);
  });

  test('leaves every session intact: the genuine refresh tokens still rotate and the access tokens still answer me', async () => {
    for (const target of all) {
      const rotated = await refreshOk(target.app, target.tokens.refreshToken);
      expect(decodeJwt(rotated.refreshToken).payload.sid).toBe(target.sid);
      const result = await me(target, `Bearer ${rotated.accessToken}`);
      expect(result.body?.data?.me.id).toBe(target.sub);
    }
  });

  // Last, after every access and refresh row that pointed jku or x5u at the key server.
  test('made no server fetch the key a jku or x5u header points at', async () => {
    const reachable = await fetch(`${keyServerUrl}/jwks.json`);
    expect(reachable.status).toBe(200);
    expect(keyServerRequests).toEqual(['GET /jwks.json']);
  });
});
