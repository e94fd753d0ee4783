// npm run migration:create -- NAME
// Migrates the database up, then writes migrations/Migration<timestamp>_NAME.ts with the SQL that
// brings it to the entities (MikroORM's migrator, with the server's own ORM options) and lists the
// new file in migrations/index.ts. The database is DATABASE_URL's, or the embedded one.
import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { resolveDatabase } from '../db/embedded.js';
import { buildOrmOptions } from '../db/orm.js';
import { HouseStyleMigrationGenerator, MIGRATION_NAME, writeMigrationIndex } from './migration-files.js';
import { runCommand } from './run-command.js';

const USAGE =
  'usage: npm run migration:create -- NAME (lower case, digits and _, e.g. notes); run from the project root';

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const folder = path.resolve('migrations');
  if (positionals.length !== 1 || !MIGRATION_NAME.test(positionals[0]) || !existsSync(path.join(folder, 'index.ts'))) {
    console.error(USAGE);
    return 64;
  }
  const { config } = loadConfig(process.env);
  const database = await resolveDatabase(config);
  try {
    const options = buildOrmOptions(database.url, config);
    const orm = await MikroORM.init({
      ...options,
      migrations: { ...options.migrations, path: folder, generator: HouseStyleMigrationGenerator },
    });
    try {
      await orm.migrator.up();
      const { fileName } = await orm.migrator.create(folder, false, false, positionals[0]);
      if (!fileName) {
        console.log('no migration written: the migrated schema already matches the entities');
        return 0;
      }
      await writeMigrationIndex(folder);
      console.log(`wrote migrations/${fileName} and listed it in migrations/index.ts: review its SQL`);
      return 0;
    } finally {
      await orm.close();
    }
  } finally {
    await database.stop();
  }
}

runCommand(main, USAGE);
