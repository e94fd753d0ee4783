// One PostgreSQL for the whole run: the server named by DATABASE_URL, or an embedded one in a
// temporary folder. Each test file then creates a database of its own on it (test-database.ts).
//
// Plain JavaScript: jest imports global setup natively, outside ts-jest, so this file loads
// src/db/embedded.ts through Node's own type stripping (it has only erasable TypeScript).
import { mkdtempSync } from 'node:fs';
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

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TESSERA_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const { startEmbeddedPostgres } = await import('../../src/db/embedded.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-test-pg-'));
  const database = await startEmbeddedPostgres({ dataDir, port: await findFreePort(), database: 'tessera_test' });
  process.env.TESSERA_TEST_ADMIN_URL = database.url;
  globalThis.__TESSERA_EMBEDDED__ = { stop: database.stop, dataDir };
}
