// The bench's command line: `npm run bench -- --duration 10 --connections 32 ...`.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  durationSeconds: number;
  /** Each scenario's measurement is split into this many rounds, interleaved with the others. */
  rounds: number;
  warmupSeconds: number;
  /** Before each later round's measurement: the load restarted, the previous scenario's leftovers drained. */
  settleSeconds: number;
  connections: number;
  loginConnections: number;
  users: number;
  tasksPerUser: number;
  scenarios: string[] | undefined;
  smoke: boolean;
  strict: boolean;
  cpuProfile: boolean;
  out: string;
  /** Also run every scenario on a database grown in SQL (bench/scale.ts), this many times the full scale. */
  scale: number | undefined;
}

export const USAGE = `npm run bench -- [options]
  --duration <s>           measured seconds per scenario (default 10; --smoke: 2)
  --rounds <n>             split each measurement into n interleaved rounds (default 6; --smoke: 1)
  --warmup <s>             warm-up seconds before a scenario's first round (default 2; --smoke: 1)
  --settle <s>             seconds the load runs before each later round's measurement (default 0.5)
  --connections <n>        HTTP connections for control, me, myTasks, refresh (default 32; --smoke: 8)
  --login-connections <n>  connections for login, and argon2-raw's calls in flight (default 8; --smoke: 4)
  --users <n>              users seeded through signup (default 200; --smoke: 40)
  --tasks <n>              tasks per user (default 5; --smoke: 2)
  --scenarios <a,b,...>    run only these (control, me, myTasks, login, refresh, me-under-login-load, argon2-raw,
                           register-new, register-taken, reset-known, reset-unknown)
  --smoke                  a short run for CI: fails only on errors or a scenario that did not complete
  --strict                 also exit non-zero when a target is missed
  --cpu-prof               run the server with --cpu-prof (profiles in dist/bench-profiles/) and print its top functions
  --out <file>             where to write the results (default bench/results.json)
  --scale                  then grow the database in SQL to 1M users, 5M sessions, 20M audit events, 2M tasks
                           and run the same scenarios again, with table sizes, plans and a purge under load
  --scale-factor <f>       the grown database's size as a fraction of that (default 1; CI's smoke: 0.001)
Environment: DATABASE_URL (a fresh database is created on that server and dropped afterwards;
otherwise an embedded PostgreSQL in a temporary folder), UV_THREADPOOL_SIZE (passed to the server
and the argon2-raw worker alike), THREAD_POOL_NICE, MALLOC_ARENA_MAX and NODE_OPTIONS (passed to
the server, so that their effect can be measured).`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      settle: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'login-connections': { type: 'string' },
      users: { type: 'string' },
      tasks: { type: 'string' },
      scenarios: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results.json' },
      scale: { type: 'boolean', default: false },
      'scale-factor': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const smoke = values.smoke ?? false;
  const options: BenchOptions = {
    durationSeconds: positive('duration', values.duration, smoke ? 2 : 10),
    rounds: Math.max(1, Math.round(positive('rounds', values.rounds, smoke ? 1 : 6))),
    warmupSeconds: positive('warmup', values.warmup, smoke ? 1 : 2),
    settleSeconds: positive('settle', values.settle, 0.5),
    connections: Math.max(1, Math.round(positive('connections', values.connections, smoke ? 8 : 32))),
    loginConnections: Math.max(
      1,
      Math.round(positive('login-connections', values['login-connections'], smoke ? 4 : 8)),
    ),
    users: Math.max(1, Math.round(positive('users', values.users, smoke ? 40 : 200))),
    tasksPerUser: Math.round(positive('tasks', values.tasks, smoke ? 2 : 5)),
    scenarios: values.scenarios
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    smoke,
    strict: values.strict ?? false,
    cpuProfile: values['cpu-prof'] ?? false,
    out: values.out ?? 'bench/results.json',
    scale: values.scale ? positive('scale-factor', values['scale-factor'], 1) : undefined,
  };
  if (options.durationSeconds < 1) throw new Error('--duration must be at least 1 second');
  return options;
}
