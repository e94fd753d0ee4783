import type { ServerResponse } from 'node:http';
import { JSON_CONTENT_SECURITY_POLICY, setCommonHeaders } from './response-headers.js';

/** Ends `response` with `body` as JSON; nothing Tessera answers is meant to be cached. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  setCommonHeaders(response);
  response.setHeader('content-security-policy', JSON_CONTENT_SECURITY_POLICY);
  response.end(JSON.stringify(body));
}
