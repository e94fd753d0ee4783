// A browser's cookie jar for a page on another origin, as much of it as a cookie-mode client
// leans on: Set-Cookie kept per name and path, Max-Age and Expires honoured (0 deletes), cookies
// sent back by path, and only for `credentials: 'include'`, as a cross-origin page's fetch does.
import { parseSetCookie } from './cookie-requests.js';

export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: string | undefined;
  readonly expiresAt: number | undefined;
}

export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  /** `origin` is the page's: every request says it came from there. */
  constructor(readonly origin: string) {}

  /** The page's `fetch`: Origin set, cookies attached and stored when credentials are included. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init.headers);
    headers.set('origin', this.origin);
    const withCookies = init.credentials === 'include';
    const cookieHeader = this.cookieHeaderFor(url.pathname);
    if (withCookies && cookieHeader !== '') headers.set('cookie', cookieHeader);
    const response = await fetch(url, { ...init, headers });
    if (withCookies) for (const line of response.headers.getSetCookie()) this.store(line, url.pathname);
    return response;
  };

  /** A live cookie by name (on any path). */
  get(name: string): StoredCookie | undefined {
    return this.live().find((cookie) => cookie.name === name);
  }

  names(): string[] {
    return this.live().map((cookie) => cookie.name);
  }

  /** What `document.cookie` would show a script of a page at `/`: never an HttpOnly cookie. */
  pageCookie(name: string): string | undefined {
    const cookie = this.live().find((candidate) => candidate.name === name && candidate.path === '/');
    return cookie === undefined || cookie.httpOnly ? undefined : cookie.value;
  }

  private live(): StoredCookie[] {
    const now = Date.now();
    return [...this.cookies.values()].filter((cookie) => cookie.expiresAt === undefined || cookie.expiresAt > now);
  }

  private cookieHeaderFor(requestPath: string): string {
    return this.live()
      .filter((cookie) => pathMatches(requestPath, cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(setCookie: string, requestPath: string): void {
    const parsed = parseSetCookie(setCookie);
    if (!parsed) return;
    const { name, value, attributes } = parsed;
    const givenPath = attributes.get('path');
    const path = givenPath?.startsWith('/') ? givenPath : defaultPath(requestPath);
    const key = `${name};${path}`;
    const expiresAt = expiryOf(attributes);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      this.cookies.delete(key);
      return;
    }
    this.cookies.set(key, {
      name,
      value,
      path,
      httpOnly: attributes.has('httponly'),
      secure: attributes.has('secure'),
      sameSite: attributes.get('samesite'),
      expiresAt,
    });
  }
}

/** Max-Age wins over Expires (RFC 6265 5.3); neither makes a session cookie. */
function expiryOf(attributes: Map<string, string>): number | undefined {
  const maxAge = attributes.get('max-age');
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return Date.now() + Number(maxAge) * 1000;
  const expires = attributes.get('expires');
  if (expires !== undefined && !Number.isNaN(Date.parse(expires))) return Date.parse(expires);
  return undefined;
}

/** RFC 6265 5.1.4: the request path up to its last slash. */
function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

/** RFC 6265 5.1.4: `/graphql` matches `/graphql` and `/graphql/x`, not `/graphqlx`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
