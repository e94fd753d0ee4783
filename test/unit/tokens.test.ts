// Hostile tokens against TokenService. Every attack token is built byte by byte by the shared
// table in test/helpers/hostile-tokens.ts (base64url segments signed with node:crypto), so each
// row breaks exactly one thing about an otherwise valid token: the baseline row proves that the
// unbroken token is accepted. test/integration/token-attacks.test.ts sends the same table over HTTP.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthError, AuthFailure } from '../../src/auth/auth-error.js';
import { nowSeconds, TokenService, type AccessClaims, type RefreshClaims } from '../../src/auth/tokens.js';
import { loadConfig, type Config, type Env, type JwtAlgorithm } from '../../src/config.js';
import {
  claimsJsonWith,
  craft,
  decodeSegment,
  generatePemKeyPair,
  tokenAttackRows,
  type KeyPairPem,
  type TokenTarget,
} from '../helpers/hostile-tokens.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const INVALID = AuthFailure.TOKEN_INVALID;
const ISSUER = 'https://issuer.tessera.test';
const AUDIENCE = 'tessera-api-test';
const USER_ID = randomUUID();
const SESSION_ID = randomUUID();

const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-tokens-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Fixture extends TokenTarget {
  service: TokenService;
  jwt: Config['jwt'];
}

/** A TokenService as the server builds it: from loadConfig, with real keys. */
function createFixture(algorithm: JwtAlgorithm, overrides: Env = {}, pair?: KeyPairPem): Fixture {
  let keyEnv: Record<string, string>;
  let key: string;
  let publicKeyPem: string | undefined;
  if (algorithm === 'HS256') {
    key = randomBytes(48).toString('base64url');
    keyEnv = { JWT_SECRET_KEY: key };
  } else {
    ({ privateKeyPem: key, publicKeyPem } = pair ?? generatePemKeyPair(algorithm));
    keyEnv = { JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEY: key, JWT_PUBLIC_KEY: publicKeyPem };
  }
  const env = {
    NODE_ENV: 'test',
    TESSERA_DATA_DIR: dataDir,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    ...keyEnv,
    ...overrides,
  };
  const jwt = loadConfig(env).config.jwt;
  const service = new TokenService(jwt);
  const { kid } = decodeSegment(
    service
      .signAccessToken({ sub: USER_ID, sid: SESSION_ID, roles: [], fresh: false, gen: 0, aal: 1, amr: ['pwd'] })
      .token.split('.')[0],
  ) as { kid: string };
  return {
    algorithm,
    service,
    jwt,
    key,
    publicKeyPem,
    kid,
    issuer: jwt.issuer,
    audience: jwt.audience,
    accessTokenTtlSeconds: jwt.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: jwt.refreshTokenTtlSeconds,
    sub: USER_ID,
    sid: SESSION_ID,
    genuine: (kind) =>
      kind === 'access'
        ? service.signAccessToken({
            sub: USER_ID,
            sid: SESSION_ID,
            roles: ['USER'],
            fresh: false,
            gen: 0,
            aal: 1,
            amr: ['pwd'],
          }).token
        : service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 86400).token,
  };
}

function signAccess(f: Fixture): string {
  return f.genuine('access');
}

function signRefresh(f: Fixture): string {
  return f.genuine('refresh');
}

