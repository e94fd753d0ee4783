import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CookieChannel } from '../graphql/cookie-channel.js';
import type { Context } from '../graphql/context.js';
import { readBody } from './body.js';
import type { RequestCookies } from './token-cookies.js';
import {
  JSON_CONTENT_SECURITY_POLICY,
  landingPageContentSecurityPolicy,
  landingPageNonce,
  setCommonHeaders,
} from './response-headers.js';

export interface GraphQLRouteParts {
  readonly apollo: ApolloServer<Context>;
  readonly buildContext: (
    request: IncomingMessage,
    clientIp: string | null,
    cookies: CookieChannel,
  ) => Promise<Context>;
  readonly tokenCookies: (request: IncomingMessage) => RequestCookies;
  readonly clientAddress: (request: IncomingMessage) => string | null;
  readonly maxBodyBytes: number;
}

/** POST/GET /graphql: the Node request handed to Apollo, its answer written back (streamed if need be). */
export function createGraphQLRoute(parts: GraphQLRouteParts) {
  const { apollo, buildContext, clientAddress, maxBodyBytes, tokenCookies } = parts;
  return async function serveGraphQL(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method?.toUpperCase() ?? 'GET',
      headers: toHeaderMap(request),
      search: url.search,
      body: await readBody(request, maxBodyBytes),
    };
    const clientIp = clientAddress(request);
    const cookies = tokenCookies(request);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () => buildContext(request, clientIp, cookies),
    });
    for (const [name, value] of result.headers) response.setHeader(name, value);
    // Complete once the operation has run; an incremental answer's later parts set none.
    const setCookies = cookies.setCookieHeaders();
    if (setCookies.length > 0) response.setHeader('set-cookie', setCookies);
    // Set after Apollo's headers so that they win over anything it sent.
    setCommonHeaders(response);
    response.statusCode = result.status ?? 200;
    const isHtml = result.headers.get('content-type')?.startsWith('text/html') === true;
    if (result.body.kind === 'complete') {
      response.setHeader(
        'content-security-policy',
        isHtml ? landingPageContentSecurityPolicy(landingPageNonce(result.body.string)) : JSON_CONTENT_SECURITY_POLICY,
      );
      response.end(result.body.string);
      return;
    }
    response.setHeader('content-security-policy', JSON_CONTENT_SECURITY_POLICY);
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  };
}

function toHeaderMap(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}
