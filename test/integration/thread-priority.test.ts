// The hashing threads yield the CPU to the event loop: the nice value of each thread of a real
// server process, read from /proc (Linux, as on the machines that run this suite).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase;
const started: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  await database.drop();
});

interface ThreadInfo {
  name: string;
  nice: number;
}

function threadsOf(pid: number): ThreadInfo[] {
  return readdirSync(`/proc/${pid}/task`).map((task) => {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    // After "pid (comm) ", the fields run from the 3rd (state); nice is the 19th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name: readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim(), nice: Number(fields[16]) };
  });
}

function eventLoopNice(threads: ThreadInfo[]): number {
  return threads.find((thread) => thread.name === 'MainThread')!.nice;
}

async function start(extraEnv: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({
    DATABASE_URL: database.url,
    JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    ...extraEnv,
  });
  started.push(server);
  return server;
}

test('every thread of the hashing pool runs THREAD_POOL_NICE levels below the event loop, which keeps its own, and logins still work', async () => {
  const server = await start({ THREAD_POOL_NICE: '7', UV_THREADPOOL_SIZE: '3' });
  const threads = threadsOf(server.pid);
  const pool = threads.filter((thread) => thread.name === 'libuv-worker');
  // Relative to the process's own level, inherited from this runner (0 unless run under `nice`).
  const own = eventLoopNice(threads);
  expect(own).toBe(eventLoopNice(threadsOf(process.pid)));
  expect(pool).toHaveLength(3);
  expect(pool.map((thread) => thread.nice)).toEqual(Array(3).fill(Math.min(19, own + 7)));
  expect(threads.filter((thread) => thread.name !== 'libuv-worker').every((thread) => thread.nice === own)).toBe(true);

  await server.client.signup('niced');
  const login = await server.client.login('niced');
  expect(login.errors).toBeUndefined();
  expect(login.data?.login.accessToken).toEqual(expect.any(String));
}, 60_000);

test('THREAD_POOL_NICE=0 leaves the hashing pool at the normal priority', async () => {
  const server = await start({ THREAD_POOL_NICE: '0', UV_THREADPOOL_SIZE: '2' });
  const pool = threadsOf(server.pid).filter((thread) => thread.name === 'libuv-worker');
  const own = eventLoopNice(threadsOf(server.pid));
  expect(pool).toHaveLength(2);
  expect(pool.every((thread) => thread.nice === own)).toBe(true);
}, 60_000);

test('without THREAD_POOL_NICE the hashing pool runs 10 levels below the event loop (README, Configuration)', async () => {
  const server = await start({ UV_THREADPOOL_SIZE: '2' });
  const threads = threadsOf(server.pid);
  const own = eventLoopNice(threads);
  const pool = threads.filter((thread) => thread.name === 'libuv-worker');
  expect(pool).toHaveLength(2);
  expect(pool.map((thread) => thread.nice)).toEqual([Math.min(19, own + 10), Math.min(19, own + 10)]);
}, 60_000);
