// Requests as a browser app in cookie mode sends them, with exactly the headers given (fetch
// would add or refuse some), and the Set-Cookie headers of the answers read back.
import { request as httpRequest } from 'node:http';
import type { GraphQLErrorBody } from './graphql-client.js';

export interface CookieResponse<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
  /** Every Set-Cookie of the answer, by cookie name. */
  setCookies: Map<string, SetCookie>;
}

export interface SetCookie {
  value: string;
  /** Lower-cased attribute names; valueless ones (HttpOnly, Secure) map to ''. */
  attributes: Map<string, string>;
}

export const SPA_ORIGIN = 'http://localhost:5173';

export function post<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<CookieResponse<T>> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const body = JSON.parse(text) as { data?: T; errors?: GraphQLErrorBody[] };
          resolve({
            status: response.statusCode ?? 0,
            data: body.data,
            errors: body.errors,
            setCookies: parseSetCookies(response.headers['set-cookie'] ?? []),
          });
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(JSON.stringify({ query, variables }));
  });
}

export function parseSetCookies(headers: readonly string[]): Map<string, SetCookie> {
  const cookies = new Map<string, SetCookie>();
  for (const header of headers) {
    const parsed = parseSetCookie(header);
    if (parsed) cookies.set(parsed.name, { value: parsed.value, attributes: parsed.attributes });
  }
  return cookies;
}

/** One Set-Cookie header: name, value and attributes; undefined when it names no cookie. */
export function parseSetCookie(header: string): (SetCookie & { name: string }) | undefined {
  const [pair = '', ...attributeParts] = header.split(';');
  const equals = pair.indexOf('=');
  if (equals <= 0) return undefined;
  const attributes = new Map<string, string>();
  for (const part of attributeParts) {
    const at = part.indexOf('=');
    const key = at === -1 ? part : part.slice(0, at);
    attributes.set(key.trim().toLowerCase(), at === -1 ? '' : part.slice(at + 1).trim());
  }
  return { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim(), attributes };
}

/** A Cookie header from name/value pairs (repeats allowed, as a browser may send them). */
export function cookieHeader(...pairs: [string, string][]): string {
  return pairs.map(([name, value]) => `${name}=${value}`).join('; ');
}

/** The value of a cookie the answer set, failing when it set none of that name. */
export function cookieValue(response: CookieResponse, name: string): string {
  const cookie = response.setCookies.get(name);
  if (!cookie) throw new Error(`no ${name} cookie was set; got ${[...response.setCookies.keys()].join(', ')}`);
  return cookie.value;
}

const PAYLOAD = 'accessToken refreshToken transport expiresIn refreshExpiresIn user { id username }';
export const COOKIE_SIGNUP = `mutation Signup($input: SignupInput!) { signup(input: $input) { ${PAYLOAD} } }`;
export const COOKIE_LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${PAYLOAD} } }`;
export const COOKIE_REFRESH = `mutation { refresh { ${PAYLOAD} } }`;
export const REFRESH_WITH_ARGUMENT = `mutation Refresh($t: String) { refresh(refreshToken: $t) { ${PAYLOAD} } }`;
