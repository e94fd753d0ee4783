// The attack table: hostile JWTs (hostile-token-craft.ts builds them byte by byte) that each break
// exactly one thing about an otherwise valid token. Shared by the unit test of TokenService and
// the integration test that sends the same table over HTTP.
import { randomUUID, sign } from 'node:crypto';
import { AuthFailure } from '../../src/auth/auth-error.js';
import { nowSeconds } from '../../src/auth/tokens.js';
import { keyChoiceRows } from './hostile-key-rows.js';
import {
  attacker,
  claimsJsonWith,
  craft,
  decodeSegment,
  replaceSignature,
  strangerKey,
  tamperPayload,
  TOKEN_TYPES,
  validClaims,
  type CraftOptions,
  type HostileRow,
  type Kind,
  type TokenTarget,
} from './hostile-token-craft.js';

export * from './hostile-token-craft.js';
export { attackerKeyRows } from './hostile-key-rows.js';

const INVALID = AuthFailure.TOKEN_INVALID;
const EXPIRED = AuthFailure.TOKEN_EXPIRED;

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
  /** EdDSA: without it its rows are left out; with it, the rows every verifier must refuse run against it too. */
  ed?: T;
  /** Swapped into a genuine token's sub; a random UUID when not given. */
  otherSub?: () => string;
  /** Swapped into a genuine token's sid; a random UUID when not given. */
  otherSid?: () => string;
  /** Where the jku and x5u headers point; attacker.example when not given. */
  attackerUrls?: { jku?: string; x5u?: string };
}

/** What the row builders share: the kind of token attacked, and crafting for that kind. */
export interface RowContext<T extends TokenTarget> {
  kind: Kind;
  otherKind: Kind;
  /** The noun of every row name: "token" for access tokens, "refresh token" for refresh tokens. */
  noun: string;
  c: (t: T, options?: CraftOptions) => string;
  genuine: (t: T) => string;
  ttl: (t: T) => number;
  otherSub: () => string;
  otherSid: () => string;
}

const now = nowSeconds;
const atOnce = (claims: (now: number) => Record<string, unknown>) => claims(nowSeconds());

/**
 * The attack table for access or for refresh tokens: every row is rejected by the verifier of its
 * target with its reason. The rows are the same for both kinds but for the claims only one kind
 * has (roles, fresh) and for the presented-as-the-other-kind rows. The rows every verifier must
 * refuse run against HS256 and, when given, EdDSA (whose checks are Tessera's own code); then
 * come the rows about one configuration and about the choice of algorithm and key.
 */
export function tokenAttackRows<T extends TokenTarget>(kind: Kind, targets: AttackTargets<T>): HostileRow<T>[] {
  const context: RowContext<T> = {
    kind,
    otherKind: kind === 'access' ? 'refresh' : 'access',
    noun: kind === 'access' ? 'token' : 'refresh token',
    c: (t, options = {}) => craft(t, { kind, ...options }),
    genuine: (t) => t.genuine(kind),
    ttl: (t) => (kind === 'access' ? t.accessTokenTtlSeconds : t.refreshTokenTtlSeconds),
    otherSub: targets.otherSub ?? (() => randomUUID()),
    otherSid: targets.otherSid ?? (() => randomUUID()),
  };
  return [
    ...verifierRows(context, targets.hs, ''),
    ...(targets.ed ? verifierRows(context, targets.ed, ' (EdDSA)') : []),
    ...configurationRows(context, targets),
    ...keyChoiceRows(context, targets),
  ];
}

