// What a page sent to Tessera's /graphql and what came back, read off the browser's own network
// events: the operations, in order, with the headers that matter and the errors' reasons.
import type { Page, Response } from 'playwright-core';

export interface GraphQLExchange {
  /** The operation's name in the page's query (`mutation Refresh` -> Refresh). */
  readonly operation: string;
  readonly authorization: string | undefined;
  readonly csrfHeader: string | undefined;
  readonly reasons: readonly string[];
  readonly data: any;
}

export interface GraphQLLog {
  /** Every exchange so far, in the order the page sent them. */
  all(): Promise<GraphQLExchange[]>;
  /** The exchanges after this call, for one step of a test. */
  mark(): { since(): Promise<GraphQLExchange[]> };
}

export function recordGraphQL(page: Page, graphqlUrl: string): GraphQLLog {
  const pending: Promise<GraphQLExchange>[] = [];
  page.on('response', (response) => {
    const request = response.request();
    if (request.url() === graphqlUrl && request.method() === 'POST') pending.push(readExchange(response));
  });
  const all = () => Promise.all(pending);
  return {
    all,
    mark() {
      const start = pending.length;
      return { since: async () => (await all()).slice(start) };
    },
  };
}

async function readExchange(response: Response): Promise<GraphQLExchange> {
  const request = response.request();
  const headers = await request.allHeaders();
  const { query } = request.postDataJSON() as { query: string };
  const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { reason?: string } }[] };
  return {
    operation: /^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '(anonymous)',
    authorization: headers.authorization,
    csrfHeader: headers['x-csrf-token'],
    reasons: (body.errors ?? []).map((error) => error.extensions?.reason ?? '(no reason)'),
    data: body.data,
  };
}
