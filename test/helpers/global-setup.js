// One PostgreSQL for the whole run: the server named by DATABASE_URL, or an embedded one in a
// temporary folder. Each test file then creates a database of its own on it (test-database.ts).
//
// Plain JavaScript: jest imports global setup natively, outside ts-jest, so this file loads
// src/db/embedded.ts through Node's own type stripping (it has only erasable TypeScript).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

function findFreePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Compiles the project once, for the tests that run Tessera as real separate processes (several
 * instances on one database, the operator CLI). Inside node_modules so that the compiled files
 * resolve their packages; away from dist/ so that `npm start` in another shell is not disturbed.
 */
function compileProject() {
  const outDir = path.resolve('node_modules/.cache/tessera-test-build');
  rmSync(outDir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const tsc = spawn(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', outDir, '--incremental', 'false'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    tsc.stdout.on('data', (chunk) => (output += chunk));
    tsc.stderr.on('data', (chunk) => (output += chunk));
    // tsc emits despite type errors; only errors in the server's own code make the build unusable
    // (a test file's errors are reported by ts-jest for that file).
    tsc.on('close', (code) => {
      const serverErrors = output.split('\n').filter((line) => /^(src|migrations)\//.test(line));
      if (code === 0 || (serverErrors.length === 0 && existsSync(path.join(outDir, 'src', 'main.js')))) resolve(outDir);
      else reject(new Error(`tsc failed:\n${output}`));
    });
  });
}

async function startDatabase() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  const { startEmbeddedPostgres, embeddedSuperuserUrl } = await import('../../src/db/embedded.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-test-pg-'));
  const port = await findFreePort();
  const database = await startEmbeddedPostgres({ dataDir, port, database: 'tessera_test' });
  // The tests create a database per file, which Tessera's own role may not do: they use the superuser.
  return { url: embeddedSuperuserUrl(dataDir, port, 'tessera_test'), embedded: { stop: database.stop, dataDir } };
}

export default async function globalSetup() {
  const [database, buildDir] = await Promise.all([startDatabase(), compileProject()]);
  process.env.TESSERA_TEST_ADMIN_URL = database.url;
  process.env.TESSERA_TEST_BUILD_DIR = buildDir;
  globalThis.__TESSERA_EMBEDDED__ = database.embedded;
}
