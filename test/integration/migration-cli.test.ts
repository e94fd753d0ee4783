// The developer's migration commands, run as real processes on a real PostgreSQL:
// `migration:check` fails when the entities and the migrated schema differ, and
// `migration:create` writes the missing migration and lists it. Each run works in a temporary
// copy of migrations/, so the repository's own folder is never written.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import pg from 'pg';
import { runProcess, type ProcessRun } from '../helpers/run-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const COMMITTED = [
  'Migration20261123000000_initial',
  'Migration20261123010000_rate_limits',
  'Migration20261202233006_session_generation',
  'Migration20261203080000_session_transport',
  'Migration20261203113134_mail_and_account_tokens',
  'Migration20261203150507_two_factor',
  'Migration20261203153414_purge_and_list_indexes',
];

let project: string;
let databases: TestDatabase[] = [];

/** A project folder holding a copy of the committed migrations and the Prettier settings. */
async function copyProject(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'tessera-migrations-'));
  await cp(path.resolve('migrations'), path.join(folder, 'migrations'), { recursive: true });
  await cp(path.resolve('.prettierrc.json'), path.join(folder, '.prettierrc.json'));
  return folder;
}

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

/** The compiled CLI (`create-migration` or `check-migrations`), run in `project` as npm would. */
function runCli(cli: string, database: TestDatabase, args: string[] = []): Promise<ProcessRun> {
  const script = path.join(process.env.TESSERA_TEST_BUILD_DIR!, 'src', 'cli', `${cli}.js`);
  return runProcess(process.execPath, [script, ...args], {
    cwd: project,
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
      TESSERA_DATA_DIR: path.join(project, 'unused-data'),
    },
  });
}

async function execute(database: TestDatabase, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function migrationFiles(): Promise<string[]> {
  return (await readdir(path.join(project, 'migrations'))).filter((file) => file !== 'index.ts').sort();
}

async function isPrettierFormatted(file: string): Promise<boolean> {
  const options = await prettier.resolveConfig(file);
  return prettier.check(await readFile(file, 'utf8'), { ...options, filepath: file });
}

beforeEach(async () => {
  project = await copyProject();
});
afterEach(() => rm(project, { recursive: true, force: true }));
afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  databases = [];
});

describe('npm run migration:check', () => {
  test('passes on a database migrated from empty, since the migrations build what the entities describe', async () => {
    const run = await runCli('check-migrations', await freshDatabase());
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^ok: the ${COMMITTED.length} migrations build exactly the tables the entities describe`),
      ),
      stderr: '',
    });
  });

  test('fails with the missing SQL and the command to run when the schema lacks what an entity declares', async () => {
    const database = await freshDatabase();
    expect((await runCli('check-migrations', database)).code).toBe(0);
    await execute(database, 'alter table tasks drop column done');
    const run = await runCli('check-migrations', database);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the entities differ from the migrated schema/);
    expect(run.stderr).toMatch(/npm run migration:create -- NAME/);
    expect(run.stderr).toMatch(/alter table "tasks" add (column )?"done" boolean/);
  });

  test('fails, naming the file, when a migration in the folder is missing from migrations/index.ts', async () => {
    const stray = 'Migration20990101000000_stray';
    await writeFile(path.join(project, 'migrations', `${stray}.ts`), '// never listed\n');
    const run = await runCli('check-migrations', await freshDatabase());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`migrations/index.ts does not list ${stray}`);
  });
});

describe('npm run migration:create', () => {
  test('migrates an empty database up first, so that it writes nothing when the entities match the migrations', async () => {
    const database = await freshDatabase();
    const run = await runCli('create-migration', database, ['nothing_new']);
    expect({ code: run.code, stdout: run.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/no migration written: the migrated schema already matches the entities/),
    });
    expect(await migrationFiles()).toEqual(COMMITTED.map((name) => `${name}.ts`));
    expect((await runCli('check-migrations', database)).code).toBe(0);
  });

  test('writes the missing SQL as the next migration, up and down, in the committed layout and Prettier-formatted', async () => {
    const database = await freshDatabase();
    expect((await runCli('check-migrations', database)).code).toBe(0);
    await execute(database, 'alter table tasks drop column done');
    const run = await runCli('create-migration', database, ['restore_done']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    const files = await migrationFiles();
    expect(files).toHaveLength(COMMITTED.length + 1);
    const written = files[COMMITTED.length].replace(/\.ts$/, '');
    expect(written).toMatch(/^Migration\d{14}_restore_done$/);
    expect(run.stdout).toContain(`wrote migrations/${written}.ts and listed it in migrations/index.ts`);
    const file = path.join(project, 'migrations', `${written}.ts`);
    const code = await readFile(file, 'utf8');
    expect(code).toContain(`export class ${written} extends Migration {`);
    expect(code).toContain(`override name = '${written}';`);
    expect(code).toMatch(/override up\(\): void \{\s+this\.addSql\(`alter table "tasks" add (column )?"done" boolean/);
    expect(code).toMatch(/override down\(\): void \{\s+this\.addSql\(`alter table "tasks" drop column "done";`\);/);
    expect(await isPrettierFormatted(file)).toBe(true);
  });

  test('lists the new migration last in migrations/index.ts, after the committed ones, Prettier-formatted', async () => {
    const database = await freshDatabase();
    expect((await runCli('check-migrations', database)).code).toBe(0);
    await execute(database, 'drop index tasks_owner_id_created_at_index');
    expect((await runCli('create-migration', database, ['task_index'])).code).toBe(0);
    const index = path.join(project, 'migrations', 'index.ts');
    const listed = [...(await readFile(index, 'utf8')).matchAll(/\{ name: '(\w+)', class: (\w+) \}/g)];
    expect(listed.map(([, name]) => name).slice(0, COMMITTED.length)).toEqual(COMMITTED);
    expect(listed).toHaveLength(COMMITTED.length + 1);
    const [, name, className] = listed[COMMITTED.length];
    expect(name).toMatch(/^Migration\d{14}_task_index$/);
    expect(className).toBe(name);
    expect(await readFile(index, 'utf8')).toContain(`import { ${name} } from './${name}.js';`);
    expect(await isPrettierFormatted(index)).toBe(true);
  });

  test.each([[[]], [['Notes']], [['two', 'names']], [['--force']]])(
    'refuses the arguments %j with the usage and exit code 64, writing nothing',
    async (args) => {
      const run = await runCli('create-migration', await freshDatabase(), args);
      expect(run.code).toBe(64);
      expect(run.stderr).toMatch(/usage: npm run migration:create -- NAME/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(await migrationFiles()).toEqual(COMMITTED.map((name) => `${name}.ts`));
    },
  );
});
