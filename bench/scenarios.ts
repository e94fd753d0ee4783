// The bench's scenarios, each as the worker processes it needs. Workers of one scenario warm
// up together and start measuring together; the first worker's figures make the scenario's row.
import { randomBytes } from 'node:crypto';
import type { Argon2Spec, LoadSpec, RoundSpec } from './protocol.js';
import type { Seed } from './seed.js';

export interface WorkerPlan {
  script: 'load-worker.js' | 'argon2-worker.js';
  spec: LoadSpec | Argon2Spec;
  label: string;
}

export interface Scenario {
  name: string;
  what: string;
  workers: WorkerPlan[];
}

export interface ScenarioContext {
  url: string;
  seed: Seed;
  durationSeconds: number;
  warmupSeconds: number;
  settleSeconds: number;
  connections: number;
  loginConnections: number;
  argon2: { memoryKib: number; timeCost: number; parallelism: number };
}

export const SCENARIO_NAMES = [
  'control',
  'me',
  'myTasks',
  'authEvents',
  'refresh',
  'login',
  'argon2-raw',
  'me-under-login-load',
  'register-new',
  'register-taken',
  'reset-known',
  'reset-unknown',
] as const;

const body = (query: string, variables?: Record<string, unknown>) =>
  JSON.stringify(variables ? { query, variables } : { query });
const CONTROL = body('{ __typename }');
const ME = body('{ me { id username email roles } }');
const MY_TASKS = body('{ myTasks { id title done createdAt } }');
/** authEvents' page: every seeded user's trail holds at least this many (seed-sql.ts). */
export const AUTH_EVENTS_PAGE = 50;
const AUTH_EVENTS = `query Events($userId: ID!) { authEvents(userId: $userId, limit: ${AUTH_EVENTS_PAGE}) { id type createdAt } }`;
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresIn } }';
const REGISTER = 'mutation Register($input: SignupInput!) { register(input: $input) }';
const REQUEST_RESET = 'mutation RequestReset($email: String!) { requestPasswordReset(email: $email) }';
/** A strong password of its own for every registration (the username is in none of them). */
const REGISTER_PASSWORD = 'bench register passphrase 31';

export function buildScenarios(context: ScenarioContext): Scenario[] {
  const timing: RoundSpec = {
    warmupSeconds: context.warmupSeconds,
    settleSeconds: context.settleSeconds,
    durationSeconds: context.durationSeconds,
  };
  const tokens = context.seed.users.map((user) => user.accessToken);
  const load = (label: string, spec: Omit<LoadSpec, 'kind' | 'url' | keyof RoundSpec>): WorkerPlan => ({
    script: 'load-worker.js',
    label,
    spec: { kind: 'load', url: context.url, ...timing, ...spec },
  });
  const me = load('me', { connections: context.connections, body: ME, tokens });
  const login = load('login', {
    connections: context.loginConnections,
    bodies: context.seed.users.map((user) =>
      body(LOGIN, { input: { usernameOrEmail: user.username, password: user.password } }),
    ),
  });
  // Every registration needs a username of its own (a taken one is refused before any work):
  // `{n}` is the request's number. The taken side rotates the seeded users' emails, so that no
  // address reaches its mail limit.
  const run = randomBytes(3).toString('hex');
  const seededEmails = context.seed.users.map((user) => `${user.username}@example.com`);
  const register = (label: string, email: string, cycle?: string[]) =>
    load(label, {
      connections: context.loginConnections,
      template: body(REGISTER, { input: { username: `${label}_${run}_{n}`, email, password: REGISTER_PASSWORD } }),
      cycle,
    });
  // The scenarios run in this order in every round: the two of each ratio side by side (control
  // and me, login and argon2-raw), so that the machine's drift between them is a few seconds'.
  return [
    // The same request shape as `me` (a rotated header as long as its token, which the server
    // copies but never reads) so that both scenarios cost the load generator alike.
    {
      name: 'control',
      what: '{ __typename }, no token (token-sized x-bench-padding header)',
      workers: [
        load('control', { connections: context.connections, body: CONTROL, tokens, tokenHeader: 'x-bench-padding' }),
      ],
    },
    { name: 'me', what: `me, ${tokens.length} users' access tokens rotated`, workers: [me] },
    {
      name: 'myTasks',
      what: "the viewer's tasks",
      workers: [load('myTasks', { connections: context.connections, body: MY_TASKS, tokens })],
    },
    {
      name: 'authEvents',
      what: `an ADMIN reading authEvents(userId, limit: ${AUTH_EVENTS_PAGE}), the ${context.seed.users.length} users rotated`,
      workers: [
        load('authEvents', {
          connections: context.connections,
          bodies: context.seed.users.map((user) => body(AUTH_EVENTS, { userId: user.id })),
          tokens: [context.seed.adminToken],
        }),
      ],
    },
    {
      name: 'refresh',
      what: 'each session chain rotating, always its latest refresh token',
      workers: [load('refresh', { connections: context.connections, chains: context.seed.refreshChains })],
    },
    {
      name: 'login',
      what: `distinct users, argon2id m=${context.argon2.memoryKib} t=${context.argon2.timeCost} p=${context.argon2.parallelism}`,
      workers: [login],
    },
    {
      name: 'argon2-raw',
      what: 'argon2.verify called directly, no HTTP',
      workers: [
        {
          script: 'argon2-worker.js',
          label: 'argon2-raw',
          spec: { kind: 'argon2', ...context.argon2, concurrency: context.loginConnections, ...timing },
        },
      ],
    },
    { name: 'me-under-login-load', what: 'me while logins run in parallel (row: me)', workers: [me, login] },
    // The two sides of each ratio side by side: register's answer must not tell a taken email
    // from a new one, nor requestPasswordReset's a known address from an unknown one.
    {
      name: 'register-new',
      what: 'register, a new username and a new email each',
      workers: [register('rn', `rn_${run}_{n}@example.com`)],
    },
    {
      name: 'register-taken',
      what: `register, a new username and the ${seededEmails.length} seeded users' emails rotated`,
      workers: [register('rt', '{cycle}', seededEmails)],
    },
    {
      name: 'reset-known',
      what: `requestPasswordReset, the ${seededEmails.length} seeded users' addresses rotated`,
      workers: [
        load('reset-known', {
          connections: context.loginConnections,
          bodies: seededEmails.map((email) => body(REQUEST_RESET, { email })),
        }),
      ],
    },
    {
      name: 'reset-unknown',
      what: 'requestPasswordReset, an address without an account each',
      workers: [
        load('reset-unknown', {
          connections: context.loginConnections,
          template: body(REQUEST_RESET, { email: `nobody_${run}_{n}@example.com` }),
        }),
      ],
    },
  ];
}
