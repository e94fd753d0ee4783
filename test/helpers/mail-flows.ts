// Shared by the email verification and password reset tests: their operations, and a snapshot of
// the rows a refusal must leave as they were.
import type { GraphQLResult } from './graphql-client.js';
import type { TestServer } from './test-server.js';

const PAYLOAD =
  'accessToken refreshToken transport tokenType expiresIn refreshExpiresIn deviceToken user { id username email emailVerified }';
export const REQUEST_EMAIL_VERIFICATION = 'mutation { requestEmailVerification }';
export const VERIFY_EMAIL = 'mutation Verify($token: String!) { verifyEmail(token: $token) }';
export const REQUEST_PASSWORD_RESET = 'mutation Forgot($email: String!) { requestPasswordReset(email: $email) }';
export const RESET_PASSWORD = `mutation Reset($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) { ${PAYLOAD} } }`;
export const ME_VERIFIED = '{ me { id email emailVerified } }';

/** The address the test client's signup gives a user. */
export const emailOf = (username: string) => `${username}@example.com`;

/** `me { emailVerified }` for this access token. */
export async function emailVerified(app: Pick<TestServer, 'client'>, accessToken: string): Promise<boolean> {
  const result = await app.client.request(ME_VERIFIED, {}, { token: accessToken });
  if (!result.data?.me) throw new Error(`me failed: ${JSON.stringify(result.errors)}`);
  return result.data.me.emailVerified as boolean;
}

/** What a refused operation answers: its code, reason and field. */
export function refusal(result: GraphQLResult): { code?: string; reason?: string; field?: string } {
  if (result.errors?.length !== 1) throw new Error(`expected exactly one error, got ${JSON.stringify(result)}`);
  const { code, reason, field } = result.errors[0].extensions ?? {};
  return { code, reason, ...(field !== undefined && { field }) };
}

/**
 * Every row an account flow writes (users, sessions, mailed tokens, queued mails, audit events),
 * to compare before and after a refusal. The counters of the throttles are left out: counting an
 * attempt is what a refusal is meant to write.
 */
export async function databaseState(app: TestServer): Promise<unknown> {
  const em = app.orm.em.fork();
  const read = (sql: string) => em.getConnection().execute(sql);
  return {
    users: await read(
      'select id, email, password_hash, email_verified_at, is_active, updated_at from users order by id',
    ),
    sessions: await read('select id, refresh_jti, generation, revoked_at, last_used_at from sessions order by id'),
    tokens: await read('select id, purpose, token_hash, email, expires_at from one_time_tokens order by id'),
    registrations: await read(
      'select id, username_key, email_key, token_hash, expires_at from registrations order by id',
    ),
    mails: await read('select id, kind, recipient from mail_outbox order by id'),
    events: await read('select id, type, user_id from auth_events order by id'),
  };
}
