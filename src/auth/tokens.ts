// Signing and verification of access, refresh and device JWTs. jsonwebtoken checks the
// signature, `exp`, `nbf`, `iss` and `aud`; everything it leaves open (it accepts a string
// payload, invalid UTF-8, a missing `exp`, a future `iat`, any `typ`, unknown `crit`) is
// pinned here, and nothing is taken from the token's header but what it must match (RFC 8725
// §3.1, §3.11).
import { randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';
import { additionalClaims, loadAdditionalClaims, type AdditionalClaimsLoader } from './additional-claims.js';
import { AuthError, AuthFailure, tokenInvalid } from './auth-error.js';
import { CREDENTIAL_TAG } from './credential-tag.js';
import { hasValidEdDsaSignature, signEdDsa } from './eddsa-jws.js';
import { isUuid } from './ids.js';
import { KeySet } from './keys.js';
import { CSRF_VALUE } from './token-transport.js';
import type { UserView } from './user-view.js';
import { TokenTransport } from '../db/entities/index.js';

/** RFC 9068 §2.1: access tokens are typed, and a refresh token has a type of its own. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const REFRESH_TOKEN_TYPE = 'refresh+jwt';
/** OWASP's device cookie, as a token: this client has logged in to the account before. */
export const DEVICE_TOKEN_TYPE = 'device+jwt';
/** A login (or reauthentication, or step-up) waiting for its second factor: good for completeMfaLogin only. */
export const MFA_CHALLENGE_TYPE = 'mfa+jwt';
export const MAX_TOKEN_BYTES = 8192;

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  roles: string[];
  fresh: boolean;
  /** The session's generation when signed (absent: 0); a credential change outdates it. */
  gen?: number;
  /** Only on a token also set as a cookie: the value a request it authenticates must echo (token-transport.ts). */
  csrf?: string;
  /** RFC 8176 methods the session proved (absent on tokens signed before two-factor existed: ["pwd"]). */
  amr?: AuthMethod[];
  /** Authenticator assurance level: 2 once a second factor was proven (absent: 1). */
  aal?: AssuranceLevel;
}

/** RFC 8176 §2: password, one-time password (TOTP), and the recovery code (Tessera's own value). */
export type AuthMethod = 'pwd' | 'otp' | 'rec';
export const AUTH_METHODS: readonly AuthMethod[] = ['pwd', 'otp', 'rec'];
export type AssuranceLevel = 1 | 2;

/** How strongly a session's user signed in, as its access tokens carry it. */
export interface AuthLevel {
  readonly aal: AssuranceLevel;
  readonly amr: readonly AuthMethod[];
}

const PASSWORD_METHODS: readonly AuthMethod[] = Object.freeze(['pwd' as const]);
export const PASSWORD_ONLY: AuthLevel = Object.freeze({ aal: 1, amr: PASSWORD_METHODS });

export type MfaChallengePurpose = 'login' | 'session' | 'step-up';

/**
 * `pur` login: the password was proven and no session exists yet; `sid` is the id completion
 * opens it under and `trn` its transport. `pur` session: `sid` is the viewer's session, which
 * completion raises to aal 2 with fresh tokens (reauthenticate, or a step-up from a fresh token);
 * `pur` step-up: the same without the freshness, from a token that was not fresh. `cred` ties it to the password hash it
 * was issued under, so a password change voids it.
 */
export interface MfaChallengeClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  pur: MfaChallengePurpose;
  cred: string;
  trn?: TokenTransport;
}

export interface RefreshClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  /** Only on a token issued for the refresh cookie (token-transport.ts). */
  csrf?: string;
}

/**
 * `sid` is the session the login that issued it opened; `jti` names the device's own count;
 * `cred` ties it to the password it was issued under (credentialTag).
 */
export interface DeviceClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  cred: string;
}

export interface SignedToken {
  token: string;
  jti: string;
  expiresAt: number;
}

interface TokenKind {
  type: string;
  maxLifetimeSeconds: number;
}

/** Access tokens that passed every check, by their text, until they expire or the auth cache TTL
 *  passes: a client resends the same one with every request, and the signature check is most of
 *  such a request's cost. */
const VERIFIED_ACCESS_CACHE_SIZE = 10_000;

const BASE64URL_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

export class TokenService {
  readonly keys: KeySet;
  private readonly access: TokenKind;
  private readonly refresh: TokenKind;
  private readonly device: TokenKind;
  private readonly challenge: TokenKind;
  private readonly verifiedAccess = new Map<string, { claims: Readonly<AccessClaims>; verifiedAt: number }>();
  private readonly cacheTtlMs: number;