function expectRejected(verify: () => unknown, reason: AuthFailure): void {
  let thrown: unknown;
  try {
    verify();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AuthError);
  const error = thrown as AuthError;
  expect(error.reason).toBe(reason);
  // jsonwebtoken's own messages name the expected issuer and audience; none may come through.
  expect(error.publicMessage).not.toMatch(new RegExp(`${ISSUER}|${AUDIENCE}|jwt`, 'i'));
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one service per algorithm, with keys generated for this run
// ---------------------------------------------------------------------------------------------

const hs = createFixture('HS256');
const rs = createFixture('RS256');
const ps = createFixture('PS256');
const es = createFixture('ES256');
const ed = createFixture('EdDSA');
/** HS256 with JWT_LEEWAY=30. */
const lenient = createFixture('HS256', { JWT_LEEWAY: '30' });
const targets = { hs, rs, ps, es, ed, lenient };

// ---------------------------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------------------------

const accessRows = tokenAttackRows('access', targets);

describe('verifyAccessToken', () => {
  test.each(accessRows)('rejects $name ($reason)', ({ target, token, reason }) => {
    expectRejected(() => target.service.verifyAccessToken(token()), reason);
  });

  test('accepts the hand-crafted baseline token that every hostile row is a variation of', () => {
    for (const fixture of [hs, rs, ps, es, ed, lenient]) {
      expect(fixture.service.verifyAccessToken(craft(fixture)).sub).toBe(USER_ID);
    }
  });

  test('accepts a freshly signed access token and returns every claim it was signed with', () => {
    const before = nowSeconds();
    const signed = hs.service.signAccessToken({
      sub: USER_ID,
      sid: SESSION_ID,
      roles: ['USER', 'ADMIN'],
      fresh: true,
      gen: 0,
      aal: 1,
      amr: ['pwd'],
    });
    const claims: AccessClaims = hs.service.verifyAccessToken(signed.token);
    expect(claims).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: USER_ID,
      sid: SESSION_ID,
      jti: signed.jti,
      iat: expect.any(Number),
      exp: claims.iat + hs.jwt.accessTokenTtlSeconds,
      roles: ['USER', 'ADMIN'],
      fresh: true,
      gen: 0,
      aal: 1,
      amr: ['pwd'],
    });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(nowSeconds());
    expect(signed.expiresAt).toBe(claims.exp);
    expect(signed.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(decodeSegment(signed.token.split('.')[0])).toEqual({
      alg: 'HS256',
      typ: 'at+jwt',
      kid: expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/),
    });
  });

  test('accepts a token that expired 10 s ago when the leeway is 30 s', () => {
    const token = craft(lenient, { claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 10 } });
    expect(lenient.service.verifyAccessToken(token).sub).toBe(USER_ID);
  });

  test('gives a __proto__ claim no property, role or prototype of its own', () => {
    const token = craft(hs, { rawPayload: claimsJsonWith(hs, '"__proto__":{"roles":["ADMIN"],"isAdmin":true}') });
    const claims = hs.service.verifyAccessToken(token) as AccessClaims & { isAdmin?: unknown };
    expect(claims.roles).toEqual(['USER']);
    expect(claims.isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype);
    expect(({} as { isAdmin?: unknown; roles?: unknown }).isAdmin).toBeUndefined();
    expect(({} as { roles?: unknown }).roles).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Refresh tokens
// ---------------------------------------------------------------------------------------------

const refreshRows = tokenAttackRows('refresh', targets);

describe('verifyRefreshToken', () => {
  test.each(refreshRows)('rejects $name ($reason)', ({ target, token, reason }) => {
    expectRejected(() => target.service.verifyRefreshToken(token()), reason);
  });

  test('accepts the hand-crafted baseline refresh token', () => {
    expect(hs.service.verifyRefreshToken(craft(hs, { kind: 'refresh' })).sid).toBe(SESSION_ID);
  });

  test('accepts a freshly signed refresh token and returns its claims', () => {
    const signed = hs.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 10 * 86400);
    const claims: RefreshClaims = hs.service.verifyRefreshToken(signed.token);
    expect(claims).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: USER_ID,
      sid: SESSION_ID,
      jti: signed.jti,
      iat: expect.any(Number),
      exp: signed.expiresAt,
    });
    expect(decodeSegment(signed.token.split('.')[0])).toEqual({ alg: 'HS256', typ: 'refresh+jwt', kid: hs.kid });
  });

  test('caps the refresh expiry at the session end and keeps a given jti', () => {
    const notAfter = nowSeconds() + 120;
    const jti = randomUUID();
    const signed = hs.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, notAfter, jti);
    expect(signed).toEqual({ token: expect.any(String), jti, expiresAt: notAfter });
    expect(hs.service.verifyRefreshToken(signed.token)).toMatchObject({ jti, exp: notAfter });
  });

  test('caps the refresh expiry at the configured lifetime when the session ends later', () => {
    const signed = hs.service.signRefreshToken(
      { sub: USER_ID, sid: SESSION_ID },
      nowSeconds() + 10 * hs.jwt.refreshTokenTtlSeconds,
    );
    const claims = hs.service.verifyRefreshToken(signed.token);
    expect(claims.exp - claims.iat).toBe(hs.jwt.refreshTokenTtlSeconds);
  });
});

