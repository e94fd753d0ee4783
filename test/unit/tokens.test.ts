// Hostile tokens against TokenService. Every attack token is built here byte by byte (base64url
// segments signed with node:crypto), so each row breaks exactly one thing about an otherwise
// valid token: the baseline row proves that the unbroken token is accepted.
import { constants, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthError, AuthFailure } from '../../src/auth/auth-error.js';
import { nowSeconds, TokenService, type AccessClaims, type RefreshClaims } from '../../src/auth/tokens.js';
import { loadConfig, type Config, type Env, type JwtAlgorithm } from '../../src/config.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const INVALID = AuthFailure.TOKEN_INVALID;
const EXPIRED = AuthFailure.TOKEN_EXPIRED;
const ISSUER = 'https://issuer.tessera.test';
const AUDIENCE = 'tessera-api-test';
const USER_ID = randomUUID();
const SESSION_ID = randomUUID();

const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-tokens-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type Kind = 'access' | 'refresh';
const TYPES: Record<Kind, string> = { access: 'at+jwt', refresh: 'refresh+jwt' };

interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

function generatePemKeyPair(algorithm: Exclude<JwtAlgorithm, 'HS256'>): KeyPairPem {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const pair = algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1', publicKeyEncoding, privateKeyEncoding })
    : generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

interface Fixture {
  algorithm: JwtAlgorithm;
  service: TokenService;
  jwt: Config['jwt'];
  /** What signs: the HMAC secret, or the private key PEM. */
  key: string;
  /** The public key PEM (asymmetric algorithms only). */
  publicKeyPem?: string;
  /** The kid the service puts in (and demands of) its tokens, read from a token it signed. */
  kid: string;
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
  const env = { NODE_ENV: 'test', TESSERA_DATA_DIR: dataDir, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, ...keyEnv, ...overrides };
  const jwt = loadConfig(env).config.jwt;
  const service = new TokenService(jwt);
  const { kid } = decodeSegment(service.signAccessToken({ sub: USER_ID, sid: SESSION_ID, roles: [], fresh: false }).token.split('.')[0]) as { kid: string };
  return { algorithm, service, jwt, key, publicKeyPem, kid };
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A Buffer is taken as the segment's raw bytes; anything else is JSON-encoded first. */
function encodeSegment(value: unknown, encoding: BufferEncoding): string {
  return (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value), 'utf8')).toString(encoding);
}

const SIGNERS: Record<string, (input: string, key: string) => Buffer> = {
  HS256: (input, key) => createHmac('sha256', key).update(input).digest(),
  HS384: (input, key) => createHmac('sha384', key).update(input).digest(),
  HS512: (input, key) => createHmac('sha512', key).update(input).digest(),
  RS256: (input, key) => sign('sha256', Buffer.from(input), key),
  PS256: (input, key) => sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }),
  ES256: (input, key) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }),
};

function validClaims(f: Fixture, kind: Kind): Record<string, unknown> {
  const now = nowSeconds();
  const common = { iss: ISSUER, aud: AUDIENCE, sub: USER_ID, sid: SESSION_ID, jti: randomUUID(), iat: now };
  return kind === 'access'
    ? { ...common, exp: now + f.jwt.accessTokenTtlSeconds, roles: ['USER'], fresh: false }
    : { ...common, exp: now + f.jwt.refreshTokenTtlSeconds };
}

interface CraftOptions {
  kind?: Kind;
  /** Merged over the header the service expects; a property set to undefined is left out. */
  header?: Record<string, unknown>;
  /** Replaces the whole header segment (a Buffer is used as raw bytes). */
  rawHeader?: unknown;
  /** Merged over valid claims; a property set to undefined is left out. */
  claims?: Record<string, unknown>;
  /** Replaces the whole payload segment (a Buffer is used as raw bytes). */
  rawPayload?: unknown;
  /** Signs with this key instead of the configured one. */
  key?: string;
  /** Signs with this algorithm; defaults to the header's alg when it is one we can sign with. */
  signAlgorithm?: string;
  encoding?: 'base64url' | 'base64';
}

