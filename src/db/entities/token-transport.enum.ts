/**
 * How a session's tokens travel. BODY: in the response body, the client keeps them. COOKIE: the
 * refresh token (and, with JWT_TOKEN_LOCATION=cookies, the access token) in HttpOnly cookies.
 * Stored by name.
 */
export enum TokenTransport {
  BODY = 'BODY',
  COOKIE = 'COOKIE',
}
