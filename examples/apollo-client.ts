// Apollo Client for a browser front-end on Tessera's cookie mode: the access token lives in memory
// and goes out as a bearer header; the refresh token lives in an HttpOnly cookie the page never
// reads. An expired access token is refreshed silently, once however many operations hit it, and
// each operation is retried once. Copy this file; only `@apollo/client`, `graphql` and `rxjs`.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { from, of, switchMap } from 'rxjs';

/** The script-readable cookie holding the value `refresh` must echo in `X-CSRF-TOKEN`. */
export const CSRF_REFRESH_COOKIE = 'csrf_refresh_token';

export interface TesseraClientOptions {
  /** Tessera's endpoint, e.g. `https://api.example.com/graphql`. */
  readonly uri: string;
  /** The csrf_refresh_token cookie's value; by default read from `document.cookie`. */
  readonly readCsrfToken?: () => string | undefined;
  /** By default the browser's own. */
  readonly fetch?: typeof fetch;
  /** The session cannot be refreshed any more (logged out, expired, revoked): show the login. */
  readonly onSessionEnded?: (reason: string | undefined) => void;
}

export interface TesseraClient {
  readonly apollo: ApolloClient;
  /** Keep the `accessToken` that login, signup, reauthenticate or changePassword returned. */
  setAccessToken(accessToken: string | null): void;
  /** Refresh from the cookie now, e.g. on page load to resume a session; false when it has ended. */
  refresh(): Promise<boolean>;
}

const REFRESH = 'mutation Refresh { refresh { accessToken } }';

interface RefreshResponse {
  data?: { refresh?: { accessToken: string } | null } | null;
  errors?: { extensions?: { reason?: string } }[];
}

export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const { uri, readCsrfToken = readCsrfCookie, fetch: fetchImpl = globalThis.fetch, onSessionEnded } = options;
  let accessToken: string | null = null;
  let pendingRefresh: Promise<string | null> | undefined;

  // Sent with no Authorization header, so that Tessera reads the refresh token from its cookie.
  async function requestRefresh(): Promise<string | null> {
    const csrfToken = readCsrfToken();
    const response = await fetchImpl(uri, {
      method: 'POST',
      credentials: 'include',
      headers: {
        'content-type': 'application/json',
        ...(csrfToken === undefined ? {} : { 'x-csrf-token': csrfToken }),
      },
      body: JSON.stringify({ query: REFRESH }),
    });
    const body = (await response.json()) as RefreshResponse;
    const refreshed = body.data?.refresh?.accessToken;
    if (refreshed !== undefined) return refreshed;
    onSessionEnded?.(body.errors?.[0]?.extensions?.reason);
    return null;
  }

  /** Every caller while one refresh is in flight shares it: a second would spend the rotated cookie. */
  function refreshOnce(): Promise<string | null> {
    pendingRefresh ??= requestRefresh()
      .then((refreshed) => {
        accessToken = refreshed;
        return refreshed;
      })
      .finally(() => {
        pendingRefresh = undefined;
      });
    return pendingRefresh;
  }

  // A retry passes here again with the headers it failed with: the stale bearer goes.
  const authLink = new SetContextLink((previous) => {
    const { authorization: _stale, ...headers } = (previous.headers ?? {}) as Record<string, string>;
    if (accessToken !== null) headers.authorization = `Bearer ${accessToken}`;
    return { headers, sentAccessToken: accessToken };
  });

  const refreshLink = new ErrorLink(({ error, result, operation, forward }) => {
    if (!CombinedGraphQLErrors.is(error) || result === undefined) return;
    if (!error.errors.some((graphQLError) => graphQLError.extensions?.reason === 'TOKEN_EXPIRED')) return;
    const context = operation.getContext();
    if (context.retriedAfterRefresh === true) return;
    operation.setContext({ retriedAfterRefresh: true });
    // Sent before a refresh that has finished since: the new token is already here.
    const alreadyRefreshed = (context.sentAccessToken as string | null | undefined) !== accessToken;
    const token = alreadyRefreshed ? Promise.resolve(accessToken) : refreshOnce();
    return from(token).pipe(switchMap((refreshed) => (refreshed === null ? of(result) : forward(operation))));
  });

  const apollo = new ApolloClient({
    // The retry re-enters at authLink, so that it carries the new token.
    link: ApolloLink.from([refreshLink, authLink, new HttpLink({ uri, credentials: 'include', fetch: fetchImpl })]),
    cache: new InMemoryCache(),
  });

  return {
    apollo,
    setAccessToken(token) {
      accessToken = token;
    },
    async refresh() {
      return (await refreshOnce()) !== null;
    },
  };
}

function readCsrfCookie(): string | undefined {
  const cookies = (globalThis as { document?: { cookie: string } }).document?.cookie ?? '';
  for (const pair of cookies.split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === CSRF_REFRESH_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
