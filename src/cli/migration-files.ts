// The migrations folder as the migration CLIs see it: each migration in the house style, and
// migrations/index.ts written from the folder's files, so that nobody lists a migration by hand.
import type { MigrationDiff } from '@mikro-orm/core';
import { MigrationGenerator } from '@mikro-orm/migrations';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The name given to `migration:create`: it ends both the file name and the class name. */
export const MIGRATION_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const MIGRATION_FILE = /^(Migration\d{14}_[A-Za-z0-9_]+)\.ts$/;

/** A development command's formatter: Prettier is a devDependency, so it is loaded only here. */
async function formatTypeScript(code: string, file: string): Promise<string> {
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(file);
  return prettier.format(code, { ...options, filepath: file });
}

/** MikroORM's TypeScript migration, in the layout of the committed ones and Prettier-formatted. */
export class HouseStyleMigrationGenerator extends MigrationGenerator {
  override async generateMigrationFile(className: string, diff: MigrationDiff): Promise<string> {
    const name = className.replace(/^Migration\d+_?/, '');
    const statements = (sql: string[]) => sql.map((statement) => this.createStatement(statement, 4)).join('');
    let code = `import { Migration } from '@mikro-orm/migrations';\n\n`;
    code += `/** ${name}: written by \`npm run migration:create\` from the entities. */\n`;
    code += `export class ${className} extends Migration {\n  override name = '${className}';\n\n`;
    code += `  override up(): void {\n${statements(diff.up)}  }\n`;
    if (diff.down.length > 0) code += `\n  override down(): void {\n${statements(diff.down)}  }\n`;
    code += '}\n';
    return formatTypeScript(code, path.resolve(this.options.path ?? 'migrations', `${className}.ts`));
  }
}

/** The migrations in `folder`, oldest first (the timestamp in the name orders them). */
export async function listMigrationFiles(folder: string): Promise<string[]> {
  const names = (await readdir(folder)).flatMap((file) => MIGRATION_FILE.exec(file)?.[1] ?? []);
  return names.sort();
}

export function renderMigrationIndex(names: readonly string[]): string {
  const imports = names.map((name) => `import { ${name} } from './${name}.js';`).join('\n');
  const entries = names.map((name) => `  { name: '${name}', class: ${name} },`).join('\n');
  return `// Every migration, in order. Written by \`npm run migration:create\` from this folder's files;
// \`npm run migration:check\` fails when the entities and the migrated schema differ.
import type { MigrationObject } from '@mikro-orm/core';
${imports}

export const MIGRATIONS: MigrationObject[] = [
${entries}
];
`;
}

/** Rewrites `<folder>/index.ts` to list every migration file in the folder. */
export async function writeMigrationIndex(folder: string): Promise<void> {
  const file = path.join(folder, 'index.ts');
  await writeFile(file, await formatTypeScript(renderMigrationIndex(await listMigrationFiles(folder)), file));
}
