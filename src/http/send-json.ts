import type { ServerResponse } from 'node:http';

/** Ends `response` with `body` as JSON; nothing Tessera answers is meant to be cached. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.end(JSON.stringify(body));
}
