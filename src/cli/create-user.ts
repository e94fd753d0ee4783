// npm run user:create -- --username NAME --email E [--role ADMIN] [--role USER]
// The password is read from standard input (piped), or asked for at a prompt without echo.
// The help text says how a new ADMIN enrols its second factor (ADMIN_REQUIRE_MFA).
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { AuthError } from '../auth/auth-error.js';
import { createAuthServices } from '../auth/services.js';
import { loadConfig } from '../config.js';
import { resolveDatabase } from '../db/embedded.js';
import { Role } from '../db/entities/index.js';
import { openDatabase } from '../db/orm.js';
import { runCommand } from './run-command.js';

const USAGE =
  'usage: npm run user:create -- --username NAME --email EMAIL [--role ADMIN] (password on stdin or at the prompt)';

const HELP = `${USAGE}

An ADMIN made here has no second factor. While ADMIN_REQUIRE_MFA is on (the default in
production) ADMIN-only fields (queries and mutations) need one, so the new ADMIN enrols first: log in, call
startTotpEnrollment, add the secret to an authenticator app, then confirmTotpEnrollment with a
code (keep the recovery codes it returns). Later logins finish with completeMfaLogin.`;

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    // One trailing newline is the terminator of the piped line, not part of the password.
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  process.stdout.write('Password: ');
  // Hide what is typed: readline echoes through _writeToOutput.
  (prompt as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => {};
  const password = await new Promise<string>((resolve) => prompt.question('', resolve));
  prompt.close();
  process.stdout.write('\n');
  return password;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        username: { type: 'string' },
        email: { type: 'string' },
        role: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // An unknown or malformed option is a usage mistake, not a crash: no stack trace.
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.username || !values.email) {
    console.error(USAGE);
    return 64;
  }
  const roles = (values.role ?? ['USER']).map((role) => role.toUpperCase());
  const unknown = roles.filter((role) => !(Object.values(Role) as string[]).includes(role));
  if (unknown.length > 0) {
    console.error(`unknown role ${unknown.join(', ')}; roles are ${Object.values(Role).join(', ')}`);
    return 64;
  }
  const { config } = loadConfig(process.env);
  const password = await readPassword();
  const database = await resolveDatabase(config);
  const orm = await openDatabase(database.url, config);
  const services = createAuthServices(config, database.url);
  try {
    const user = await services.accounts.createUser(orm.em.fork(), {
      username: values.username,
      email: values.email,
      password,
      roles: [...new Set([Role.USER, ...(roles as Role[])])],
    });
    console.log(`created user ${user.username} (${user.id}) with roles ${user.roles.join(', ')}`);
    return 0;
  } catch (error) {
    if (error instanceof AuthError) {
      console.error(`cannot create the user: ${error.publicMessage} (${error.reason})`);
      return 65;
    }
    throw error;
  } finally {
    await services.close();
    await orm.close();
    await database.stop();
  }
}

runCommand(main);
