// CORS for /graphql: browsers on the allowed origins may call it with credentials. Credentials
// rule out `*`, so the one origin asking is echoed back, and every answer varies by Origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config, CorsConfig } from '../config.js';
import { ErrorCode } from '../graphql/errors.js';
import type { Route } from './handler.js';
import { sendJson } from './send-json.js';

export interface AllowedOrigins {
  /** Whether a page on `origin` (the request's `Origin` header, as sent) may call with credentials. */
  allows(origin: string | undefined): boolean;
}

const LOOPBACK_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export function createAllowedOrigins(cors: CorsConfig): AllowedOrigins {
  const exact = new Set(cors.origins);
  return {
    allows(origin) {
      if (origin === undefined) return false;
      if (exact.has(origin)) return true;
      return cors.allowLoopback && isLoopbackOrigin(origin);
    },
  };
}

function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // Only the exact serialized form: `http://localhost:5173/x` or two joined Origin headers are no origin.
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.origin === origin &&
    LOOPBACK_HOSTNAMES.includes(url.hostname)
  );
}

/** The request headers a browser app may send: the content type, the token's header, Apollo's and the CSRF one. */
export function corsAllowedHeaders(config: Config): string[] {
  return [
    ...new Set([
      'content-type',
      config.jwt.headerName,
      'x-csrf-token',
      config.cookies.refreshCsrfHeader,
      config.cookies.accessCsrfHeader,
      'apollo-require-preflight',
      'x-apollo-operation-name',
    ]),
  ];
}

export interface CorsOptions {
  readonly origins: AllowedOrigins;
  readonly allowedHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** `route` behind CORS: preflights are answered here, actual responses get the allowing headers. */
export function withCors(route: Route, options: CorsOptions): Route {
  const { origins, maxAgeSeconds } = options;
  const allowHeaders = options.allowedHeaders.join(', ');
  return async function serveWithCors(request, response, url) {
    const origin = singleHeader(request, 'origin');
    const allowed = origin !== undefined && origins.allows(origin);
    response.setHeader('vary', 'Origin');
    if (isPreflight(request, origin)) {
      if (!allowed) return refusePreflight(response);
      allowCredentials(response, origin);
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      response.setHeader('access-control-allow-headers', allowHeaders);
      response.setHeader('access-control-max-age', String(maxAgeSeconds));
      response.statusCode = 204;
      response.end();
      return;
    }
    if (allowed) allowCredentials(response, origin);
    await route(request, response, url);
  };
}

function isPreflight(request: IncomingMessage, origin: string | undefined): boolean {
  return (
    request.method === 'OPTIONS' &&
    origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

function allowCredentials(response: ServerResponse, origin: string): void {
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('access-control-allow-credentials', 'true');
}

function refusePreflight(response: ServerResponse): void {
  sendJson(response, 403, {
    errors: [
      {
        message: 'This origin may not call this server from a browser',
        extensions: { code: ErrorCode.FORBIDDEN, reason: 'ORIGIN_NOT_ALLOWED' },
      },
    ],
  });
}

function singleHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
