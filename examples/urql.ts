// urql for a browser front-end on Tessera's cookie mode, the same contract as apollo-client.ts:
// the access token in memory as a bearer header, the refresh token in an HttpOnly cookie, a silent
// refresh on TOKEN_EXPIRED. urql's authExchange holds operations back while one refresh runs and
// retries each once. Copy this file; only `@urql/core` and `@urql/exchange-auth`.
import { cacheExchange, Client, fetchExchange, makeOperation, type Operation } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';

/** The script-readable cookie holding the value `refresh` must echo in `X-CSRF-TOKEN`. */
export const CSRF_REFRESH_COOKIE = 'csrf_refresh_token';

export interface TesseraUrqlOptions {
  /** Tessera's endpoint, e.g. `https://api.example.com/graphql`. */
  readonly url: string;
  /** The csrf_refresh_token cookie's value; by default read from `document.cookie`. */
  readonly readCsrfToken?: () => string | undefined;
  /** By default the browser's own. */
  readonly fetch?: typeof fetch;
  /** The session cannot be refreshed any more (logged out, expired, revoked): show the login. */
  readonly onSessionEnded?: (reason: string | undefined) => void;
}

export interface TesseraUrqlClient {
  readonly client: Client;
  /** Keep the `accessToken` that login, signup, reauthenticate or changePassword returned. */
  setAccessToken(accessToken: string | null): void;
}

const REFRESH = 'mutation Refresh { refresh { accessToken } }';

export function createTesseraUrqlClient(options: TesseraUrqlOptions): TesseraUrqlClient {
  const { url, readCsrfToken = readCsrfCookie, fetch: fetchImpl = globalThis.fetch, onSessionEnded } = options;
  let accessToken: string | null = null;
  // The token an operation carried when it was refused as expired.
  let expiredToken: string | null = null;

  const auth = authExchange((utils) =>
    Promise.resolve({
      addAuthToOperation(operation: Operation) {
        return withBearer(operation, accessToken);
      },
      didAuthError(error, operation) {
        const expired = error.graphQLErrors.some((graphQLError) => graphQLError.extensions.reason === 'TOKEN_EXPIRED');
        if (expired) expiredToken = bearerOf(operation);
        return expired;
      },
      async refreshAuth() {
        // Refused before a refresh that has finished since: the new token is already here.
        if (accessToken !== null && accessToken !== expiredToken) return;
        // No Authorization header on `refresh`, so that Tessera reads the refresh token from its cookie.
        const expired = accessToken;
        accessToken = null;
        const csrfToken = readCsrfToken();
        const result = await utils.mutate<{ refresh: { accessToken: string } }>(
          REFRESH,
          {},
          {
            fetchOptions: {
              credentials: 'include',
              headers: csrfToken === undefined ? {} : { 'x-csrf-token': csrfToken },
            },
          },
        );
        if (result.error?.networkError) {
          // Unreachable is not logged out: the next TOKEN_EXPIRED tries again.
          accessToken = expired;
          throw result.error;
        }
        accessToken = result.data?.refresh.accessToken ?? null;
        if (accessToken === null)
          onSessionEnded?.(result.error?.graphQLErrors[0]?.extensions.reason as string | undefined);
      },
    }),
  );

  const client = new Client({
    url,
    fetch: fetchImpl,
    fetchOptions: { credentials: 'include' },
    // urql would send queries as GET, which Apollo's CSRF prevention refuses without an
    // `apollo-require-preflight` header; POST needs neither.
    preferGetMethod: false,
    exchanges: [cacheExchange, auth, fetchExchange],
  });

  return {
    client,
    setAccessToken(token) {
      accessToken = token;
    },
  };
}

/** A retried operation still carries the header it failed with: replace it, or drop it. */
function withBearer(operation: Operation, accessToken: string | null): Operation {
  const init = fetchOptionsOf(operation);
  const headers = new Headers(init.headers);
  if (accessToken === null) headers.delete('authorization');
  else headers.set('authorization', `Bearer ${accessToken}`);
  const fetchOptions = { ...init, headers: Object.fromEntries(headers) };
  return makeOperation(operation.kind, operation, { ...operation.context, fetchOptions });
}

function bearerOf(operation: Operation): string | null {
  return new Headers(fetchOptionsOf(operation).headers).get('authorization')?.replace(/^Bearer /, '') ?? null;
}

function fetchOptionsOf(operation: Operation): RequestInit {
  const { fetchOptions } = operation.context;
  return (typeof fetchOptions === 'function' ? fetchOptions() : fetchOptions) ?? {};
}

function readCsrfCookie(): string | undefined {
  const cookies = (globalThis as { document?: { cookie: string } }).document?.cookie ?? '';
  for (const pair of cookies.split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === CSRF_REFRESH_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
