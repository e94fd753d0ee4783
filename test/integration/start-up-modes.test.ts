// The real process outside development: NODE_ENV=staging gets production's checks at start.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPath } from '../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-staging-'));
});
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await database.drop();
});

/** Runs Tessera until it exits or announces itself (then stops it); resolves with what it said. */
function runUntilReadyOrExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [buildPath('src', 'main.js')], {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready at/.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('NODE_ENV=staging without JWT_SECRET_KEY refuses to start, generating no secret', async () => {
  const { code, output } = await runUntilReadyOrExit({
    NODE_ENV: 'staging',
    DATABASE_URL: database.url,
    TESSERA_DATA_DIR: dataDir,
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
  });
  expect(output).not.toMatch(/ready at/);
  expect(code).toBe(78);
  expect(output).toMatch(/JWT_SECRET_KEY: is required unless NODE_ENV is development or test/);
  expect(output).toContain('openssl rand -base64 48');
  expect(existsSync(path.join(dataDir, 'jwt-secret'))).toBe(false);
});

const PRODUCTION = {
  NODE_ENV: 'production',
  ARGON2_MEMORY_KIB: '19456',
  ARGON2_TIME_COST: '2',
  JWT_SECRET_KEY: randomBytes(48).toString('base64url'),
  MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

test('production without SMTP_URL refuses to start while the mail flows are on, and starts with them off', async () => {
  const env = {
    ...PRODUCTION,
    DATABASE_URL: database.url,
    TESSERA_DATA_DIR: dataDir,
    APP_URL: 'https://app.example.com',
  };
  const refused = await runUntilReadyOrExit(env);
  expect(refused.code).toBe(78);
  expect(refused.output).toMatch(/SMTP_URL: is required in production while MAIL_FLOWS is on/);
  expect(refused.output).not.toMatch(/ready at/);

  const off = await runUntilReadyOrExit({ ...env, MAIL_FLOWS: 'off' });
  expect(off.output).toMatch(/ready at/);
});

test('production with SMTP_URL and APP_URL starts, and never prints the SMTP password', async () => {
  const { output } = await runUntilReadyOrExit({
    ...PRODUCTION,
    DATABASE_URL: database.url,
    TESSERA_DATA_DIR: dataDir,
    SMTP_URL: 'smtp://mailer:smtp-password-9f2c@127.0.0.1:9/',
    APP_URL: 'https://app.example.com',
    LOG_LEVEL: 'debug',
  });
  expect(output).toMatch(/ready at/);
  expect(output).not.toContain('smtp-password-9f2c');
});
