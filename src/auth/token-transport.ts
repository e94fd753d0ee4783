// Where a presented token came from, and whether that is where it belongs. A browser sends a
// cookie whatever page caused the request, so each cookie-borne token carries a `csrf` claim that
// the request must echo in a header (Flask-JWT-Extended's double submit).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError, AuthFailure, tokenInvalid } from './auth-error.js';

/** Where a request's token came from. */
export type TokenSource =
  | { readonly cookie: false }
  | {
      readonly cookie: true;
      /** The CSRF header's value, as sent. */
      readonly csrf: string | undefined;
      /** False for GET (which runs no mutation) and with JWT_COOKIE_CSRF_PROTECT=false. */
      readonly csrfRequired: boolean;
    };

export const FROM_BODY_OR_HEADER: TokenSource = Object.freeze({ cookie: false });

/** 192 random bits, base64url: the `csrf` claim and its companion cookie's value. */
export function newCsrfValue(): string {
  return randomBytes(24).toString('base64url');
}

/** What a valid `csrf` claim looks like: anything else in a signed token is refused. */
export const CSRF_VALUE = /^[A-Za-z0-9_-]{32}$/;

/**
 * Checks that a verified token was presented where it was issued for, and with its CSRF value.
 * A refresh token issued for a cookie is refused anywhere else, and one issued for the body is
 * refused in the cookie; an access token may always come in the header (no page can set a header
 * on another origin's behalf), but from the cookie only if it was issued for one.
 */
export function checkTokenSource(csrfClaim: string | undefined, source: TokenSource, kind: 'access' | 'refresh'): void {
  if (!source.cookie) {
    if (kind === 'refresh' && csrfClaim !== undefined) throw tokenInvalid();
    return;
  }
  if (csrfClaim === undefined) throw tokenInvalid();
  if (!source.csrfRequired) return;
  const presented = Buffer.from(source.csrf ?? '');
  const expected = Buffer.from(csrfClaim);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw csrfFailed();
}

export function csrfFailed(): AuthError {
  return new AuthError(
    AuthFailure.CSRF_FAILED,
    'A request authenticated by a cookie must come from the app, with its CSRF token in the header',
  );
}
