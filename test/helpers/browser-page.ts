// A front-end page at http://localhost:5173 calling a test Tessera with cookies, as the client
// recipes run in a browser: its cookie jar, its fetch, and the refreshes it sent.
import { CookieJar } from './cookie-jar.js';

export const PAGE_ORIGIN = 'http://localhost:5173';

export interface BrowserPage {
  readonly jar: CookieJar;
  /** Tessera's URL on the page's host, another port: one site, as SameSite=Lax cookies need. */
  readonly apiUrl: string;
  readonly fetch: typeof fetch;
  /** What a script reads from `document.cookie` for `X-CSRF-TOKEN`. */
  readonly readCsrfToken: () => string | undefined;
  /** Every `refresh` request the page sent, in order. */
  readonly refreshes: RequestInit[];
}

export function browserPage(tesseraUrl: string, jar = new CookieJar(PAGE_ORIGIN)): BrowserPage {
  const apiUrl = new URL(tesseraUrl);
  apiUrl.hostname = 'localhost';
  const refreshes: RequestInit[] = [];
  return {
    jar,
    apiUrl: apiUrl.toString(),
    fetch: (input, init) => {
      if (typeof init?.body === 'string' && /\brefresh\b/.test(init.body)) refreshes.push(init);
      return jar.fetch(input, init);
    },
    readCsrfToken: () => jar.pageCookie('csrf_refresh_token'),
    refreshes,
  };
}
