import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './send-json.js';

/**
 * For the routes that only serve something: answers 405, with the Allow header RFC 9110 asks for,
 * unless the method is GET, HEAD or one of `alsoAllowed`. True when it answered.
 */
export function refuseUnlessReading(
  request: IncomingMessage,
  response: ServerResponse,
  alsoAllowed: readonly string[] = [],
): boolean {
  const allowed = ['GET', 'HEAD', ...alsoAllowed];
  if (allowed.includes(request.method ?? 'GET')) return false;
  response.setHeader('allow', allowed.join(', '));
  sendJson(response, 405, { error: 'method not allowed' });
  return true;
}
