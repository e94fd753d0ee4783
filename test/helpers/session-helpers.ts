// Shared by the session tests (refresh, logout, account security): the operations they send, and
// small readers of what comes back. Everything goes over real HTTP to a real server.
import type { AuthPayload, GraphQLResult } from './graphql-client.js';
import type { TestServer } from './test-server.js';
import { decodeJwt } from './fixtures.js';

export const PASSWORD = 'correct horse battery';

const PAYLOAD = 'accessToken refreshToken tokenType expiresIn refreshExpiresIn user { id username roles isActive }';
export const REFRESH = `mutation Refresh($t: String) { refresh(refreshToken: $t) { ${PAYLOAD} } }`;
export const REFRESH_FROM_HEADER = `mutation { refresh { ${PAYLOAD} } }`;
export const ME = '{ me { id username roles isActive } }';
export const MY_SESSIONS = '{ mySessions { id createdAt lastUsedAt expiresAt userAgent ip current } }';
export const LOGOUT = 'mutation Logout($scope: LogoutScope!) { logout(scope: $scope) }';
export const LOGOUT_DEFAULT = 'mutation { logout }';
export const REVOKE_SESSION = 'mutation Revoke($id: ID!) { revokeSession(id: $id) }';
export const REAUTHENTICATE = `mutation Reauth($p: String!) { reauthenticate(password: $p) { ${PAYLOAD} } }`;
export const CHANGE_PASSWORD = `mutation Change($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { ${PAYLOAD} } }`;
export const DELETE_MY_ACCOUNT = 'mutation { deleteMyAccount }';
export const SET_USER_ROLES =
  'mutation Roles($id: ID!, $roles: [Role!]!) { setUserRoles(userId: $id, roles: $roles) { id roles } }';
export const SET_USER_ACTIVE =
  'mutation Active($id: ID!, $active: Boolean!) { setUserActive(userId: $id, active: $active) { id isActive } }';
export const AUTH_EVENTS =
  'query Events($userId: ID, $limit: Int!) { authEvents(userId: $userId, limit: $limit) { id type userId actorId sessionId ip createdAt } }';
export const USERS = '{ users { id } }';

export interface SessionRow {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export interface AuthEventRow {
  id: string;
  type: string;
  userId: string | null;
  actorId: string | null;
  sessionId: string | null;
  ip: string | null;
  createdAt: string;
}

/** The claims of a JWT, read without verifying it (the server did that). */
export function claimsOf(token: string): Record<string, any> {
  return decodeJwt(token).payload;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until just after the next whole second. JWT times are whole seconds: a token issued at
 * x.99 s with a 1-second lifetime would be over at once; one issued just after the boundary gets
 * its whole lifetime.
 */
export function untilJustAfterSecond(): Promise<void> {
  return sleep(1000 - (Date.now() % 1000) + 20);
}

/** The `extensions.reason` of the first error, if any. */
export function reasonOf(result: GraphQLResult): string | undefined {
  return result.errors?.[0]?.extensions?.reason;
}

/** The `extensions.code` of the first error, if any. */
export function codeOf(result: GraphQLResult): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

/** A refresh that must succeed. */
export async function refreshOk(app: TestServer, refreshToken: string): Promise<AuthPayload> {
  const result = await app.client.request(REFRESH, { t: refreshToken });
  if (!result.data?.refresh) throw new Error(`refresh failed: ${JSON.stringify(result.errors)}`);
  return result.data.refresh as AuthPayload;
}

/** A login that must succeed. */
export async function loginOk(
  app: TestServer,
  username: string,
  password = PASSWORD,
  userAgent?: string,
): Promise<AuthPayload> {
  const result = await app.client.request(
    'mutation Login($input: LoginInput!) { login(input: $input) { accessToken refreshToken tokenType expiresIn refreshExpiresIn user { id username email roles isActive createdAt } } }',
    { input: { usernameOrEmail: username, password } },
    userAgent ? { headers: { 'user-agent': userAgent } } : {},
  );
  if (!result.data?.login) throw new Error(`login failed: ${JSON.stringify(result.errors)}`);
  return result.data.login as AuthPayload;
}

/** The reason `me` refuses the token with, or undefined when it answers. */
export async function meReason(app: Pick<TestServer, 'client'>, accessToken: string): Promise<string | undefined> {
  const result = await app.client.request(ME, {}, { token: accessToken });
  if (!result.errors && !result.data?.me) throw new Error('me answered neither data nor an error');
  return reasonOf(result);
}

/** The reason `refresh` refuses the token with, or undefined when it rotates. */
export async function refreshReason(app: TestServer, refreshToken: string): Promise<string | undefined> {
  const result = await app.client.request(REFRESH, { t: refreshToken });
  if (!result.errors && !result.data?.refresh) throw new Error('refresh answered neither data nor an error');
  return reasonOf(result);
}

export async function mySessions(app: TestServer, accessToken: string): Promise<SessionRow[]> {
  const result = await app.client.request(MY_SESSIONS, {}, { token: accessToken });
  if (!result.data?.mySessions) throw new Error(`mySessions failed: ${JSON.stringify(result.errors)}`);
  return result.data.mySessions as SessionRow[];
}

export { createAdmin } from './fixtures.js';

export async function authEvents(
  app: TestServer,
  adminToken: string,
  variables: { userId?: string; limit?: number } = {},
): Promise<AuthEventRow[]> {
  const result = await app.client.request(AUTH_EVENTS, { limit: 200, ...variables }, { token: adminToken });
  if (!result.data?.authEvents) throw new Error(`authEvents failed: ${JSON.stringify(result.errors)}`);
  return result.data.authEvents as AuthEventRow[];
}
