// Shared set-ups for integration tests: an ADMIN, a decoded JWT, and the direct database changes
// (deactivate, revoke) whose mutations come later, each followed by the cache invalidation those
// mutations would do.
import { Role, Session, User } from '../../src/db/entities/index.js';
import type { AuthPayload } from './graphql-client.js';
import type { TestServer } from './test-server.js';

export const ADMIN_PASSWORD = 'admin password 123';

/** Creates an account with the ADMIN and USER roles the way an operator would, then logs it in over HTTP. */
export async function createAdmin(
  app: TestServer,
  username = 'admin',
  password = ADMIN_PASSWORD,
): Promise<AuthPayload> {
  await app.server.services.accounts.createUser(app.orm.em.fork(), {
    username,
    email: `${username}@example.com`,
    password,
    roles: [Role.ADMIN, Role.USER],
  });
  const result = await app.client.login(username, password);
  if (!result.data?.login) throw new Error(`admin login failed: ${JSON.stringify(result.errors)}`);
  return result.data.login;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The header and claims of a JWT, read without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const [header, payload] = token.split('.');
  const parse = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: parse(header), payload: parse(payload) };
}

/** Marks the user inactive in the database and drops them from the principal cache. */
export async function deactivateUser(app: TestServer, userId: string): Promise<void> {
  await app.orm.em.fork().nativeUpdate(User, { id: userId }, { isActive: false });
  app.server.services.principals.invalidateUser(userId);
}

/** Sets revokedAt on the session in the database and drops it from the principal cache. */
export async function revokeSessionRow(app: TestServer, sessionId: string): Promise<void> {
  await app.orm.em.fork().nativeUpdate(Session, { id: sessionId }, { revokedAt: new Date(), revokedReason: 'TEST' });
  app.server.services.principals.invalidateSession(sessionId);
}

/** Deletes the session row and drops it from the principal cache. */
export async function deleteSessionRow(app: TestServer, sessionId: string): Promise<void> {
  await app.orm.em.fork().nativeDelete(Session, { id: sessionId });
  app.server.services.principals.invalidateSession(sessionId);
}

/** The session id (`sid` claim) of an access or refresh token. */
export function sessionIdOf(token: string): string {
  return decodeJwt(token).payload.sid as string;
}
