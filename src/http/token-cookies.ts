// The token cookies of COOKIE sessions: read from a request's Cookie header, written on its
// response. A cookie is only used when the page that sent it may call with credentials (its
// Origin, or else its Referer, is Tessera's own or an allowed one) and, unless turned off, when
// the request echoes the token's CSRF value in a header; token-transport.ts checks the value.
import type { IncomingMessage } from 'node:http';
import { AuthError, AuthFailure } from '../auth/auth-error.js';
import type { IssuedTokens } from '../auth/sessions.js';
import { csrfFailed } from '../auth/token-transport.js';
import type { Config, CookieConfig } from '../config.js';
import type { CookieChannel, CookieToken } from '../graphql/cookie-channel.js';
import type { AllowedOrigins } from './cors.js';

/** A request's cookie channel, and the Set-Cookie headers its resolvers asked for. */
export interface RequestCookies extends CookieChannel {
  setCookieHeaders(): string[];
}

/** A token's HttpOnly cookie and its script-readable CSRF companion, and what of the tokens they hold. */
interface CookiePair {
  readonly name: string;
  readonly path: string;
  readonly csrfName: string;
  readonly token: (tokens: IssuedTokens) => string;
  /** Undefined when the tokens were not issued for this cookie. */
  readonly csrf: (tokens: IssuedTokens) => string | undefined;
  readonly maxAgeSeconds: (tokens: IssuedTokens) => number;
}

export function createTokenCookies(config: Config, origins: AllowedOrigins) {
  const settings = config.cookies;
  const accessInCookie = config.jwt.tokenLocation.includes('cookies');
  const pairs: CookiePair[] = [
    {
      name: settings.refreshName,
      path: settings.refreshPath,
      csrfName: settings.refreshCsrfName,
      token: (tokens) => tokens.refreshToken,
      csrf: (tokens) => tokens.refreshCsrf,
      maxAgeSeconds: (tokens) => tokens.refreshExpiresIn,
    },
  ];
  if (accessInCookie) {
    pairs.push({
      name: settings.accessName,
      path: settings.accessPath,
      csrfName: settings.accessCsrfName,
      token: (tokens) => tokens.accessToken,
      csrf: (tokens) => tokens.accessCsrf,
      maxAgeSeconds: (tokens) => tokens.expiresIn,
    });
  }
  return function tokenCookiesOf(request: IncomingMessage): RequestCookies {
    return new TokenCookies(request, settings, accessInCookie, origins, pairs);
  };
}

interface CookieAttributes {
  readonly path: string;
  readonly httpOnly: boolean;
  readonly maxAgeSeconds: number;
}

class TokenCookies implements RequestCookies {
  private parsed: Map<string, string[]> | undefined;
  private origin: boolean | undefined;
  /** By name: a later write of the same cookie in one response replaces the earlier one. Made on first write. */
  private written: Map<string, string> | undefined;

  constructor(
    private readonly request: IncomingMessage,
    private readonly settings: CookieConfig,
    private readonly accessInCookie: boolean,
    private readonly origins: AllowedOrigins,
    private readonly pairs: readonly CookiePair[],
  ) {}

  get accessToken(): CookieToken | AuthError | undefined {
    return this.accessInCookie ? this.read(this.settings.accessName, this.settings.accessCsrfHeader) : undefined;
  }

  get refreshToken(): CookieToken | AuthError | undefined {
    return this.read(this.settings.refreshName, this.settings.refreshCsrfHeader);
  }

  get originAllowed(): boolean {
    return (this.origin ??= pageMayUseCredentials(this.request, this.origins));
  }

  store(tokens: IssuedTokens): void {
    for (const pair of this.pairs) {
      const csrf = pair.csrf(tokens);
      if (csrf === undefined) continue;
      const maxAgeSeconds = pair.maxAgeSeconds(tokens);
      this.write(pair.name, pair.token(tokens), { path: pair.path, httpOnly: true, maxAgeSeconds });
      if (this.settings.csrfInCookies) this.write(pair.csrfName, csrf, { path: '/', httpOnly: false, maxAgeSeconds });
    }
  }

  clear(): void {
    const cookies = this.cookies();
    // A client that never had cookies gets no Set-Cookie noise.
    if (!this.pairs.some((pair) => cookies.has(pair.name) || cookies.has(pair.csrfName))) return;
    for (const pair of this.pairs) {
      this.write(pair.name, '', { path: pair.path, httpOnly: true, maxAgeSeconds: 0 });
      this.write(pair.csrfName, '', { path: '/', httpOnly: false, maxAgeSeconds: 0 });
    }
  }

  setCookieHeaders(): string[] {
    return this.written ? [...this.written.values()] : [];
  }

  private read(name: string, csrfHeader: string): CookieToken | AuthError | undefined {
    const values = this.cookies().get(name);
    if (values === undefined) return undefined;
    // Two cookies of one name (another path or domain, or one planted by a sibling subdomain):
    // which is the real one cannot be told, so neither is used.
    if (values.length > 1) return new AuthError(AuthFailure.TOKEN_INVALID, `More than one ${name} cookie was sent`);
    if (!this.originAllowed) return csrfFailed();
    const csrf = this.request.headers[csrfHeader];
    return {
      token: values[0],
      source: {
        cookie: true,
        csrf: typeof csrf === 'string' ? csrf : undefined,
        // A GET runs no mutation (Apollo refuses one): a cross-site page cannot read its answer.
        csrfRequired: this.settings.csrfProtect && this.request.method !== 'GET',
      },
    };
  }

  private cookies(): Map<string, string[]> {
    return (this.parsed ??= parseCookieHeader(this.request.headers.cookie));
  }

  private write(name: string, value: string, attributes: CookieAttributes): void {
    const parts = [`${name}=${value}`, `Max-Age=${Math.max(0, Math.floor(attributes.maxAgeSeconds))}`];
    parts.push(`Path=${attributes.path}`);
    if (this.settings.domain !== undefined) parts.push(`Domain=${this.settings.domain}`);
    if (this.settings.secure) parts.push('Secure');
    if (attributes.httpOnly) parts.push('HttpOnly');
    parts.push(`SameSite=${this.settings.sameSite}`);
    (this.written ??= new Map()).set(name, parts.join('; '));
  }
}

/** Every cookie of a Cookie header by name, repeated names kept (RFC 6265 §5.4 sends them all). */
export function parseCookieHeader(header: string | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  if (header === undefined) return cookies;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    const values = cookies.get(name);
    if (values) values.push(value);
    else cookies.set(name, [value]);
  }
  return cookies;
}

/**
 * Whether the page behind a request may use its cookies: its Origin (or, without one, its
 * Referer's origin) is the server's own (the Host it was asked for) or an allowed one. A request
 * with neither is no page's (curl, a server) and cannot be forged across sites.
 */
function pageMayUseCredentials(request: IncomingMessage, origins: AllowedOrigins): boolean {
  const { origin, referer, host } = request.headers;
  const page = origin ?? (referer === undefined ? undefined : originOf(referer));
  if (page === undefined) return true;
  return isOwnOrigin(page, host) || origins.allows(page);
}

/** A URL's origin; "null" (which nothing allows) for one that is not a URL. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return url.origin === origin && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