  constructor(
    private readonly settings: Config['jwt'],
    private readonly claimsLoader: AdditionalClaimsLoader = additionalClaims,
    cacheTtlSeconds = 5,
    mfaChallengeTtlSeconds = 300,
  ) {
    this.cacheTtlMs = cacheTtlSeconds * 1000;
    // Key objects are built once: given a string, jsonwebtoken re-parses the key on every call.
    this.keys = new KeySet(settings.keys);
    this.access = { type: ACCESS_TOKEN_TYPE, maxLifetimeSeconds: settings.accessTokenTtlSeconds };
    this.refresh = { type: REFRESH_TOKEN_TYPE, maxLifetimeSeconds: settings.refreshTokenTtlSeconds };
    this.device = { type: DEVICE_TOKEN_TYPE, maxLifetimeSeconds: settings.deviceTokenTtlSeconds };
    this.challenge = { type: MFA_CHALLENGE_TYPE, maxLifetimeSeconds: mfaChallengeTtlSeconds };
  }

  /** `user`, when given, is handed to the additional claims loader (additional-claims.ts). */
  signAccessToken(
    claims: {
      sub: string;
      sid: string;
      roles: string[];
      fresh: boolean;
      gen: number;
      amr: AuthMethod[];
      aal: AssuranceLevel;
      csrf?: string;
    },
    user?: UserView,
  ): SignedToken {
    const now = nowSeconds();
    const extra = user ? loadAdditionalClaims(this.claimsLoader, user) : {};
    return this.sign(this.access.type, {
      ...extra,
      ...claims,
      iat: now,
      exp: now + this.settings.accessTokenTtlSeconds,
    });
  }

  /**
   * `notAfter` (epoch seconds) caps the expiry at the session's absolute end; `jti` re-signs an
   * existing generation (the refresh grace window) instead of starting a new one.
   */
  signRefreshToken(claims: { sub: string; sid: string; csrf?: string }, notAfter: number, jti?: string): SignedToken {
    const now = nowSeconds();
    const exp = Math.min(now + this.settings.refreshTokenTtlSeconds, Math.floor(notAfter));
    return this.sign(this.refresh.type, { ...claims, iat: now, exp }, jti);
  }

  signDeviceToken(claims: { sub: string; sid: string; cred: string }): SignedToken {
    const now = nowSeconds();
    return this.sign(this.device.type, { ...claims, iat: now, exp: now + this.settings.deviceTokenTtlSeconds });
  }

  signMfaChallenge(claims: Omit<MfaChallengeClaims, 'jti' | 'iat' | 'exp'>): SignedToken {
    const now = nowSeconds();
    return this.sign(this.challenge.type, { ...claims, iat: now, exp: now + this.challenge.maxLifetimeSeconds });
  }

  verifyMfaChallenge(token: string): MfaChallengeClaims {
    const payload = this.verify(token, this.challenge);
    const { pur, cred, trn } = payload;
    if (
      (pur !== 'login' && pur !== 'session' && pur !== 'step-up') ||
      typeof cred !== 'string' ||
      !CREDENTIAL_TAG.test(cred) ||
      (pur === 'login' ? !Object.values(TokenTransport).includes(trn as TokenTransport) : trn !== undefined)
    ) {
      throw tokenInvalid();
    }
    return payload as unknown as MfaChallengeClaims;
  }

  verifyAccessToken(token: string): Readonly<AccessClaims> {
    const cached = this.verifiedAccess.get(token);
    // The same expiry rule jsonwebtoken applies; an expired entry falls through to the full
    // check, which reports TOKEN_EXPIRED.
    if (
      cached &&
      Date.now() - cached.verifiedAt < this.cacheTtlMs &&
      nowSeconds() < cached.claims.exp + this.settings.leewaySeconds
    ) {
      return cached.claims;
    }
    this.verifiedAccess.delete(token);
    const payload = this.verify(token, this.access);
    if (
      !Array.isArray(payload.roles) ||
      !payload.roles.every((role) => typeof role === 'string') ||
      typeof payload.fresh !== 'boolean' ||
      ('gen' in payload && !(Number.isSafeInteger(payload.gen) && (payload.gen as number) >= 0)) ||
      ('aal' in payload && payload.aal !== 1 && payload.aal !== 2) ||
      ('amr' in payload && !isAuthMethodList(payload.amr))
    ) {
      throw tokenInvalid();
    }
    const claims = Object.freeze(payload as unknown as AccessClaims);
    if (this.cacheTtlMs === 0) return claims;
    this.verifiedAccess.set(token, { claims, verifiedAt: Date.now() });
    if (this.verifiedAccess.size > VERIFIED_ACCESS_CACHE_SIZE) {
      this.verifiedAccess.delete(this.verifiedAccess.keys().next().value as string);
    }
    return claims;
  }

  verifyRefreshToken(token: string): RefreshClaims {
    return this.verify(token, this.refresh) as unknown as RefreshClaims;
  }

