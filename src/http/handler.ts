// The route table: /graphql, /healthz and the demo page's files, nothing else. Every failure is
// answered as a coded GraphQL error; an unexpected one is logged and masked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { HttpError } from './http-error.js';
import { sendJson } from './send-json.js';

export type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

export function createRequestHandler(routes: Readonly<Record<string, Route>>, logger: Logger) {
  const routeRequest = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = parseRequestTarget(request.url);
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (!route) return sendJson(response, 404, { error: 'not found' });
    await route(request, response, url);
  };
  return function handleRequest(request: IncomingMessage, response: ServerResponse): void {
    routeRequest(request, response).catch((error: unknown) => sendFailure(response, error, logger));
  };
}

function parseRequestTarget(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request target is not a valid URL');
  }
}

function sendFailure(response: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof HttpError) {
    sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
    return;
  }
  logger.error({ err: error }, 'unexpected error while serving HTTP');
  if (!response.headersSent) {
    sendJson(response, 500, {
      errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
    });
  } else {
    response.destroy();
  }
}
