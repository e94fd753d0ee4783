// What the bench writes into the database it owns, where the API cannot or would take too long.
import { withClient } from './database.js';

/** The ADMIN role, which the API cannot give: the first ADMIN is the operator's (npm run user:create). */
export async function makeAdmin(url: string, userId: string): Promise<void> {
  await withClient(url, (client) => client.query(`update users set roles = '{USER,ADMIN}' where id = $1`, [userId]));
}

/**
 * `perUser` past logins in each user's audit trail, so that authEvents answers a full page for
 * every user on the small seed as on the grown database (what it costs is then the table's size,
 * not the answer's). Through the API that would be as many argon2 hashes.
 */
export async function fillAuditTrails(url: string, userIds: string[], perUser: number): Promise<void> {
  await withClient(url, (client) =>
    client.query(
      `insert into auth_events (type, user_id, ip, created_at)
       select 'LOGIN_SUCCEEDED', u, '127.0.0.1', now() - interval '1 day' + n * interval '1 second'
         from unnest($1::uuid[]) u, generate_series(1, $2) n`,
      [userIds, perUser],
    ),
  );
}
