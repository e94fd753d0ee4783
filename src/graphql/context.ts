// Builds each request's context: a forked EntityManager, where the request came from, and who is
// asking. The token is read once; a refused token is recorded, not thrown, so that public fields
// (signup, login) still work with a stale header while every protected field fails.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { IncomingMessage } from 'node:http';
import { AuthError, AuthFailure, tokenInvalid } from '../auth/auth-error.js';
import type { Viewer } from '../auth/principal.js';
import type { RequestMeta } from '../auth/request-meta.js';
import type { AuthServices } from '../auth/services.js';
import type { TokenSource } from '../auth/token-transport.js';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { CookieChannel } from './cookie-channel.js';

/**
 * Either the viewer, or why there is none: an AuthError, or (database down) the error that kept
 * the token from being checked, surfaced by the first protected field.
 */
export type Authentication =
  { readonly viewer: Viewer; readonly failure?: undefined } | { readonly viewer?: undefined; readonly failure: Error };

export interface Context {
  readonly em: EntityManager;
  readonly services: AuthServices;
  readonly config: Config;
  readonly meta: RequestMeta;
  readonly auth: Authentication;
  /** The token as sent in the header, if any: `refresh` accepts a refresh token there too. */
  readonly presentedToken: string | undefined;
  /** The request's token cookies, and the response's. */
  readonly cookies: CookieChannel;
}

const NO_TOKEN: Authentication = {
  failure: new AuthError(AuthFailure.TOKEN_MISSING, 'Authentication required: no token was sent'),
};

/** The token from the configured header and scheme, or the reason there is none. */
export function extractToken(headerValue: string | string[] | undefined, headerType: string): string | AuthError {
  if (Array.isArray(headerValue)) return tokenInvalid();
  if (headerValue === undefined || headerValue.trim() === '') return NO_TOKEN.failure as AuthError;
  if (headerType === '') return headerValue.trim();
  const value = headerValue.trim();
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  const token = space === -1 ? '' : value.slice(space + 1).trim();
  // RFC 9110 §11.1: the scheme is case-insensitive.
  if (scheme.toLowerCase() !== headerType.toLowerCase() || token === '' || /\s/.test(token)) {
    return tokenInvalid();
  }
  return token;
}

/** `root` is only forked from: the principal lookup reads in a unit of work of its own. */
export async function authenticate(
  root: EntityManager,
  services: AuthServices,
  token: string | AuthError,
  source?: TokenSource,
): Promise<Authentication> {
  if (token instanceof AuthError) return token.reason === AuthFailure.TOKEN_MISSING ? NO_TOKEN : { failure: token };
  try {
    const viewer = services.principals.authenticate(root, token, source);
    return { viewer: viewer instanceof Promise ? await viewer : viewer };
  } catch (error) {
    return { failure: error instanceof Error ? error : new Error(String(error)) };
  }
}

/**
 * The context of one request. The EntityManager is forked on first use: a request answered from
 * the principal cache (`me`) needs no unit of work at all. The getter lives on the prototype, so
 * Apollo's shallow copy of the context does not trigger it.
 */
class RequestContext implements Context {
  private forkedEm: EntityManager | undefined;

  constructor(
    private readonly root: EntityManager,
    readonly services: AuthServices,
    readonly config: Config,
    readonly meta: RequestMeta,
    readonly auth: Authentication,
    readonly presentedToken: string | undefined,
    readonly cookies: CookieChannel,
  ) {}

  get em(): EntityManager {
    return (this.forkedEm ??= this.root.fork());
  }
}

/** The request's access token from the first of JWT_TOKEN_LOCATION's places that holds one. */
function accessTokenOf(
  config: Config,
  headerToken: string | AuthError,
  cookies: CookieChannel,
): { token: string | AuthError; source?: TokenSource } {
  for (const location of config.jwt.tokenLocation) {
    if (location === 'headers') {
      if (!(headerToken instanceof AuthError && headerToken.reason === AuthFailure.TOKEN_MISSING))
        return { token: headerToken };
    } else {
      const cookie = cookies.accessToken;
      if (cookie instanceof AuthError) return { token: cookie };
      if (cookie) return cookie;
    }
  }
  return { token: NO_TOKEN.failure as AuthError };
}

export function createContextBuilder(config: Config, orm: Orm, services: AuthServices) {
  const root = orm.em as EntityManager;
  return async function buildContext(
    request: IncomingMessage,
    clientIp: string | null,
    cookies: CookieChannel,
  ): Promise<Context> {
    const headerToken = extractToken(request.headers[config.jwt.headerName], config.jwt.headerType);
    const userAgent = request.headers['user-agent'];
    const meta = { ip: clientIp, userAgent: typeof userAgent === 'string' ? userAgent : null };
    const { token, source } = accessTokenOf(config, headerToken, cookies);
    const auth = await authenticate(root, services, token, source);
    const presented = typeof headerToken === 'string' ? headerToken : undefined;
    return new RequestContext(root, services, config, meta, auth, presented, cookies);
  };
}
