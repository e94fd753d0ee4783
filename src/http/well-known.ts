// /.well-known/jwks.json and /.well-known/openid-configuration: what gateways and resource
// servers read to verify Tessera's tokens on their own. Public data, so open to every origin and
// cacheable; the key set is fixed for a process's life, so each answer is rendered once.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeySet } from '../auth/keys.js';
import type { Config } from '../config.js';
import type { Route } from './handler.js';
import { JSON_CONTENT_SECURITY_POLICY } from './response-headers.js';
import { refuseUnlessReading } from './read-only.js';

export const JWKS_PATH = '/.well-known/jwks.json';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

export function createWellKnownRoutes(config: Config, keys: KeySet): Record<string, Route> {
  const jwks = renderOnce(JSON.stringify({ keys: keys.publicKeys }), 'application/jwk-set+json');
  const routes: Record<string, Route> = {
    [JWKS_PATH]: (request, response) => Promise.resolve(jwks(request, response, config.wellKnown.maxAgeSeconds)),
  };
  if (config.wellKnown.discovery) {
    const base = issuerUrl(config.jwt.issuer);
    // With an issuer that is no URL (development only), the keys' address is the one asked.
    const fixed =
      base === undefined ? undefined : renderOnce(discoveryDocument(config, keys, base), 'application/json');
    routes[DISCOVERY_PATH] = (request, response) => {
      if (fixed) return Promise.resolve(fixed(request, response, config.wellKnown.maxAgeSeconds));
      // Built from the Host header: a shared cache must not hand one client's answer to another.
      const send = renderOnce(discoveryDocument(config, keys, requestBase(request)), 'application/json');
      return Promise.resolve(send(request, response, undefined));
    };
  }
  return routes;
}

/** The issuer as a base URL (no trailing slash), or undefined when it is not an http(s) URL. */
function issuerUrl(issuer: string): string | undefined {
  try {
    const url = new URL(issuer);
    return url.protocol === 'https:' || url.protocol === 'http:' ? issuer.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function requestBase(request: IncomingMessage): string {
  return `http://${request.headers.host ?? 'localhost'}`;
}

/** OpenID Connect Discovery 1.0 §3, the fields a JWKS consumer reads; Tessera is no OpenID provider. */
function discoveryDocument(config: Config, keys: KeySet, base: string): string {
  return JSON.stringify({
    issuer: config.jwt.issuer,
    jwks_uri: `${base}${JWKS_PATH}`,
    id_token_signing_alg_values_supported: [keys.algorithm],
    token_endpoint_auth_signing_alg_values_supported: [keys.algorithm],
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'roles'],
  });
}

/** undefined: not to be stored by any cache. */
type Send = (request: IncomingMessage, response: ServerResponse, maxAgeSeconds: number | undefined) => void;

function renderOnce(body: string, contentType: string): Send {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return (request, response, maxAgeSeconds) => {
    if (refuseUnlessReading(request, response, ['OPTIONS'])) return;
    const method = request.method ?? 'GET';
    response.setHeader('access-control-allow-origin', '*');
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('content-security-policy', JSON_CONTENT_SECURITY_POLICY);
    if (method === 'OPTIONS') {
      response.setHeader('access-control-allow-methods', 'GET, HEAD');
      response.statusCode = 204;
      response.end();
      return;
    }
    response.setHeader('cache-control', maxAgeSeconds === undefined ? 'no-store' : `public, max-age=${maxAgeSeconds}`);
    response.setHeader('etag', etag);
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      response.statusCode = 304;
      response.end();
      return;
    }
    response.statusCode = 200;
    response.setHeader('content-type', `${contentType}; charset=utf-8`);
    response.end(method === 'HEAD' ? undefined : body);
  };
}

/** RFC 9110 §13.1.2: "*" matches any representation, and the comparison is weak (a W/ prefix is ignored). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
