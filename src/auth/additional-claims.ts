// The application's own claims in every access token (a tenant, a plan, a feature flag): edit
// `additionalClaims` below. It runs each time an access token is signed (signup, login, refresh,
// reauthenticate, password change), so a refreshed token carries the values of that moment.
// Resolvers read them back from the verified token as `viewer.claims`.
import type { UserView } from './user-view.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Claims a loader adds, as a verified token carries them back. */
export type AdditionalClaims = Readonly<Record<string, JsonValue>>;

/**
 * Computes the extra claims of an access token for `user`. It must be fast and synchronous: it
 * runs inside the transaction that issues the token. Its claims are visible to whoever holds the
 * token (a JWT is only signed, not encrypted), so nothing secret belongs here.
 */
export type AdditionalClaimsLoader = (user: UserView) => Record<string, JsonValue>;

/** The application's loader. Tessera adds nothing by default. */
export const additionalClaims: AdditionalClaimsLoader = () => ({});

/**
 * Every claim Tessera sets or checks in any of its tokens, the registered JWT claims (RFC 7519
 * §4.1), and the header's own names: a loader may never shadow one of them.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'sid',
  'roles',
  'fresh',
  'gen',
  'amr',
  'aal',
  'pur',
  'trn',
  'csrf',
  'cred',
  'typ',
  'alg',
  'kid',
  'crit',
  'cty',
]);

/**
 * The loader's claims for `user`, checked. A loader that names a reserved claim is a bug in the
 * application: issuing the token fails (a masked internal error, logged with the claim's name)
 * rather than signing a token whose meaning was silently changed.
 */
export function loadAdditionalClaims(loader: AdditionalClaimsLoader, user: UserView): Record<string, JsonValue> {
  const claims: unknown = loader(user);
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new Error('the additional claims loader must return a plain object of claims');
  }
  const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.has(name));
  if (reserved.length > 0) {
    throw new Error(
      `the additional claims loader returned reserved claim(s) ${reserved.map((name) => `"${name}"`).join(', ')}: Tessera sets these itself`,
    );
  }
  return claims as Record<string, JsonValue>;
}

/** Per verified token (its frozen claims object): computed once, gone with the token's cache entry. */
const extracted = new WeakMap<object, AdditionalClaims>();

/** The additional claims of a verified access token's payload: every claim that is not reserved. */
export function additionalClaimsOf(payload: object): AdditionalClaims {
  let claims = extracted.get(payload);
  if (!claims) {
    // fromEntries defines properties, so even a claim named "__proto__" stays a plain claim.
    const own = Object.entries(payload)
      .filter(([name]) => !RESERVED_CLAIMS.has(name))
      .map(([name, value]) => [name, deepFreeze(structuredClone(value) as JsonValue)] as const);
    claims = Object.freeze(Object.fromEntries(own));
    extracted.set(payload, claims);
  }
  return claims;
}

/** The claims are shared by every request with the same token: no resolver may change them. */
function deepFreeze(value: JsonValue): JsonValue {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
