import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Orm } from '../db/orm.js';
import { refuseUnlessReading } from './read-only.js';
import { sendJson } from './send-json.js';

const HEALTH_TIMEOUT_MS = 2000;

/** GET /healthz: 200 while the database answers within the deadline, 503 otherwise. */
export async function sendHealth(orm: Orm, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (refuseUnlessReading(request, response)) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      orm.em.getConnection().execute('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS);
      }),
    ]);
    sendJson(response, 200, { status: 'ok', database: 'up' });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: 'down' });
  } finally {
    clearTimeout(timer);
  }
}