  verifyDeviceToken(token: string): DeviceClaims {
    const payload = this.verify(token, this.device);
    if (typeof payload.cred !== 'string' || !CREDENTIAL_TAG.test(payload.cred)) throw tokenInvalid();
    return payload as unknown as DeviceClaims;
  }

  private sign(type: string, payload: Record<string, unknown>, jti: string = randomUUID()): SignedToken {
    const { algorithm, signingKey, signingKid } = this.keys;
    const claims = { iss: this.settings.issuer, aud: this.settings.audience, ...payload, jti };
    const header = { alg: algorithm, typ: type, kid: signingKid };
    const token =
      algorithm === 'EdDSA'
        ? signEdDsa(header, claims, signingKey)
        : jwt.sign(claims, signingKey, { algorithm, header });
    return { token, jti, expiresAt: payload.exp as number };
  }

  private verify(token: string, kind: TokenKind): Record<string, unknown> {
    // Everything checkable without the key is checked first and cheaply, so a hostile token
    // costs a few microseconds and never reaches the parser of a library that is lenient.
    if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES || !BASE64URL_JWS.test(token)) throw tokenInvalid();
    const [headerPart, payloadPart] = token.split('.');
    const header = decodeJsonObject(headerPart);
    const key = this.keys.verificationKey(header.kid);
    if (
      key === undefined ||
      header.alg !== this.keys.algorithm ||
      typeof header.typ !== 'string' ||
      header.typ.toLowerCase() !== kind.type ||
      'crit' in header ||
      'b64' in header
    ) {
      throw tokenInvalid();
    }
    const decoded = decodeJsonObject(payloadPart);
    const payload =
      this.keys.algorithm === 'EdDSA' ? this.verifyEdDsa(token, key, decoded) : this.verifyJws(token, key);
    if (!isPlainObject(payload)) throw tokenInvalid();
    const { sub, sid, jti, iat, exp } = payload;
    const now = nowSeconds();
    if (
      typeof sub !== 'string' ||
      !isUuid(sub) ||
      typeof sid !== 'string' ||
      !isUuid(sid) ||
      typeof jti !== 'string' ||
      !isUuid(jti) ||
      !Number.isSafeInteger(iat) ||
      !Number.isSafeInteger(exp) ||
      (iat as number) > now + this.settings.leewaySeconds ||
      (exp as number) - (iat as number) > kind.maxLifetimeSeconds ||
      (exp as number) <= (iat as number) ||
      ('csrf' in payload && !(typeof payload.csrf === 'string' && CSRF_VALUE.test(payload.csrf)))
    ) {
      throw tokenInvalid();
    }
    return payload;
  }

  /** jsonwebtoken's check of the signature, `exp`, `nbf`, `iss` and `aud`. */
  private verifyJws(token: string, key: KeyObject): unknown {
    try {
      return jwt.verify(token, key, {
        algorithms: [this.keys.algorithm as jwt.Algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.leewaySeconds,
        complete: true,
      }).payload;
    } catch (error) {
      // Only a token whose signature checked out can be "expired"; its messages echo the
      // expected issuer and audience, so none of them reaches the client.
      if (error instanceof jwt.TokenExpiredError) throw expired();
      throw tokenInvalid();
    }
  }

  /** The same checks as verifyJws, with the same rules, for the algorithm jsonwebtoken lacks. */
  private verifyEdDsa(token: string, key: KeyObject, payload: Record<string, unknown>): unknown {
    if (!hasValidEdDsaSignature(token, key)) throw tokenInvalid();
    const { iss, aud, exp, nbf } = payload;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (iss !== this.settings.issuer || !audiences.includes(this.settings.audience)) throw tokenInvalid();
    const now = nowSeconds();
    const leeway = this.settings.leewaySeconds;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + leeway)) throw tokenInvalid();
    if (exp !== undefined && typeof exp !== 'number') throw tokenInvalid();
    if (typeof exp === 'number' && now >= exp + leeway) throw expired();
    return payload;
  }
}

function isAuthMethodList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((method) => AUTH_METHODS.includes(method as AuthMethod)) &&
    new Set(value).size === value.length
  );
}

/** The level an access token states; tokens from before two-factor state none and are password-only. */
export function authLevelOf(claims: Pick<AccessClaims, 'aal' | 'amr'>): AuthLevel {
  return claims.aal === undefined ? PASSWORD_ONLY : { aal: claims.aal, amr: claims.amr ?? PASSWORD_ONLY.amr };
}

function expired(): AuthError {
  return new AuthError(AuthFailure.TOKEN_EXPIRED, 'Token has expired');
}

function decodeJsonObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw tokenInvalid();
  }
  if (!isPlainObject(value)) throw tokenInvalid();
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