/** header.payload.signature, every byte chosen here. */
function craft(f: Fixture, options: CraftOptions = {}): string {
  const kind = options.kind ?? 'access';
  const encoding = options.encoding ?? 'base64url';
  const header = { alg: f.algorithm, typ: TYPES[kind], kid: f.kid, ...options.header };
  const payload = options.rawPayload ?? { ...validClaims(f, kind), ...options.claims };
  const input = `${encodeSegment(options.rawHeader ?? header, encoding)}.${encodeSegment(payload, encoding)}`;
  const algorithm = options.signAlgorithm ?? (typeof header.alg === 'string' && header.alg in SIGNERS ? header.alg : f.algorithm);
  return `${input}.${SIGNERS[algorithm](input, options.key ?? f.key).toString(encoding)}`;
}

/** Changes claims of a genuine token and keeps its signature. */
function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  return [header, encodeSegment({ ...decodeSegment(payload), ...changes }, 'base64url'), signature].join('.');
}

function signAccess(f: Fixture): string {
  return f.service.signAccessToken({ sub: USER_ID, sid: SESSION_ID, roles: ['USER'], fresh: false }).token;
}

function signRefresh(f: Fixture): string {
  return f.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 86400).token;
}

function replaceSignature(token: string, signature: string): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${signature}`;
}

/** Valid JSON text of the claims with `extra` spliced in verbatim before the closing brace. */
function claimsJsonWith(f: Fixture, extra: string, claims: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ ...validClaims(f, 'access'), ...claims }).replace(/}$/, `,${extra}}`), 'utf8');
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

interface HostileRow {
  name: string;
  fixture: Fixture;
  token: () => string;
  reason: AuthFailure;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one service per algorithm, with keys generated for this run
// ---------------------------------------------------------------------------------------------

const hs = createFixture('HS256');
const rs = createFixture('RS256');
const ps = createFixture('PS256');
const es = createFixture('ES256');
/** HS256 with JWT_LEEWAY=30. */
const lenient = createFixture('HS256', { JWT_LEEWAY: '30' });
const attackerRsa = generatePemKeyPair('RS256');
const attackerJwk = createPublicKey(attackerRsa.publicKeyPem).export({ format: 'jwk' });

// ---------------------------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------------------------

const noneRows: HostileRow[] = ['none', 'None', 'NONE'].flatMap((alg) => [
  { name: `an alg "${alg}" token without a signature`, fixture: hs, token: () => replaceSignature(craft(hs, { header: { alg } }), ''), reason: INVALID },
  { name: `an alg "${alg}" token that carries a valid HS256 signature`, fixture: hs, token: () => craft(hs, { header: { alg } }), reason: INVALID },
]);

const accessRows: HostileRow[] = [
  ...noneRows,
  // Algorithm confusion
  { name: 'an HS256 token keyed with the RS256 public key PEM when RS256 is configured', fixture: rs, token: () => craft(rs, { header: { alg: 'HS256' }, key: rs.publicKeyPem }), reason: INVALID },
  { name: 'an RS256 token when HS256 is configured', fixture: hs, token: () => craft(hs, { header: { alg: 'RS256' }, key: rs.key }), reason: INVALID },
  { name: 'an HS384 token signed with the right secret when HS256 is configured', fixture: hs, token: () => craft(hs, { header: { alg: 'HS384' } }), reason: INVALID },
  { name: 'an HS512 token signed with the right secret when HS256 is configured', fixture: hs, token: () => craft(hs, { header: { alg: 'HS512' } }), reason: INVALID },
  { name: 'an ES256 token when RS256 is configured', fixture: rs, token: () => craft(rs, { header: { alg: 'ES256' }, key: es.key }), reason: INVALID },
  { name: 'a PS256 token signed with the configured RSA key when RS256 is configured', fixture: rs, token: () => craft(rs, { header: { alg: 'PS256' } }), reason: INVALID },
  { name: 'an RS256 token signed with the configured RSA key when PS256 is configured', fixture: ps, token: () => craft(ps, { header: { alg: 'RS256' } }), reason: INVALID },
  { name: 'an HS256 token declaring RS256 in its header', fixture: rs, token: () => craft(rs, { signAlgorithm: 'HS256', key: rs.publicKeyPem }), reason: INVALID },
  // Signature
  { name: 'a token signed with a wrong secret', fixture: hs, token: () => craft(hs, { key: randomBytes(48).toString('base64url') }), reason: INVALID },
  { name: 'a genuine token whose roles were changed after signing', fixture: hs, token: () => tamperPayload(signAccess(hs), { roles: ['USER', 'ADMIN'] }), reason: INVALID },
  { name: 'a genuine token whose sub was changed after signing', fixture: hs, token: () => tamperPayload(signAccess(hs), { sub: randomUUID() }), reason: INVALID },
  { name: 'a genuine token whose sid was changed after signing', fixture: hs, token: () => tamperPayload(signAccess(hs), { sid: randomUUID() }), reason: INVALID },
  { name: 'a genuine token with its signature stripped', fixture: hs, token: () => replaceSignature(signAccess(hs), ''), reason: INVALID },
  { name: 'a genuine token with its signature truncated by one character', fixture: hs, token: () => signAccess(hs).slice(0, -1), reason: INVALID },
  { name: 'a genuine token with half of its signature', fixture: hs, token: () => { const token = signAccess(hs); return token.slice(0, token.length - 22); }, reason: INVALID },
  { name: 'a genuine RS256 token with its signature truncated', fixture: rs, token: () => signAccess(rs).slice(0, -4), reason: INVALID },
  { name: 'an ES256 token whose signature is DER-encoded instead of r||s', fixture: es, token: () => {
    const token = craft(es);
    const input = token.slice(0, token.lastIndexOf('.'));
    return replaceSignature(token, sign('sha256', Buffer.from(input), es.key).toString('base64url'));
  }, reason: INVALID },
  // Shape
  { name: 'a token of two segments', fixture: hs, token: () => signAccess(hs).split('.').slice(0, 2).join('.'), reason: INVALID },
  { name: 'a token of four segments', fixture: hs, token: () => { const token = signAccess(hs); return `${token}.${token.split('.')[2]}`; }, reason: INVALID },
  { name: 'an empty string', fixture: hs, token: () => '', reason: INVALID },
  // Seven '>' and seven '?' always hold an aligned '>>>' (Pj4+) and '???' (Pz8/); a 32-byte HMAC ends in '='.
  { name: 'a token encoded in standard base64 with + / = characters', fixture: hs, token: () => craft(hs, { encoding: 'base64', claims: { note: '>>>>>>>|???????' } }), reason: INVALID },
  { name: 'a token whose header is not JSON', fixture: hs, token: () => craft(hs, { rawHeader: Buffer.from(`{"alg":"HS256","typ":"at+jwt","kid":"${hs.kid}"`) }), reason: INVALID },
  { name: 'a token whose payload is not JSON', fixture: hs, token: () => craft(hs, { rawPayload: Buffer.from(`sub=${USER_ID}&sid=${SESSION_ID}`) }), reason: INVALID },
  { name: 'a token whose payload is a JSON string', fixture: hs, token: () => craft(hs, { rawPayload: JSON.stringify(validClaims(hs, 'access')) }), reason: INVALID },
  { name: 'a token whose payload is a JSON array', fixture: hs, token: () => craft(hs, { rawPayload: [validClaims(hs, 'access')] }), reason: INVALID },
  { name: 'a token whose payload is not valid UTF-8', fixture: hs, token: () => {
    const [before, after] = JSON.stringify({ ...validClaims(hs, 'access'), note: '@' }).split('@');
    return craft(hs, { rawPayload: Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)]) });
  }, reason: INVALID },
  { name: 'a 100 KB token signed with the right key', fixture: hs, token: () => craft(hs, { claims: { padding: 'x'.repeat(100 * 1024) } }), reason: INVALID },
  // Time claims
  { name: 'a token without exp', fixture: hs, token: () => craft(hs, { claims: { exp: undefined } }), reason: INVALID },
  { name: 'a token whose exp is a string', fixture: hs, token: () => craft(hs, { claims: { exp: String(nowSeconds() + 60) } }), reason: INVALID },
  { name: 'a token whose exp is 1e20', fixture: hs, token: () => craft(hs, { claims: { exp: 1e20 } }), reason: INVALID },
  { name: 'a token whose exp - iat is one second longer than the access lifetime', fixture: hs, token: () => craft(hs, { claims: { exp: nowSeconds() + hs.jwt.accessTokenTtlSeconds + 1 } }), reason: INVALID },
  { name: 'a token without iat', fixture: hs, token: () => craft(hs, { claims: { iat: undefined } }), reason: INVALID },
  { name: 'a token whose exp equals its iat (iat inside the 30 s leeway)', fixture: lenient, token: () => craft(lenient, { claims: { iat: nowSeconds() + 20, exp: nowSeconds() + 20 } }), reason: INVALID },
  { name: 'a token whose nbf is in the future', fixture: hs, token: () => craft(hs, { claims: { nbf: nowSeconds() + 60 } }), reason: INVALID },
  { name: 'a token whose iat is in the future', fixture: hs, token: () => craft(hs, { claims: { iat: nowSeconds() + 60, exp: nowSeconds() + 600 } }), reason: INVALID },
  { name: 'a token whose exp is in the past', fixture: hs, token: () => craft(hs, { claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 1 } }), reason: EXPIRED },
  { name: 'a token expired 60 s ago when the leeway is 30 s', fixture: lenient, token: () => craft(lenient, { claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 60 } }), reason: EXPIRED },
  // Issuer and audience
  { name: 'a token with a wrong iss', fixture: hs, token: () => craft(hs, { claims: { iss: 'https://evil.example' } }), reason: INVALID },
  { name: 'a token without iss', fixture: hs, token: () => craft(hs, { claims: { iss: undefined } }), reason: INVALID },
  { name: 'a token with a wrong aud', fixture: hs, token: () => craft(hs, { claims: { aud: 'another-api' } }), reason: INVALID },
  { name: 'a token without aud', fixture: hs, token: () => craft(hs, { claims: { aud: undefined } }), reason: INVALID },
  // Typing
  { name: 'a token without typ', fixture: hs, token: () => craft(hs, { header: { typ: undefined } }), reason: INVALID },
  { name: 'a token with typ "JWT"', fixture: hs, token: () => craft(hs, { header: { typ: 'JWT' } }), reason: INVALID },
  { name: 'a genuine refresh token (typ "refresh+jwt") presented as an access token', fixture: hs, token: () => signRefresh(hs), reason: INVALID },
  // Header parameters
  { name: 'a token with an unknown crit header', fixture: hs, token: () => craft(hs, { header: { crit: ['x-tessera-unknown'], 'x-tessera-unknown': true } }), reason: INVALID },
  { name: 'a token with a b64:false header', fixture: hs, token: () => craft(hs, { header: { b64: false, crit: ['b64'] } }), reason: INVALID },
  { name: 'a token without kid', fixture: hs, token: () => craft(hs, { header: { kid: undefined } }), reason: INVALID },
  { name: 'a token whose kid is "../../etc/passwd"', fixture: hs, token: () => craft(hs, { header: { kid: '../../etc/passwd' } }), reason: INVALID },
  { name: `a token whose kid is "' OR 1=1 --"`, fixture: hs, token: () => craft(hs, { header: { kid: "' OR 1=1 --" } }), reason: INVALID },
  { name: 'a token signed with an attacker key that it carries in a jwk header', fixture: rs, token: () => craft(rs, { header: { jwk: attackerJwk }, key: attackerRsa.privateKeyPem }), reason: INVALID },
  { name: 'a token signed with an attacker key that its jku header points at', fixture: rs, token: () => craft(rs, { header: { jku: 'https://attacker.example/jwks.json' }, key: attackerRsa.privateKeyPem }), reason: INVALID },
  { name: 'a token signed with an attacker key that its x5u header points at', fixture: rs, token: () => craft(rs, { header: { x5u: 'https://attacker.example/cert.pem' }, key: attackerRsa.privateKeyPem }), reason: INVALID },
  // Claim types
  { name: 'a token whose sub is not a UUID', fixture: hs, token: () => craft(hs, { claims: { sub: '1' } }), reason: INVALID },
  { name: "a token whose sid is \"' OR 1=1 --\"", fixture: hs, token: () => craft(hs, { claims: { sid: "' OR 1=1 --" } }), reason: INVALID },
  { name: 'a token whose jti is not a UUID', fixture: hs, token: () => craft(hs, { claims: { jti: 'abc' } }), reason: INVALID },
  { name: 'a token whose roles is a string', fixture: hs, token: () => craft(hs, { claims: { roles: 'ADMIN' } }), reason: INVALID },
  { name: 'a token whose fresh is the string "true"', fixture: hs, token: () => craft(hs, { claims: { fresh: 'true' } }), reason: INVALID },
  { name: 'a token with no roles but __proto__.roles', fixture: hs, token: () => craft(hs, { rawPayload: claimsJsonWith(hs, '"__proto__":{"roles":["ADMIN"]}', { roles: undefined }) }), reason: INVALID },
];

describe('verifyAccessToken', () => {
  test.each(accessRows)('rejects $name ($reason)', ({ fixture, token, reason }) => {
    expectRejected(() => fixture.service.verifyAccessToken(token()), reason);
  });

  test('accepts the hand-crafted baseline token that every hostile row is a variation of', () => {
    for (const fixture of [hs, rs, ps, es, lenient]) {
      expect(fixture.service.verifyAccessToken(craft(fixture)).sub).toBe(USER_ID);
    }
  });

  test('accepts a freshly signed access token and returns every claim it was signed with', () => {
    const before = nowSeconds();
    const signed = hs.service.signAccessToken({ sub: USER_ID, sid: SESSION_ID, roles: ['USER', 'ADMIN'], fresh: true });
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
    });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(nowSeconds());
    expect(signed.expiresAt).toBe(claims.exp);
    expect(signed.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(decodeSegment(signed.token.split('.')[0])).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/) });
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

const refreshRows: HostileRow[] = [
  { name: 'a genuine access token presented as a refresh token', fixture: hs, token: () => signAccess(hs), reason: INVALID },
  { name: 'a refresh token typed "at+jwt"', fixture: hs, token: () => craft(hs, { kind: 'refresh', header: { typ: 'at+jwt' } }), reason: INVALID },
  { name: 'a refresh token without typ', fixture: hs, token: () => craft(hs, { kind: 'refresh', header: { typ: undefined } }), reason: INVALID },
  { name: 'a refresh token typed "JWT"', fixture: hs, token: () => craft(hs, { kind: 'refresh', header: { typ: 'JWT' } }), reason: INVALID },
  { name: 'an HS512 refresh token when HS256 is configured', fixture: hs, token: () => craft(hs, { kind: 'refresh', header: { alg: 'HS512' } }), reason: INVALID },
  { name: 'an alg "none" refresh token', fixture: hs, token: () => replaceSignature(craft(hs, { kind: 'refresh', header: { alg: 'none' } }), ''), reason: INVALID },
  { name: 'an HS256 refresh token keyed with the RS256 public key PEM', fixture: rs, token: () => craft(rs, { kind: 'refresh', header: { alg: 'HS256' }, key: rs.publicKeyPem }), reason: INVALID },
  { name: 'a refresh token signed with a wrong secret', fixture: hs, token: () => craft(hs, { kind: 'refresh', key: randomBytes(48).toString('base64url') }), reason: INVALID },
  { name: 'a genuine refresh token whose sid was changed after signing', fixture: hs, token: () => tamperPayload(signRefresh(hs), { sid: randomUUID() }), reason: INVALID },
  { name: 'a genuine refresh token whose jti was changed after signing', fixture: hs, token: () => tamperPayload(signRefresh(hs), { jti: randomUUID() }), reason: INVALID },
  { name: 'a genuine refresh token whose exp was extended after signing', fixture: hs, token: () => { const token = signRefresh(hs); return tamperPayload(token, { exp: (decodeSegment(token.split('.')[1]).exp as number) + 86400 }); }, reason: INVALID },
  { name: 'a refresh token whose exp is in the past', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { iat: nowSeconds() - 86400, exp: nowSeconds() - 1 } }), reason: EXPIRED },
  { name: 'a refresh token whose exp - iat is one second longer than the refresh lifetime', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { exp: nowSeconds() + hs.jwt.refreshTokenTtlSeconds + 1 } }), reason: INVALID },
  { name: 'a refresh token without exp', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { exp: undefined } }), reason: INVALID },
  { name: 'a refresh token whose iat is in the future', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { iat: nowSeconds() + 60 } }), reason: INVALID },
  { name: 'a refresh token with a wrong aud', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { aud: 'another-api' } }), reason: INVALID },
  { name: 'a refresh token with a wrong iss', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { iss: 'https://evil.example' } }), reason: INVALID },
  { name: 'a refresh token whose sid is not a UUID', fixture: hs, token: () => craft(hs, { kind: 'refresh', claims: { sid: '42' } }), reason: INVALID },
  { name: 'a refresh token whose kid is another key id', fixture: hs, token: () => craft(hs, { kind: 'refresh', header: { kid: 'previous-key' } }), reason: INVALID },
  { name: 'a refresh token whose payload is a JSON array', fixture: hs, token: () => craft(hs, { kind: 'refresh', rawPayload: [validClaims(hs, 'refresh')] }), reason: INVALID },
];

describe('verifyRefreshToken', () => {
  test.each(refreshRows)('rejects $name ($reason)', ({ fixture, token, reason }) => {
    expectRejected(() => fixture.service.verifyRefreshToken(token()), reason);
  });

  test('accepts the hand-crafted baseline refresh token', () => {
    expect(hs.service.verifyRefreshToken(craft(hs, { kind: 'refresh' })).sid).toBe(SESSION_ID);
  });

  test('accepts a freshly signed refresh token and returns its claims', () => {
    const signed = hs.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 10 * 86400);
    const claims: RefreshClaims = hs.service.verifyRefreshToken(signed.token);
    expect(claims).toEqual({ iss: ISSUER, aud: AUDIENCE, sub: USER_ID, sid: SESSION_ID, jti: signed.jti, iat: expect.any(Number), exp: signed.expiresAt });
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
    const signed = hs.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 10 * hs.jwt.refreshTokenTtlSeconds);
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
])('with $algorithm', ({ algorithm, fixture }) => {
  const otherAlgorithms = ['HS256', 'RS256', 'PS256', 'ES256'].filter((other) => other !== algorithm);
  /** The most tempting key for each other algorithm: the configured one when its type fits. */
  const keyFor = (other: string): string =>
    other === 'HS256' ? fixture.publicKeyPem!
      : other === 'ES256' ? es.key
        : algorithm === 'ES256' ? rs.key : fixture.key;

  test('signs and verifies an access token and a refresh token', () => {
    const access = fixture.service.signAccessToken({ sub: USER_ID, sid: SESSION_ID, roles: ['ADMIN'], fresh: true });
    expect(decodeSegment(access.token.split('.')[0])).toEqual({ alg: algorithm, typ: 'at+jwt', kid: fixture.kid });
    expect(fixture.service.verifyAccessToken(access.token)).toMatchObject({ sub: USER_ID, sid: SESSION_ID, jti: access.jti, roles: ['ADMIN'], fresh: true });
    const refresh = fixture.service.signRefreshToken({ sub: USER_ID, sid: SESSION_ID }, nowSeconds() + 3600);
    expect(fixture.service.verifyRefreshToken(refresh.token)).toMatchObject({ sub: USER_ID, sid: SESSION_ID, jti: refresh.jti });
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

  test.each(otherAlgorithms)(`rejects a token with alg %s, however it is signed, when ${algorithm} is configured`, (other) => {
    expectRejected(() => fixture.service.verifyAccessToken(craft(fixture, { header: { alg: other }, key: keyFor(other) })), INVALID);
  });
});

test('loads RS256 keys from file paths and verifies tokens signed with the same keys given as PEM text', () => {
  const pair = generatePemKeyPair('RS256');
  const privatePath = path.join(dataDir, 'private.pem');
  const publicPath = path.join(dataDir, 'public.pem');
  writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicPath, pair.publicKeyPem);
  const fromFiles = createFixture('RS256', { JWT_PRIVATE_KEY: privatePath, JWT_PUBLIC_KEY: publicPath });
  const fromText = createFixture('RS256', {}, pair);
  expect(fromFiles.jwt.keys).toEqual({ algorithm: 'RS256', privateKeyPem: pair.privateKeyPem, publicKeyPem: pair.publicKeyPem });
  expect(fromFiles.kid).toBe(fromText.kid);
  expect(fromFiles.service.verifyAccessToken(signAccess(fromText)).sub).toBe(USER_ID);
  expect(fromText.service.verifyAccessToken(signAccess(fromFiles)).sub).toBe(USER_ID);
});
