// npm run migration:check
// Fails (exit 1) when the migrations do not build exactly the tables the entities describe: it
// migrates the database up (DATABASE_URL's, or the embedded one) and asks MikroORM for the diff.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from '../../migrations/index.js';
import { loadConfig } from '../config.js';
import { resolveDatabase } from '../db/embedded.js';
import { openDatabase } from '../db/orm.js';
import { listMigrationFiles } from './migration-files.js';
import { runCommand } from './run-command.js';

/** Migration files in the folder that migrations/index.ts does not list (so would never run). */
async function unlistedMigrations(): Promise<string[]> {
  const folder = path.resolve('migrations');
  if (!existsSync(folder)) return [];
  const listed = new Set(MIGRATIONS.map((migration) => migration.name));
  return (await listMigrationFiles(folder)).filter((name) => !listed.has(name));
}

async function main(): Promise<number> {
  const unlisted = await unlistedMigrations();
  if (unlisted.length > 0) {
    console.error(
      `migrations/index.ts does not list ${unlisted.join(', ')}: \`npm run migration:create\` writes the list`,
    );
    return 1;
  }
  const { config } = loadConfig(process.env);
  const database = await resolveDatabase(config);
  try {
    const orm = await openDatabase(database.url, config);
    try {
      if (!(await orm.migrator.checkSchema())) {
        console.log(`ok: the ${MIGRATIONS.length} migrations build exactly the tables the entities describe`);
        return 0;
      }
      const { up } = await orm.schema.getUpdateSchemaMigrationSQL({ wrap: false });
      console.error(
        `the entities differ from the migrated schema; write the migration with \`npm run migration:create -- NAME\`.\nMissing SQL:\n${up.trim()}`,
      );
      return 1;
    } finally {
      await orm.close();
    }
  } finally {
    await database.stop();
  }
}

runCommand(main);
