// Users and tasks made through the real API (signup, createTask, login), keeping what the
// scenarios need: each user's password and tokens, and spare sessions for the refresh chains.
import { randomBytes } from 'node:crypto';
import { gql, inParallel } from './graphql-client.js';

export interface SeededUser {
  id: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export interface Seed {
  users: SeededUser[];
  /** Refresh tokens of sessions opened for the refresh scenario only, one per chain. */
  refreshChains: string[];
  /** An access token of the first user, made an ADMIN (authEvents of any user). */
  adminToken: string;
}

export interface SeedOptions {
  users: number;
  tasksPerUser: number;
  chains: number;
  /** Requests in flight while seeding (signup and login hash: a handful keeps the pool busy). */
  parallelism?: number;
  /**
   * Gives the user the ADMIN role. The API cannot: the first ADMIN is the operator's (the
   * user:create CLI), so the bench sets it in the database it owns.
   */
  makeAdmin: (userId: string) => Promise<void>;
}

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
}

const SIGNUP =
  'mutation Signup($input: SignupInput!) { signup(input: $input) { accessToken refreshToken user { id } } }';
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }';
const CREATE_TASK = 'mutation CreateTask($title: String!) { createTask(title: $title) { id } }';

export async function seed(url: string, options: SeedOptions): Promise<Seed> {
  const run = randomBytes(3).toString('hex');
  const parallelism = options.parallelism ?? 4;
  const indexes = Array.from({ length: options.users }, (_, i) => i);
  const users = await inParallel(indexes, parallelism, async (i) => {
    const username = `bench_${run}_${i}`;
    const password = `bench pw ${randomBytes(9).toString('base64url')}`;
    const { signup } = await gql<{ signup: AuthPayload & { user: { id: string } } }>(url, SIGNUP, {
      input: { username, email: `${username}@example.com`, password },
    });
    return {
      id: signup.user.id,
      username,
      password,
      accessToken: signup.accessToken,
      refreshToken: signup.refreshToken,
    };
  });
  const tasks = users.flatMap((user) => Array.from({ length: options.tasksPerUser }, (_, t) => ({ user, t })));
  await inParallel(tasks, parallelism * 2, ({ user, t }) =>
    gql(url, CREATE_TASK, { title: `Task ${t + 1} of ${user.username}` }, user.accessToken),
  );
  await options.makeAdmin(users[0].id);
  return openSessions(url, users, options.chains, parallelism);
}

const login = async (url: string, user: SeededUser): Promise<AuthPayload> =>
  (
    await gql<{ login: AuthPayload }>(url, LOGIN, {
      input: { usernameOrEmail: user.username, password: user.password },
    })
  ).login;

/** The refresh chains' sessions and the ADMIN's, each a login of its own. */
async function openSessions(url: string, users: SeededUser[], chains: number, parallelism: number): Promise<Seed> {
  const chainOwners = Array.from({ length: chains }, (_, i) => users[i % users.length]);
  const refreshChains = await inParallel(
    chainOwners,
    parallelism,
    async (user) => (await login(url, user)).refreshToken,
  );
  const adminToken = (await login(url, users[0])).accessToken;
  return { users, refreshChains, adminToken };
}

/**
 * The same users with new tokens, each from a login, and new chains: a database grown to full
 * scale takes longer to grow than an access token lives, and the chains were rotated past theirs.
 */
export async function renewSeed(url: string, data: Seed, parallelism = 4): Promise<Seed> {
  const users = await inParallel(data.users, parallelism, async (user) => ({ ...user, ...(await login(url, user)) }));
  return openSessions(url, users, data.refreshChains.length, parallelism);
}
