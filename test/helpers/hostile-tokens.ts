// Hostile JWTs, built byte by byte: base64url segments signed with node:crypto, so that each row
// of the attack table breaks exactly one thing about an otherwise valid token. Shared by the unit
// test of TokenService and the integration test that sends the same table over HTTP: a target
// describes what a verifier expects (algorithm, key, kid, issuer, audience, lifetimes) and the
// claims a valid token would carry (a real user and session when there is a real server).
import {
  constants,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import { AuthFailure } from '../../src/auth/auth-error.js';
import { nowSeconds } from '../../src/auth/tokens.js';
import type { JwtAlgorithm } from '../../src/config.js';

export type Kind = 'access' | 'refresh';
export const TOKEN_TYPES: Record<Kind, string> = { access: 'at+jwt', refresh: 'refresh+jwt' };

const INVALID = AuthFailure.TOKEN_INVALID;
const EXPIRED = AuthFailure.TOKEN_EXPIRED;

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generatePemKeyPair(algorithm: Exclude<JwtAlgorithm, 'HS256'>): KeyPairPem {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const pair =
    algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1', publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

/** What a verifier expects, and who a valid token of it speaks for. */
export interface TokenTarget {
  algorithm: JwtAlgorithm;
  /** What signs: the HMAC secret, or the private key PEM. */
  key: string;
  /** The public key PEM (asymmetric algorithms only). */
  publicKeyPem?: string;
  /** The kid the verifier puts in (and demands of) its tokens. */
  kid: string;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  sub: string;
  sid: string;
  /** The jti a crafted refresh token carries; a fresh UUID when not set. */
  refreshJti?: string;
  /** A token the verifier's own issuer signed. */
  genuine(kind: Kind): string;
}

export function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A Buffer is taken as the segment's raw bytes; anything else is JSON-encoded first. */
export function encodeSegment(value: unknown, encoding: BufferEncoding): string {
  return (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value), 'utf8')).toString(encoding);
}

export const SIGNERS: Record<string, (input: string, key: string) => Buffer> = {
  HS256: (input, key) => createHmac('sha256', key).update(input).digest(),
  HS384: (input, key) => createHmac('sha384', key).update(input).digest(),
  HS512: (input, key) => createHmac('sha512', key).update(input).digest(),
  RS256: (input, key) => sign('sha256', Buffer.from(input), key),
  PS256: (input, key) =>
    sign('sha256', Buffer.from(input), {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }),
  ES256: (input, key) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }),
};

export function validClaims(t: TokenTarget, kind: Kind): Record<string, unknown> {
  const now = nowSeconds();
  const common = { iss: t.issuer, aud: t.audience, sub: t.sub, sid: t.sid, iat: now };
  return kind === 'access'
    ? { ...common, jti: randomUUID(), exp: now + t.accessTokenTtlSeconds, roles: ['USER'], fresh: false }
    : { ...common, jti: t.refreshJti ?? randomUUID(), exp: now + t.refreshTokenTtlSeconds };
}

export interface CraftOptions {
  kind?: Kind;
  /** Merged over the header the verifier expects; a property set to undefined is left out. */
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
export function craft(t: TokenTarget, options: CraftOptions = {}): string {
  const kind = options.kind ?? 'access';
  const encoding = options.encoding ?? 'base64url';
  const header = { alg: t.algorithm, typ: TOKEN_TYPES[kind], kid: t.kid, ...options.header };
  const payload = options.rawPayload ?? { ...validClaims(t, kind), ...options.claims };
  const input = `${encodeSegment(options.rawHeader ?? header, encoding)}.${encodeSegment(payload, encoding)}`;
  const algorithm =
    options.signAlgorithm ?? (typeof header.alg === 'string' && header.alg in SIGNERS ? header.alg : t.algorithm);
  return `${input}.${SIGNERS[algorithm](input, options.key ?? t.key).toString(encoding)}`;
}

/** Changes claims of a genuine token and keeps its signature. */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  return [header, encodeSegment({ ...decodeSegment(payload), ...changes }, 'base64url'), signature].join('.');
}

