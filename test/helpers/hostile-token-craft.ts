// Hostile JWTs, built byte by byte: base64url segments signed with node:crypto, so that each row
// of the attack table breaks exactly one thing about an otherwise valid token. A target describes
// what a verifier expects (algorithm, key, kid, issuer, audience, lifetimes) and the claims a
// valid token would carry (a real user and session when there is a real server).
import {
  constants,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import type { AuthFailure } from '../../src/auth/auth-error.js';
import { jwkThumbprint } from '../../src/auth/keys.js';
import { nowSeconds } from '../../src/auth/tokens.js';
import type { AsymmetricAlgorithm, JwtAlgorithm } from '../../src/config.js';

export type Kind = 'access' | 'refresh';
export const TOKEN_TYPES: Record<Kind, string> = { access: 'at+jwt', refresh: 'refresh+jwt' };

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generatePemKeyPair(algorithm: AsymmetricAlgorithm): KeyPairPem {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const pair =
    algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1', publicKeyEncoding, privateKeyEncoding })
      : algorithm === 'EdDSA'
        ? generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding })
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
  EdDSA: (input, key) => sign(null, Buffer.from(input), key),
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

/** The attacker's private keys, their public halves as JWKs, and the kids configured keys of theirs would have. */
export const attacker: Record<AsymmetricAlgorithm, string> = {
  RS256: generatePemKeyPair('RS256').privateKeyPem,
  PS256: generatePemKeyPair('PS256').privateKeyPem,
  ES256: generatePemKeyPair('ES256').privateKeyPem,
  EdDSA: generatePemKeyPair('EdDSA').privateKeyPem,
};
export const attackerJwk = mapKeys((pem) => createPublicKey(pem).export({ format: 'jwk' }));
export const attackerKid = mapKeys((pem) => jwkThumbprint(createPublicKey(pem)));

function mapKeys<V>(map: (privateKeyPem: string) => V): Record<AsymmetricAlgorithm, V> {
  return Object.fromEntries(Object.entries(attacker).map(([algorithm, pem]) => [algorithm, map(pem)])) as Record<
    AsymmetricAlgorithm,
    V
  >;
}

/** A key of the algorithm's type that the verifier does not hold. */
export function strangerKey(algorithm: JwtAlgorithm): string {
  return algorithm === 'HS256' ? randomBytes(48).toString('base64url') : attacker[algorithm];
}

/** The attacker's RSA key: its public half as a JWK, for a jwks.json an attacker would serve. */
export const ATTACKER_JWK = attackerJwk.RS256;