/** The rows any verifier must refuse, whatever its algorithm; `label` tells the targets' rows apart. */
function verifierRows<T extends TokenTarget>(context: RowContext<T>, t: T, label: string): HostileRow<T>[] {
  const { kind, otherKind, noun, c, genuine, ttl, otherSub, otherSid } = context;
  const noneRows: HostileRow<T>[] = ['none', 'None', 'NONE'].flatMap((alg) => [
    {
      name: `an alg "${alg}" ${noun} without a signature${label}`,
      target: t,
      token: () => replaceSignature(c(t, { header: { alg } }), ''),
      reason: INVALID,
    },
    {
      name: `an alg "${alg}" ${noun} that carries a valid signature${label}`,
      target: t,
      token: () => c(t, { header: { alg } }),
      reason: INVALID,
    },
  ]);

  const rows: HostileRow<T>[] = [
    ...noneRows,
    // Signature
    {
      name: `a ${noun} signed with a wrong key${label}`,
      target: t,
      token: () => c(t, { key: strangerKey(t.algorithm) }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose sub was changed after signing${label}`,
      target: t,
      token: () => tamperPayload(genuine(t), { sub: otherSub() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose sid was changed after signing${label}`,
      target: t,
      token: () => tamperPayload(genuine(t), { sid: otherSid() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose jti was changed after signing${label}`,
      target: t,
      token: () => tamperPayload(genuine(t), { jti: randomUUID() }),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} whose exp was extended after signing${label}`,
      target: t,
      token: () => {
        const token = genuine(t);
        return tamperPayload(token, { exp: (decodeSegment(token.split('.')[1]).exp as number) + 86400 });
      },
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with its signature stripped${label}`,
      target: t,
      token: () => replaceSignature(genuine(t), ''),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with its signature truncated by one character${label}`,
      target: t,
      token: () => genuine(t).slice(0, -1),
      reason: INVALID,
    },
    {
      name: `a genuine ${noun} with half of its signature${label}`,
      target: t,
      token: () => {
        const token = genuine(t);
        return token.slice(0, token.length - 22);
      },
      reason: INVALID,
    },
    // Shape
    {
      name: `a ${noun} of two segments${label}`,
      target: t,
      token: () => genuine(t).split('.').slice(0, 2).join('.'),
      reason: INVALID,
    },
    {
      name: `a ${noun} of four segments${label}`,
      target: t,
      token: () => {
        const token = genuine(t);
        return `${token}.${token.split('.')[2]}`;
      },
      reason: INVALID,
    },
    // Seven '>' and seven '?' always hold an aligned '>>>' (Pj4+) and '???' (Pz8/); an HMAC and an Ed25519 signature end in '='.
    {
      name: `a ${noun} encoded in standard base64 with + / = characters${label}`,
      target: t,
      token: () => c(t, { encoding: 'base64', claims: { note: '>>>>>>>|???????' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is not JSON${label}`,
      target: t,
      token: () =>
        c(t, { rawHeader: Buffer.from(`{"alg":"${t.algorithm}","typ":"${TOKEN_TYPES[kind]}","kid":"${t.kid}"`) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is a JSON string${label}`,
      target: t,
      token: () => c(t, { rawHeader: JSON.stringify({ alg: t.algorithm, typ: TOKEN_TYPES[kind], kid: t.kid }) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is a JSON array${label}`,
      target: t,
      token: () => c(t, { rawHeader: [{ alg: t.algorithm, typ: TOKEN_TYPES[kind], kid: t.kid }] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose header is not valid UTF-8${label}`,
      target: t,
      token: () =>
        c(t, {
          rawHeader: Buffer.concat([
            Buffer.from(`{"alg":"${t.algorithm}","typ":"${TOKEN_TYPES[kind]}","kid":"${t.kid}","x":"`),
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from('"}'),
          ]),
        }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is not JSON${label}`,
      target: t,
      token: () => c(t, { rawPayload: Buffer.from(`sub=${t.sub}&sid=${t.sid}`) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is a JSON string${label}`,
      target: t,
      token: () => c(t, { rawPayload: JSON.stringify(validClaims(t, kind)) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is a JSON array${label}`,
      target: t,
      token: () => c(t, { rawPayload: [validClaims(t, kind)] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose payload is not valid UTF-8${label}`,
      target: t,
      token: () => {
        const [before, after] = JSON.stringify({ ...validClaims(t, kind), note: '@' }).split('@');
        return c(t, {
          rawPayload: Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)]),
        });
      },
      reason: INVALID,
    },
    // Time claims
    {
      name: `a ${noun} without exp${label}`,
      target: t,
      token: () => c(t, { claims: { exp: undefined } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose exp is a string${label}`,
      target: t,
      token: () => c(t, { claims: { exp: String(now() + 60) } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose exp is 1e20${label}`,
      target: t,
      token: () => c(t, { claims: { exp: 1e20 } }),
      reason: INVALID,
    },
    // The rows that relate exp to iat read the clock once: two readings can straddle a second
    // boundary, and this one's exp - iat would then be the lifetime itself (seen in CI).
    {
      name: `a ${noun} whose exp - iat is one second longer than the ${kind} lifetime${label}`,
      target: t,
      token: () => c(t, { claims: atOnce((iat) => ({ iat, exp: iat + ttl(t) + 1 })) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} without iat${label}`,
      target: t,
      token: () => c(t, { claims: { iat: undefined } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose nbf is in the future${label}`,
      target: t,
      token: () => c(t, { claims: { nbf: now() + 60 } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose iat is in the future${label}`,
      target: t,
      token: () => c(t, { claims: { iat: now() + 60, exp: now() + 600 } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose exp is in the past${label}`,
      target: t,
      token: () => c(t, { claims: { iat: now() - 600, exp: now() - 1 } }),
      reason: EXPIRED,
    },
    // Issuer and audience
    {
      name: `a ${noun} with a wrong iss${label}`,
      target: t,
      token: () => c(t, { claims: { iss: 'https://evil.example' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} without iss${label}`,
      target: t,
      token: () => c(t, { claims: { iss: undefined } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} with a wrong aud${label}`,
      target: t,
      token: () => c(t, { claims: { aud: 'another-api' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} without aud${label}`,
      target: t,
      token: () => c(t, { claims: { aud: undefined } }),
      reason: INVALID,
    },
    // Typing
    {
      name: `a ${noun} without typ${label}`,
      target: t,
      token: () => c(t, { header: { typ: undefined } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} with typ "JWT"${label}`,
      target: t,
      token: () => c(t, { header: { typ: 'JWT' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} typed "${TOKEN_TYPES[otherKind]}"${label}`,
      target: t,
      token: () => c(t, { header: { typ: TOKEN_TYPES[otherKind] } }),
      reason: INVALID,
    },
    {
      name: `a genuine ${otherKind} token (typ "${TOKEN_TYPES[otherKind]}") presented as ${kind === 'access' ? 'an access' : 'a refresh'} token${label}`,
      target: t,
      token: () => t.genuine(otherKind),
      reason: INVALID,
    },
    // Header parameters
    {
      name: `a ${noun} with an unknown crit header${label}`,
      target: t,
      token: () => c(t, { header: { crit: ['x-tessera-unknown'], 'x-tessera-unknown': true } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} with a b64:false header${label}`,
      target: t,
      token: () => c(t, { header: { b64: false, crit: ['b64'] } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} without kid${label}`,
      target: t,
      token: () => c(t, { header: { kid: undefined } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is another key id${label}`,
      target: t,
      token: () => c(t, { header: { kid: 'previous-key' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is "../../etc/passwd"${label}`,
      target: t,
      token: () => c(t, { header: { kid: '../../etc/passwd' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is "' OR 1=1 --"${label}`,
      target: t,
      token: () => c(t, { header: { kid: "' OR 1=1 --" } }),
      reason: INVALID,
    },
    // A kid that is not a string, or names a property every object has: the lookup finds no key.
    ...['__proto__', 'constructor', 'toString'].map((kid) => ({
      name: `a ${noun} whose kid is "${kid}"${label}`,
      target: t,
      token: () => c(t, { header: { kid } }),
      reason: INVALID,
    })),
    {
      name: `a ${noun} whose kid is an array holding the configured kid${label}`,
      target: t,
      token: () => c(t, { header: { kid: [t.kid] } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose kid is a number${label}`,
      target: t,
      token: () => c(t, { header: { kid: 1 } }),
      reason: INVALID,
    },
    // Claim types
    {
      name: `a ${noun} whose sub is not a UUID${label}`,
      target: t,
      token: () => c(t, { claims: { sub: '1' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose sid is not a UUID${label}`,
      target: t,
      token: () => c(t, { claims: { sid: '42' } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose sid is "' OR 1=1 --"${label}`,
      target: t,
      token: () => c(t, { claims: { sid: "' OR 1=1 --" } }),
      reason: INVALID,
    },
    {
      name: `a ${noun} whose jti is not a UUID${label}`,
      target: t,
      token: () => c(t, { claims: { jti: 'abc' } }),
      reason: INVALID,
    },
  ];
  if (kind === 'access') {
    rows.push(
      {
        name: `a genuine token whose roles were changed after signing${label}`,
        target: t,
        token: () => tamperPayload(genuine(t), { roles: ['USER', 'ADMIN'] }),
        reason: INVALID,
      },
      {
        name: `a token whose roles is a string${label}`,
        target: t,
        token: () => c(t, { claims: { roles: 'ADMIN' } }),
        reason: INVALID,
      },
      {
        name: `a token whose fresh is the string "true"${label}`,
        target: t,
        token: () => c(t, { claims: { fresh: 'true' } }),
        reason: INVALID,
      },
      {
        name: `a token whose gen is negative${label}`,
        target: t,
        token: () => c(t, { claims: { gen: -1 } }),
        reason: INVALID,
      },
      {
        name: `a token whose gen is not an integer${label}`,
        target: t,
        token: () => c(t, { claims: { gen: 1.5 } }),
        reason: INVALID,
      },
      {
        name: `a token whose gen is the string "1"${label}`,
        target: t,
        token: () => c(t, { claims: { gen: '1' } }),
        reason: INVALID,
      },
      {
        name: `a token whose gen is past the safe integers${label}`,
        target: t,
        token: () => c(t, { claims: { gen: 2 ** 53 } }),
        reason: INVALID,
      },
      {
        name: `a token whose gen is null${label}`,
        target: t,
        token: () => c(t, { claims: { gen: null } }),
        reason: INVALID,
      },
      {
        name: `a token with no roles but __proto__.roles${label}`,
        target: t,
        token: () => c(t, { rawPayload: claimsJsonWith(t, '"__proto__":{"roles":["ADMIN"]}', { roles: undefined }) }),
        reason: INVALID,
      },
    );
  }
  return rows;
}

/** The rows about one configuration: HS256's other hashes, sizes and leeway; RS256's and ES256's encodings. */
function configurationRows<T extends TokenTarget>(context: RowContext<T>, targets: AttackTargets<T>): HostileRow<T>[] {
  const { noun, c, genuine } = context;
  const { hs, rs, lenient, ps, es } = targets;
  return [
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
      token: () => c(rs, { header: { alg: 'ES256' }, key: es?.key ?? attacker.ES256 }),
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
    { name: 'an empty string', target: hs, token: () => '', reason: INVALID },
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
    {
      name: `a ${noun} whose exp equals its iat (iat inside the 30 s leeway)`,
      target: lenient,
      token: () => c(lenient, { claims: atOnce((at) => ({ iat: at + 20, exp: at + 20 })) }),
      reason: INVALID,
    },
    {
      name: `a ${noun} expired 60 s ago when the leeway is 30 s`,
      target: lenient,
      token: () => c(lenient, { claims: { iat: now() - 600, exp: now() - 60 } }),
      reason: EXPIRED,
    },
  ];
}