// ---------------------------------------------------------------------------------------------
// Public-key algorithms
// ---------------------------------------------------------------------------------------------

describe.each([
  { algorithm: 'RS256', fixture: rs },
  { algorithm: 'PS256', fixture: ps },
  { algorithm: 'ES256', fixture: es },
  { algorithm: 'EdDSA', fixture: ed },
])('with $algorithm', ({ algorithm, fixture }) => {
  const otherAlgorithms = ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'].filter((other) => other !== algorithm);
  /** The most tempting key for each other algorithm: the configured one when its type fits. */
  const keyFor = (other: string): string =>
    other === 'HS256'
      ? fixture.publicKeyPem!
      : other === 'ES256'
        ? es.key
        : other === 'EdDSA'
          ? ed.key
          : fixture === rs || fixture === ps
            ? fixture.key
            : rs.key;

  test('signs and verifies an access token and a refresh token', () => {
    const access = fixture.service.signAccessToken({
      sub: USER_ID,
      sid: SESSION_ID,
      roles: ['ADMIN'],
      fresh: true,
      gen: 0,
      aal: 1,
      amr: ['pwd'],
    });
    expect(decodeSegment(access.token.split('.')[0])).toEqual({ alg: algorithm, typ: 'at+jwt', kid: fixture.kid });
    expect(fixture.service.verifyAccessToken(access.token)).toMatchObject({
      sub: USER_ID,
      sid: SESSION_ID,
      jti: access.jti,
      roles: ['ADMIN'],
      fresh: true,
    });
    const refresh = fixture.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 3600);
    expect(fixture.service.verifyRefreshToken(refresh.token)).toMatchObject({
      sub: USER_ID,
      sid: SESSION_ID,
      jti: refresh.jti,
    });
  });

  test(`rejects a token signed by another ${algorithm} key pair`, () => {
    const other = generatePemKeyPair(algorithm as Exclude<JwtAlgorithm, 'HS256'>);
    expectRejected(() => fixture.service.verifyAccessToken(craft(fixture, { key: other.privateKeyPem })), INVALID);
  });

  test('rejects a token signed by a service with another key pair of the same type', () => {
    const stranger = createFixture(algorithm as JwtAlgorithm);
    expectRejected(() => fixture.service.verifyAccessToken(signAccess(stranger)), INVALID);
    expectRejected(() => fixture.service.verifyRefreshToken(signRefresh(stranger)), INVALID);
  });

  test.each(otherAlgorithms)(
    `rejects a token with alg %s, however it is signed, when ${algorithm} is configured`,
    (other) => {
      expectRejected(
        () => fixture.service.verifyAccessToken(craft(fixture, { header: { alg: other }, key: keyFor(other) })),
        INVALID,
      );
    },
  );
});

test('loads RS256 keys from file paths and verifies tokens signed with the same keys given as PEM text', () => {
  const pair = generatePemKeyPair('RS256');
  const privatePath = path.join(dataDir, 'private.pem');
  const publicPath = path.join(dataDir, 'public.pem');
  writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicPath, pair.publicKeyPem);
  const fromFiles = createFixture('RS256', { JWT_PRIVATE_KEY: privatePath, JWT_PUBLIC_KEY: publicPath });
  const fromText = createFixture('RS256', {}, pair);
  expect(fromFiles.jwt.keys).toEqual({
    algorithm: 'RS256',
    privateKeyPem: pair.privateKeyPem,
    previousPublicKeyPems: [],
  });
  expect(fromFiles.kid).toBe(fromText.kid);
  expect(fromFiles.service.verifyAccessToken(signAccess(fromText)).sub).toBe(USER_ID);
  expect(fromText.service.verifyAccessToken(signAccess(fromFiles)).sub).toBe(USER_ID);
});
