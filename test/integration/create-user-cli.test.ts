// The operator's way to a first ADMIN, exactly as the README gives it:
// `npm run user:create -- --username NAME --email E --role ADMIN`, the password on stdin.
// npm builds the project first, hence the long timeout.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { User } from '../../src/db/entities/index.js';
import { onlyError } from '../helpers/graphql-client.js';
import { runProcess, type ProcessRun } from '../helpers/run-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, TEST_ENV, type TestServer } from '../helpers/test-server.js';

const THREE_BUILDS_MS = 120_000;

const ROOT_PASSWORD = 'operator chosen password';

let database: TestDatabase;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  database = await createTestDatabase();
  env = {
    ...process.env,
    DATABASE_URL: database.url,
    ...TEST_ENV,
    JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    // Never written: the secret is given and the database is not embedded.
    TESSERA_DATA_DIR: path.join(tmpdir(), 'tessera-test-unused-data'),
  };
});
afterAll(() => database?.drop());

/** `npm run --silent user:create -- <args>` with `input` piped to stdin. */
function createUser(args: string[], input: string): Promise<ProcessRun> {
  return runProcess('npm', ['run', '--silent', 'user:create', '--', ...args], { cwd: process.cwd(), env, input });
}

async function countUsers(app: TestServer, usernameKey: string): Promise<number> {
  return app.orm.em.fork().count(User, { usernameKey });
}

// Sequential on purpose: every run rebuilds dist/ first.
describe('npm run user:create', () => {
  let root: ProcessRun;
  let badRole: ProcessRun;
  let weak: ProcessRun;
  let app: TestServer;

  beforeAll(async () => {
    root = await createUser(
      ['--username', 'root1', '--email', 'r@example.com', '--role', 'ADMIN'],
      `${ROOT_PASSWORD}\n`,
    );
    badRole = await createUser(
      ['--username', 'root2', '--email', 'r2@example.com', '--role', 'SUPERUSER'],
      `${ROOT_PASSWORD}\n`,
    );
    weak = await createUser(['--username', 'root3', '--email', 'r3@example.com', '--role', 'ADMIN'], 'short\n');
    // The same database the CLI wrote to, now served over HTTP.
    app = await startTestServer({}, database);
  }, THREE_BUILDS_MS);
  afterAll(() => app?.stop());

  test('creates the account and exits 0', () => {
    // Compared with its output, so that a failed run (say, npm's build) shows why.
    expect({ code: root.code, stdout: root.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/created user root1 \([0-9a-f-]{36}\) with roles .*ADMIN/),
    });
    expect(root.stderr).not.toMatch(/error|cannot/i);
  });

  test('gives the created account ADMIN and USER, usable at once by logging in over HTTP with the piped password', async () => {
    const login = await app.client.login('root1', ROOT_PASSWORD);
    expect(login.errors).toBeUndefined();
    expect(login.data!.login.user).toMatchObject({ username: 'root1', email: 'r@example.com', isActive: true });
    expect([...login.data!.login.user.roles].sort()).toEqual(['ADMIN', 'USER']);
    const users = await app.client.request('{ users { username } }', {}, { token: login.data!.login.accessToken });
    expect(users.errors).toBeUndefined();
    expect(users.data.users.map((user: { username: string }) => user.username)).toContain('root1');
  });

  test('does not take the trailing newline of the piped password as part of it', async () => {
    expect((await app.client.login('root1', ROOT_PASSWORD)).errors).toBeUndefined();
    const withNewline = await app.client.login('root1', `${ROOT_PASSWORD}\n`);
    expect(onlyError(withNewline).extensions?.reason).toBe('INVALID_CREDENTIALS');
  });

  test('refuses an unknown role with exit code 64 and creates nothing', async () => {
    expect({ code: badRole.code, stdout: badRole.stdout, stderr: badRole.stderr }).toEqual({
      code: 64,
      stdout: expect.any(String),
      stderr: expect.stringMatching(/unknown role SUPERUSER/),
    });
    expect(await countUsers(app, 'root2')).toBe(0);
  });

  test('refuses a weak password with a non-zero exit naming WEAK_PASSWORD and creates nothing', async () => {
    expect({ stdout: weak.stdout, stderr: weak.stderr }).toEqual({
      stdout: expect.any(String),
      stderr: expect.stringMatching(/WEAK_PASSWORD/),
    });
    expect(weak.code).not.toBe(0);
    expect(weak.code).not.toBeNull();
    expect(await countUsers(app, 'root3')).toBe(0);
  });
});