export function replaceSignature(token: string, signature: string): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${signature}`;
}

/** Valid JSON text of the claims with `extra` spliced in verbatim before the closing brace. */
export function claimsJsonWith(
  t: TokenTarget,
  extra: string,
  claims: Record<string, unknown> = {},
  kind: Kind = 'access',
): Buffer {
  return Buffer.from(JSON.stringify({ ...validClaims(t, kind), ...claims }).replace(/}$/, `,${extra}}`), 'utf8');
}

export interface HostileRow<T extends TokenTarget = TokenTarget> {
  name: string;
  target: T;
  token: () => string;
  /** What TokenService says; over HTTP an expired refresh token is SESSION_EXPIRED. */
  reason: AuthFailure;
  /** Bigger than an HTTP header may be: the integration test sends it on its own. */
  oversized?: true;
}

export interface AttackTargets<T extends TokenTarget> {
  /** HS256. */
  hs: T;
  /** RS256. */
  rs: T;
  /** HS256 with JWT_LEEWAY=30. */
  lenient: T;
  /** PS256: its rows are left out without it. */
  ps?: T;
  /** ES256: its rows are left out without it (an ES256 attack on RS256 then uses a stranger's key). */
  es?: T;
  /** Swapped into a genuine token's sub; a random UUID when not given. */
  otherSub?: () => string;
  /** Swapped into a genuine token's sid; a random UUID when not given. */
  otherSid?: () => string;
  /** Where the jku and x5u headers point; attacker.example when not given. */
  attackerUrls?: { jku?: string; x5u?: string };
}

const attackerRsa = generatePemKeyPair('RS256');
const attackerEc = generatePemKeyPair('ES256');
const attackerJwk = createPublicKey(attackerRsa.publicKeyPem).export({ format: 'jwk' });

/**
 * The attack table for access or for refresh tokens: every row is rejected by the verifier of its
 * target with its reason. The rows are the same for both kinds but for the claims only one kind
 * has (roles, fresh) and for the presented-as-the-other-kind rows.
 */
export function tokenAttackRows<T extends TokenTarget>(kind: Kind, targets: AttackTargets<T>): HostileRow<T>[] {
  const { hs, rs, lenient, ps, es } = targets;
  const otherSub = targets.otherSub ?? (() => randomUUID());
  const otherSid = targets.otherSid ?? (() => randomUUID());
  const otherKind: Kind = kind === 'access' ? 'refresh' : 'access';
  /** The noun of every row name: "token" for access tokens, "refresh token" for refresh tokens. */
  const noun = kind === 'access' ? 'token' : 'refresh token';
  const c = (t: T, options: CraftOptions = {}) => craft(t, { kind, ...options });
  const genuine = (t: T) => t.genuine(kind);
  const now = nowSeconds;
  const atOnce = (claims: (now: number) => Record<string, unknown>) => claims(nowSeconds());
  const ttl = (t: T) => (kind === 'access' ? t.accessTokenTtlSeconds : t.refreshTokenTtlSeconds);

  const noneRows: HostileRow<T>[] = ['none', 'None', 'NONE'].flatMap((alg) => [
    {
      name: `an alg "${alg}" ${noun} without a signature`,
      target: hs,
      token: () => replaceSignature(c(hs, { header: { alg } }), ''),
      reason: INVALID,
    },
    {
      name: `an alg "${alg}" ${noun} that carries a valid HS256 signature`,
      target: hs,
      token: () => c(hs, { header: { alg } }),
      reason: INVALID,
    },
  ]);

  const rows: HostileRow<T>[] = [
    ...noneRows,
    // Algorithm confusion
    {
      name: `an HS256 ${noun} keyed with the RS256 public key PEM when RS256 is configured`,
      target: rs,
      token: () => c(rs, { header: { alg: 'HS256' }, key: rs.publicKeyPem }),
      reason: INVALID,
    },
    {
      name: `an RS256 ${noun} when HS256 is configured`,
      target: hs,
      token: () => c(hs, { header: { alg: 'RS256' }, key: rs.key }),
      reason: INVALID,
    },
    {
      name: `an HS384 ${noun} signed with the right secret when HS256 is configured`,
      target: hs,
      token: () => c(hs, { header: { alg: 'HS384' } }),
      reason: INVALID,
    },
    {
      name: `an HS512 ${noun} signed with the right secret when HS256 is configured`,
      target: hs,
      token: () => c(hs, { header: { alg: 'HS512' } }),
      reason: INVALID,
    },
    {
      name: `an ES256 ${noun} when RS256 is configured`,
      target: rs,
      token: () => c(rs, { header: { alg: 'ES256' }, key: es?.key ?? attackerEc.privateKeyPem }),
      reason: INVALID,
    },
    {
      name: `a PS256 ${noun} signed with the configured RSA key when RS256 is configured`,
      target: rs,
      token: () => c(rs, { header: { alg: 'PS256' } }),
      reason: INVALID,
    },
    ...(ps
      ? [
          {
            name: `an RS256 ${noun} signed with the configured RSA key when PS256 is configured`,
            target: ps,
            token: () => c(ps, { header: { alg: 'RS256' } }),
            reason: INVALID,
          },
        ]
      : []),
    {
      name: `an HS256 ${noun} declaring RS256 in its header`,
      target: rs,
      token: () => c(rs, { signAlgorithm: 'HS256', key: rs.publicKeyPem }),
      reason: INVALID,
    },
    // Signature
    {
      name: `a ${noun} signed with a wrong secret`,
      target: hs,
      token: () => c(hs, { key: randomBytes(48).toString('base64url') }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose sub was changed after signing`,
      target: hs,
      token: () => tamperPayload(genuine(hs), { sub: otherSub() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose sid was changed after signing`,
      target: hs,
      token: () => tamperPayload(genuine(hs), { sid: otherSid() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose jti was changed after signing`,
      target: hs,
      token: () => tamperPayload(genuine(hs), { jti: randomUUID() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose exp was extended after signing`,
      target: hs,
      token: () => {
        const token = genuine(hs);
        return tamperPayload(token, { exp: (decodeSegment(token.split('.')[1]).exp as number) + 86400 });
      },
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with its signature stripped`,
      target: hs,
      token: () => replaceSignature(genuine(hs), ''),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with its signature truncated by one character`,
      target: hs,
      token: () => genuine(hs).slice(0, -1),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with half of its signature`,
      target: hs,
      token: () => {
        const token = genuine(hs);
        return token.slice(0, token.length - 22);
      },
      reason: INVALID,
    },
    {
      name: `a genuine RS256 ${noun} with its signature truncated`,
      target: rs,
      token: () => genuine(rs).slice(0, -4),
      reason: INVALID,
    },
    ...(es
      ? [
          {
            name: `an ES256 ${noun} whose signature is DER-encoded instead of r||s`,
            target: es,
            token: () => {
              const token = c(es);
              const input = token.slice(0, token.lastIndexOf('.'));
              return replaceSignature(token, sign('sha256', Buffer.from(input), es.key).toString('base64url'));
            },
            reason: INVALID,
          },
        ]
      : []),
    // Shape
    {
      name: `a ${noun} of two segments`,
      target: hs,
      token: () => genuine(hs).split('.').slice(0, 2).join('.'),
      reason: INVALID,
    },
    {
      name: `a ${noun} of four segments`,
      target: hs,
      token: () => {
        const token = genuine(hs);
        return `${token}.${token.split('.')[2]}`;
      },
      reason: INVALID,
    },
    { name: 'an empty string', target: hs, token: () => '', reason: INVALID },
    // Seven '>' and seven '?' always hold an aligned '>>>' (Pj4+) and '???' (Pz8/); a 32-byte HMAC ends in '='.
    {
      name: `a ${noun} encoded in standard base64 with + / = characters`,
      target: hs,
      token: () => c(hs, { encoding: 'base64', claims: { note: '>>>>>>>|???????' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is not JSON`,
      target: hs,
      token: () => c(hs, { rawHeader: Buffer.from(`{"alg":"HS256","typ":"${TOKEN_TYPES[kind]}","kid":"${hs.kid}"`) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is a JSON string`,
      target: hs,
      token: () => c(hs, { rawHeader: JSON.stringify({ alg: 'HS256', typ: TOKEN_TYPES[kind], kid: hs.kid }) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is a JSON array`,
      target: hs,
      token: () => c(hs, { rawHeader: [{ alg: 'HS256', typ: TOKEN_TYPES[kind], kid: hs.kid }] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is not valid UTF-8`,
      target: hs,
      token: () =>
        c(hs, {
          rawHeader: Buffer.concat([
            Buffer.from(`{"alg":"HS256","typ":"${TOKEN_TYPES[kind]}","kid":"${hs.kid}","x":"`),
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from('"}'),
          ]),
        }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is not JSON`,
      target: hs,
      token: () => c(hs, { rawPayload: Buffer.from(`sub=${hs.sub}&sid=${hs.sid}`) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is a JSON string`,
      target: hs,
      token: () => c(hs, { rawPayload: JSON.stringify(validClaims(hs, kind)) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is a JSON array`,
      target: hs,
      token: () => c(hs, { rawPayload: [validClaims(hs, kind)] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is not valid UTF-8`,
      target: hs,
      token: () => {
        const [before, after] = JSON.stringify({ ...validClaims(hs, kind), note: '@' }).split('@');
        return c(hs, {
          rawPayload: Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)]),
        });
      },
      reason: INVALID,
    },
    {
      name: `a 100 KB ${noun} signed with the right key`,
      target: hs,
      token: () => c(hs, { claims: { padding: 'x'.repeat(100 * 1024) } }),
      reason: INVALID,
      oversized: true,
    },
    {
      name: `an 8.5 KB ${noun} signed with the right key`,
      target: hs,
      token: () => {
        // Sized to 8704 characters: past the verifier's 8 KB limit, well inside an HTTP header.
        const padded = (length: number) => c(hs, { claims: { padding: 'x'.repeat(length) } });
        const padding = 6000 + Math.floor(((8704 - padded(6000).length) * 3) / 4);
        return padded(padding);
      },
      reason: INVALID,
    },
    // Time claims
    { name: `a ${noun} without exp`, target: hs, token: () => c(hs, { claims: { exp: undefined } }), reason: INVALID },
    {
      name: `a ${noun} whose exp is a string`,
      target: hs,
      token: () => c(hs, { claims: { exp: String(now() + 60) } }),
      reason: INVALID,
    },
    { name: `a ${noun} whose exp is 1e20`, target: hs, token: () => c(hs, { claims: { exp: 1e20 } }), reason: INVALID },
    // The rows that relate exp to iat read the clock once: two readings can straddle a second
    // boundary, and this one's exp - iat would then be the lifetime itself (seen in CI).
    {
      name: `a ${noun} whose exp - iat is one second longer than the ${kind} lifetime`,
      target: hs,
      token: () => c(hs, { claims: atOnce((iat) => ({ iat, exp: iat + ttl(hs) + 1 })) }),
      reason: INVALID,
    },
    { name: `a ${noun} without iat`, target: hs, token: () => c(hs, { claims: { iat: undefined } }), reason: INVALID },
    {
      name: `a ${noun} whose exp equals its iat (iat inside the 30 s leeway)`,
      target: lenient,
      token: () => c(lenient, { claims: atOnce((at) => ({ iat: at + 20, exp: at + 20 })) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose nbf is in the future`,
      target: hs,
      token: () => c(hs, { claims: { nbf: now() + 60 } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose iat is in the future`,
      target: hs,
      token: () => c(hs, { claims: { iat: now() + 60, exp: now() + 600 } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose exp is in the past`,
      target: hs,
      token: () => c(hs, { claims: { iat: now() - 600, exp: now() - 1 } }),
      reason: EXPIRED,
    },
    {
      name: `a ${noun} expired 60 s ago when the leeway is 30 s`,
      target: lenient,
      token: () => c(lenient, { claims: { iat: now() - 600, exp: now() - 60 } }),
      reason: EXPIRED,
    },
    // Issuer and audience
    {
      name: `a ${noun} with a wrong iss`,
      target: hs,
      token: () => c(hs, { claims: { iss: 'https://evil.example' } }),
      reason: INVALID,
    },
    { name: `a ${noun} without iss`, target: hs, token: () => c(hs, { claims: { iss: undefined } }), reason: INVALID },
    {
      name: `a ${noun} with a wrong aud`,
      target: hs,
      token: () => c(hs, { claims: { aud: 'another-api' } }),
      reason: INVALID,
    },
    { name: `a ${noun} without aud`, target: hs, token: () => c(hs, { claims: { aud: undefined } }), reason: INVALID },
    // Typing
    { name: `a ${noun} without typ`, target: hs, token: () => c(hs, { header: { typ: undefined } }), reason: INVALID },
    { name: `a ${noun} with typ "JWT"`, target: hs, token: () => c(hs, { header: { typ: 'JWT' } }), reason: INVALID },
    {
      name: `a ${noun} typed "${TOKEN_TYPES[otherKind]}"`,
      target: hs,
      token: () => c(hs, { header: { typ: TOKEN_TYPES[otherKind] } }),
      reason: INVALID,
    },
    {
      name: `a genuine ${otherKind} token (typ "${TOKEN_TYPES[otherKind]}") presented as ${kind === 'access' ? 'an access' : 'a refresh'} token`,
      target: hs,
      token: () => hs.genuine(otherKind),
      reason: INVALID,
    },
    // Header parameters
    {
      name: `a ${noun} with an unknown crit header`,
      target: hs,
      token: () => c(hs, { header: { crit: ['x-tessera-unknown'], 'x-tessera-unknown': true } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} with a b64:false header`,
      target: hs,
      token: () => c(hs, { header: { b64: false, crit: ['b64'] } }),
      reason: INVALID,
    },
    { name: `a ${noun} without kid`, target: hs, token: () => c(hs, { header: { kid: undefined } }), reason: INVALID },
    {
      name: `a ${noun} whose kid is another key id`,
      target: hs,
      token: () => c(hs, { header: { kid: 'previous-key' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is "../../etc/passwd"`,
      target: hs,
      token: () => c(hs, { header: { kid: '../../etc/passwd' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is "' OR 1=1 --"`,
      target: hs,
      token: () => c(hs, { header: { kid: "' OR 1=1 --" } }),
      reason: INVALID,
    },
    ...attackerKeyRows(kind, rs, noun, targets.attackerUrls),
    // Claim types
    {
      name: `a ${noun} whose sub is not a UUID`,
      target: hs,
      token: () => c(hs, { claims: { sub: '1' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose sid is not a UUID`,
      target: hs,
      token: () => c(hs, { claims: { sid: '42' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose sid is "' OR 1=1 --"`,
      target: hs,
      token: () => c(hs, { claims: { sid: "' OR 1=1 --" } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose jti is not a UUID`,
      target: hs,
      token: () => c(hs, { claims: { jti: 'abc' } }),
      reason: INVALID,
    },
  ];

  if (kind === 'access') {
    rows.push(
      {
        name: 'a genuine token whose roles were changed after signing',
        target: hs,
        token: () => tamperPayload(genuine(hs), { roles: ['USER', 'ADMIN'] }),
        reason: INVALID,
      },
      {
        name: 'a token whose roles is a string',
        target: hs,
        token: () => c(hs, { claims: { roles: 'ADMIN' } }),
        reason: INVALID,
      },
      {
        name: 'a token whose fresh is the string "true"',
        target: hs,
        token: () => c(hs, { claims: { fresh: 'true' } }),
        reason: INVALID,
      },
      {
        name: 'a token whose gen is negative',
        target: hs,
        token: () => c(hs, { claims: { gen: -1 } }),
        reason: INVALID,
      },
      {
        name: 'a token whose gen is not an integer',
        target: hs,
        token: () => c(hs, { claims: { gen: 1.5 } }),
        reason: INVALID,
      },
      {
        name: 'a token whose gen is the string "1"',
        target: hs,
        token: () => c(hs, { claims: { gen: '1' } }),
        reason: INVALID,
      },
      {
        name: 'a token whose gen is past the safe integers',
        target: hs,
        token: () => c(hs, { claims: { gen: 2 ** 53 } }),
        reason: INVALID,
      },
      {
        name: 'a token whose gen is null',
        target: hs,
        token: () => c(hs, { claims: { gen: null } }),
        reason: INVALID,
      },
      {
        name: 'a token with no roles but __proto__.roles',
        target: hs,
        token: () => c(hs, { rawPayload: claimsJsonWith(hs, '"__proto__":{"roles":["ADMIN"]}', { roles: undefined }) }),
        reason: INVALID,
      },
    );
  }
  return rows;
}

/** Tokens signed with an attacker's key that they point at, or carry: the key is never taken from the token. */
export function attackerKeyRows<T extends TokenTarget>(
  kind: Kind,
  rs: T,
  noun: string,
  urls: { jku?: string; x5u?: string } = {},
): HostileRow<T>[] {
  const c = (header: Record<string, unknown>) => craft(rs, { kind, header, key: attackerRsa.privateKeyPem });
  return [
    {
      name: `a ${noun} signed with an attacker key that it carries in a jwk header`,
      target: rs,
      token: () => c({ jwk: attackerJwk }),
      reason: INVALID,
    },
    {
      name: `a ${noun} signed with an attacker key that its jku header points at`,
      target: rs,
      token: () => c({ jku: urls.jku ?? 'https://attacker.example/jwks.json' }),
      reason: INVALID,
    },
    {
      name: `a ${noun} signed with an attacker key that its x5u header points at`,
      target: rs,
      token: () => c({ x5u: urls.x5u ?? 'https://attacker.example/cert.pem' }),
      reason: INVALID,
    },
  ];
}

/** The attacker's RSA key: its public half as a JWK, for a jwks.json an attacker would serve. */
export const ATTACKER_JWK = attackerJwk;
