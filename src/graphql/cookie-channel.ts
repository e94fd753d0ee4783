// What the HTTP layer tells a request's resolvers about its token cookies, and how they answer with
// new ones. src/http/token-cookies.ts implements it, so the GraphQL layer never reads a header.
import type { AuthError } from '../auth/auth-error.js';
import type { IssuedTokens } from '../auth/sessions.js';
import type { TokenSource } from '../auth/token-transport.js';

/** A token cookie as sent, with what a check of its CSRF value needs. */
export interface CookieToken {
  readonly token: string;
  readonly source: TokenSource;
}

export interface CookieChannel {
  /**
   * The access token's cookie, read only with JWT_TOKEN_LOCATION=cookies: undefined when none was
   * sent, an AuthError when it cannot be used (repeated, or from a page on another origin).
   */
  readonly accessToken: CookieToken | AuthError | undefined;
  /** The refresh token's cookie, the same way. */
  readonly refreshToken: CookieToken | AuthError | undefined;
  /** False when the page that sent the request (its Origin, or else its Referer) may not call with credentials. */
  readonly originAllowed: boolean;
  /** Sets the cookies of a COOKIE session's new tokens on the response. */
  store(tokens: IssuedTokens): void;
  /** Expires, on the response, every token cookie the request carried. */
  clear(): void;
}