describe('npm run user:create options', () => {
  let help: ProcessRun;
  let unknownOption: ProcessRun;

  beforeAll(async () => {
    help = await createUser(['--help'], '');
    unknownOption = await createUser(['--username', 'x', '--email', 'x@example.com', '--frobnicate'], '');
  }, THREE_BUILDS_MS);

  test('--help prints the usage and exits 0', () => {
    // Node itself notes on stderr that there is no .env to read, so only stdout is pinned.
    expect({ code: help.code, stdout: help.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^usage: npm run user:create -- --username NAME --email EMAIL/),
    });
    expect(help.stderr).not.toMatch(/usage|error/i);
  });

  test('--help says how a new ADMIN enrols its second factor', () => {
    expect(help.stdout).toMatch(/ADMIN_REQUIRE_MFA/);
    expect(help.stdout).toMatch(/startTotpEnrollment[\s\S]*confirmTotpEnrollment[\s\S]*completeMfaLogin/);
  });

  test('an unknown option prints the usage to stderr and exits 64, without a stack trace', () => {
    expect({ code: unknownOption.code, stderr: unknownOption.stderr }).toEqual({
      code: 64,
      stderr: expect.stringMatching(/--frobnicate[\s\S]*usage: npm run user:create/),
    });
    expect(unknownOption.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('npm run user:create with a .env file', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'tessera-env-file-'));
    // The built CLI, run from a folder of its own whose .env alone names the database.
    symlinkSync(path.resolve('dist'), path.join(workDir, 'dist'));
    writeFileSync(path.join(workDir, '.env'), `DATABASE_URL=${database.url}\n`);
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  test('reads the settings from .env in the folder it runs from', async () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    // The script's own node command, without the build npm already ran for the tests above.
    const nodeCommand = scripts['user:create'].replace(/^npm run --silent build && /, '');
    const { DATABASE_URL: _fromTheTest, ...withoutDatabase } = env;
    const created = await runProcess('sh', ['-c', `${nodeCommand} --username fromenv --email fromenv@example.com`], {
      cwd: workDir,
      env: withoutDatabase,
      input: `${ROOT_PASSWORD}\n`,
    });
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const app = await startTestServer({}, database);
    try {
      expect(await countUsers(app, 'fromenv')).toBe(1);
    } finally {
      await app.stop();
    }
  });
});

describe('npm run user:create on the embedded PostgreSQL', () => {
  let dataDir: string;
  const port = 20_000 + Math.floor(Math.random() * 20_000);

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-embedded-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  function createEmbeddedUser(username: string): Promise<ProcessRun> {
    const { DATABASE_URL: _none, ...embeddedEnv } = env;
    return runProcess(
      process.execPath,
      ['dist/src/cli/create-user.js', '--username', username, '--email', `${username}@example.com`],
      {
        cwd: process.cwd(),
        // A port unlike the running cluster's: the CLI must take the port the cluster runs on.
        env: { ...embeddedEnv, TESSERA_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(port + 1) },
        input: `${ROOT_PASSWORD}\n`,
      },
    );
  }

  async function usernames(url: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ username: string }>('select username from users order by username');
      return rows.map((row) => row.username);
    } finally {
      await client.end();
    }
  }

  test(
    'creates the user in the cluster a running server already holds, and leaves it running',
    async () => {
      const running = await startEmbeddedPostgres({ dataDir, port, database: 'tessera' });
      try {
        const created = await createEmbeddedUser('whilerunning');
        expect({ code: created.code, stdout: created.stdout }).toEqual({
          code: 0,
          stdout: expect.stringMatching(/created user whilerunning/),
        });
        expect(await usernames(running.url)).toContain('whilerunning');
      } finally {
        await running.stop();
      }
    },
    THREE_BUILDS_MS,
  );

  test(
    'starts and stops the cluster itself when no server runs',
    async () => {
      const created = await createEmbeddedUser('alone');
      expect({ code: created.code, stdout: created.stdout }).toEqual({
        code: 0,
        stdout: expect.stringMatching(/created user alone/),
      });
      const again = await startEmbeddedPostgres({ dataDir, port, database: 'tessera' });
      try {
        expect(await usernames(again.url)).toEqual(expect.arrayContaining(['alone', 'whilerunning']));
      } finally {
        await again.stop();
      }
    },
    THREE_BUILDS_MS,
  );
});
