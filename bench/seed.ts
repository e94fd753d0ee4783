// Users and tasks made through the real API (signup, createTask, login), keeping what the
// scenarios need: each user's password and tokens, and spare sessions for the refresh chains.
import { randomBytes } from 'node:crypto';
import { gql, inParallel } from './graphql-client.js';

export interface SeededUser {
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export interface Seed {
  users: SeededUser[];
  /** Refresh tokens of sessions opened for the refresh scenario only, one per chain. */
  refreshChains: string[];
}

export interface SeedOptions {
  users: number;
  tasksPerUser: number;
  chains: number;
  /** Requests in flight while seeding (signup and login hash: a handful keeps the pool busy). */
  parallelism?: number;
}

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
}

const SIGNUP = 'mutation Signup($input: SignupInput!) { signup(input: $input) { accessToken refreshToken } }';
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }';
const CREATE_TASK = 'mutation CreateTask($title: String!) { createTask(title: $title) { id } }';

export async function seed(url: string, options: SeedOptions): Promise<Seed> {
  const run = randomBytes(3).toString('hex');
  const parallelism = options.parallelism ?? 4;
  const indexes = Array.from({ length: options.users }, (_, i) => i);
  const users = await inParallel(indexes, parallelism, async (i) => {
    const username = `bench_${run}_${i}`;
    const password = `bench pw ${randomBytes(9).toString('base64url')}`;
    const { signup } = await gql<{ signup: AuthPayload }>(url, SIGNUP, {
      input: { username, email: `${username}@example.com`, password },
    });
    return { username, password, ...signup };
  });
  const tasks = users.flatMap((user) => Array.from({ length: options.tasksPerUser }, (_, t) => ({ user, t })));
  await inParallel(tasks, parallelism * 2, ({ user, t }) =>
    gql(url, CREATE_TASK, { title: `Task ${t + 1} of ${user.username}` }, user.accessToken),
  );
  const chainOwners = Array.from({ length: options.chains }, (_, i) => users[i % users.length]);
  const chains = await inParallel(chainOwners, parallelism, async (user) => {
    const { login } = await gql<{ login: AuthPayload }>(url, LOGIN, {
      input: { usernameOrEmail: user.username, password: user.password },
    });
    return login.refreshToken;
  });
  return { users, refreshChains: chains };
}
